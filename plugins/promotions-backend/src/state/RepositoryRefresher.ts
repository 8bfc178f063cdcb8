import crypto from 'node:crypto';
import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  ANNOTATION_REPOSITORY,
  environmentPath,
} from '@gitops-promotions/plugin-promotions-common';
import {
  CommitInfo,
  LiveStateSource,
  probesDigest,
  probesHold,
  PromotionsConfig,
  PromotionsRepositoriesService,
  PromotionsResolverService,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import { readLiveStates } from '../live/readLiveStates';
import { computeEntityPromotions } from './computeEntityPromotions';
import {
  EntityTarget,
  readEntityTarget,
  resolveOptionsOf,
  targetKey,
} from './entityTarget';
import { toLastChange } from './lastChange';
import {
  EnvironmentKey,
  PromotionsStore,
  RepositoryRefreshResult,
  StoredEnvironment,
} from './PromotionsStore';
import { resolveForState } from './resolution';
import { protectSecrets, SecretProtection } from './secrets';
import { timelineAt, VersionTimeline } from './timeline';
import { untilAborted } from '../untilAborted';
import { ENTITY_FIELDS } from './entityFields';

/** Bumped whenever what is computed from the same inputs changes, so stored states are redone. */
const COMPUTATION_VERSION = 3;
/** Environments resolved at once, so that reading files from a slow provider overlaps. */
const CONCURRENCY = 8;

/** What one refresh of one repository did, for the log and for the benchmark. */
export interface RefreshSummary {
  repositoryId: string;
  revision: string | null;
  entities: number;
  environments: number;
  /** Environments resolved again because one of their inputs changed. */
  resolved: number;
  /** Entities whose state was computed again; the others only got a new age. */
  recomputed: number;
  failed: number;
  durationMs: number;
  /** When the repository's head was asked for: changes asked about before it are in this refresh. */
  readAt: Date;
}

const errorMessage = (error: unknown) =>
  error instanceof Error ? error.message : String(error);

const hash = (value: unknown) =>
  crypto.createHash('sha256').update(JSON.stringify(value)).digest('hex');

/** Runs `work` over `items`, at most `limit` at a time, stopping at the first failure. */
async function forEachLimit<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>,
) {
  let next = 0;
  const runners = Array.from(
    { length: Math.min(limit, items.length) },
    async () => {
      while (next < items.length) await work(items[next++]);
    },
  );
  await Promise.all(runners);
}

/** One environment during a refresh: kept from the store, or resolved again. */
interface EnvironmentWork {
  target: EntityTarget;
  name: string;
  path: string;
  recipe: string;
  stored?: EnvironmentKey;
  fresh?: Omit<StoredEnvironment, 'timeline'> & { timeline?: VersionTimeline };
  identity: string;
  /** Why it could not be read again: its entity keeps its last known state, with this beside it. */
  failure?: string;
}

/**
 * Refreshes one repository: reads its head, resolves again only the environments whose inputs
 * changed (Git object ids tell), recomputes only the entities that depend on them, and writes
 * the whole refresh in one transaction. The only part of the backend that reads repositories;
 * page views read the store.
 */
export class RepositoryRefresher {
  constructor(
    private readonly deps: {
      config: PromotionsConfig;
      repositories: PromotionsRepositoriesService;
      resolver: PromotionsResolverService;
      store: PromotionsStore;
      secrets: SecretProtection;
      catalog: CatalogService;
      auth: AuthService;
      logger: LoggerService;
      /** Entities read from the catalog per request. */
      catalogPageSize?: number;
      /** Asked about every entity's environments at each refresh; their answers are stored. */
      liveStateSources?: LiveStateSource[];
      /** How long a live-state source may take to answer for one entity. */
      liveStateTimeoutMs?: number;
    },
  ) {}

  /**
   * Refreshes a repository. With `leaseOwner`, the refresh writes only while that owner still
   * holds the repository's lease; `signal` stops it, writing nothing.
   */
  async refresh(
    repositoryId: string,
    options: { signal?: AbortSignal; leaseOwner?: string } = {},
  ): Promise<RefreshSummary> {
    const { store, config } = this.deps;
    const { signal, leaseOwner } = options;
    const started = Date.now();
    const summary: RefreshSummary = {
      repositoryId,
      revision: null,
      entities: 0,
      environments: 0,
      resolved: 0,
      recomputed: 0,
      failed: 0,
      durationMs: 0,
      readAt: new Date(),
    };
    const entities = await this.annotatedEntities(repositoryId, signal);
    summary.entities = entities.length;
    const byRef = new Map(entities.map(e => [stringifyEntityRef(e), e]));
    const targets: EntityTarget[] = [];
    const failures: Array<{ entityRef: string; message: string }> = [];
    for (const entity of entities) {
      try {
        targets.push(readEntityTarget(entity, config));
      } catch (error) {
        failures.push({
          entityRef: stringifyEntityRef(entity),
          message: errorMessage(error),
        });
      }
    }
    summary.failed = failures.length;

    const repository = await this.deps.repositories.get(repositoryId);
    let snapshot: RepositorySnapshot;
    summary.readAt = new Date();
    try {
      snapshot = await untilAborted(repository.snapshot(), signal);
    } catch (error) {
      signal?.throwIfAborted();
      const message = errorMessage(error);
      this.deps.logger.warn(
        `Could not read repository ${repositoryId}: ${message}`,
      );
      await store.saveRepositoryError({
        repositoryId,
        leaseOwner,
        entityRefs: targets.map(t => t.entityRef),
        message: `Repository ${repositoryId} could not be read: ${message}`,
        at: new Date(),
      });
      summary.failed = entities.length;
      summary.durationMs = Date.now() - started;
      return summary;
    }
    summary.revision = snapshot.commit;
    signal?.throwIfAborted();
    // A published layout is merged once its catalog file is on the branch the repository is read from.
    for (const scaffold of await store.scaffolds({ repositoryId })) {
      if (scaffold.state === 'pending' && snapshot.files.has(scaffold.path)) {
        await store.markScaffoldMerged(scaffold.entityRef, new Date());
      }
    }

    const keys = new Map(
      (await store.environmentKeys(repositoryId)).map(key => [
        `${key.entityRef}\0${key.environment}`,
        key,
      ]),
    );
    const work: EnvironmentWork[] = [];
    for (const target of targets) {
      for (const env of target.pipeline) {
        const path = environmentPath(target.pathTemplate, env.name);
        const recipe = hash([
          COMPUTATION_VERSION,
          path,
          target.image ?? null,
          target.versionKey ?? null,
          target.repository.paths ?? null,
        ]);
        const stored = keys.get(`${target.entityRef}\0${env.name}`);
        const keep =
          stored?.recipe === recipe &&
          stored.probes !== null &&
          probesHold(stored.probes, snapshot);
        work.push({
          target,
          name: env.name,
          path,
          recipe,
          stored,
          identity: keep ? probesDigest(stored!.probes!) : '',
        });
      }
    }
    summary.environments = work.length;

    const toResolve = work.filter(w => !w.identity);
    await forEachLimit(toResolve, CONCURRENCY, async item => {
      signal?.throwIfAborted();
      const { resolution, probes } = await resolveForState(
        this.deps.resolver,
        snapshot,
        item.path,
        resolveOptionsOf(item.target),
        {
          repositoryId,
          environment: item.name,
          logger: this.deps.logger,
          signal,
        },
      );
      if (resolution.ok) {
        resolution.comparable = protectSecrets(
          resolution.comparable,
          this.deps.secrets,
        );
      }
      let last: CommitInfo | undefined;
      try {
        [last] = await untilAborted(
          repository.history(snapshot.commit, resolution.inputs, 1),
          signal,
        );
      } catch (error) {
        signal?.throwIfAborted();
        this.deps.logger.warn(
          `Could not read the history of environment ${item.name} (${
            item.path
          }) of repository ${repositoryId} at ${
            snapshot.commit
          }: ${errorMessage(error)}`,
        );
        // Served, so it names only the repository and environment, as resolution errors do.
        item.failure = `Repository ${repositoryId}: the history of environment ${item.name} could not be read; the backend's log says why`;
        item.identity = crypto.randomUUID();
        return;
      }
      item.fresh = {
        entityRef: item.target.entityRef,
        environment: item.name,
        repositoryId,
        recipe: item.recipe,
        revision: snapshot.commit,
        probes,
        resolution,
        lastChange: toLastChange(last),
      };
      // Without probes (the repository failed to answer), the result is never reused.
      item.identity = probes ? probesDigest(probes) : crypto.randomUUID();
    });
    summary.resolved = toResolve.length;
    const unread = new Map<string, string[]>();
    for (const item of toResolve) {
      if (!item.failure) continue;
      const ref = item.target.entityRef;
      unread.set(ref, [...(unread.get(ref) ?? []), item.failure]);
    }
    for (const [entityRef, messages] of unread) {
      summary.failed++;
      failures.push({ entityRef, message: messages.join('; ') });
    }

    const byEntity = new Map<string, EnvironmentWork[]>();
    for (const item of work) {
      const list = byEntity.get(item.target.entityRef) ?? [];
      list.push(item);
      byEntity.set(item.target.entityRef, list);
    }
    const live = await readLiveStates({
      sources: this.deps.liveStateSources ?? [],
      entities: targets.map(target => ({
        entity: byRef.get(target.entityRef)!,
        environments: target.pipeline.map(env => env.name),
      })),
      logger: this.deps.logger,
      signal,
      concurrency: CONCURRENCY,
      timeoutMs: this.deps.liveStateTimeoutMs,
    });
    const fingerprints = await store.fingerprints(repositoryId);
    const changed: Array<{ target: EntityTarget; fingerprint: string }> = [];
    for (const target of targets) {
      if (unread.has(target.entityRef)) continue;
      const fingerprint = hash([
        COMPUTATION_VERSION,
        targetKey(target),
        byRef.get(target.entityRef),
        config.expectedKeys,
        byEntity.get(target.entityRef)!.map(item => [item.name, item.identity]),
        // When a source read is not an input: with it, every entity would be rewritten at each refresh.
        [...(live.get(target.entityRef) ?? [])].map(
          ([environment, { asOf: _readAt, ...state }]) => [environment, state],
        ),
      ]);
      if (fingerprints.get(target.entityRef) !== fingerprint) {
        changed.push({ target, fingerprint });
      }
    }
    summary.recomputed = changed.length;

    const storedRows = new Map(
      (await store.environments(changed.map(c => c.target.entityRef))).map(
        row => [`${row.entityRef}\0${row.environment}`, row],
      ),
    );
    const versions = new Map<string, Promise<string | null>>();
    const versionAt = (item: EnvironmentWork) => (commit: string) => {
      const key = `${commit}\0${item.recipe}`;
      if (!versions.has(key)) {
        versions.set(
          key,
          untilAborted(repository.snapshotAt(commit), signal)
            .then(at =>
              resolveForState(
                this.deps.resolver,
                at,
                item.path,
                resolveOptionsOf(item.target),
                {
                  repositoryId,
                  environment: item.name,
                  logger: this.deps.logger,
                  signal,
                },
              ),
            )
            .then(({ resolution }) =>
              resolution.ok ? resolution.version : null,
            ),
        );
      }
      return versions.get(key)!;
    };

    // Timelines stored at one refresh share their head: whether it is an ancestor is asked once.
    const ancestry = new Map<string, Promise<boolean>>();
    const descendsFrom = (commit: string) => {
      if (!ancestry.has(commit)) {
        ancestry.set(
          commit,
          repository.compare(commit, snapshot.commit).then(
            ({ behindBy }) => behindBy === 0,
            () => false,
          ),
        );
      }
      return ancestry.get(commit)!;
    };

    const outEnvironments: StoredEnvironment[] = [];
    const outEntities: RepositoryRefreshResult['entities'] = [];
    for (const { target, fingerprint } of changed) {
      signal?.throwIfAborted();
      const items = byEntity.get(target.entityRef)!;
      const rows = new Map<string, StoredEnvironment>();
      for (const item of items) {
        const old = storedRows.get(`${target.entityRef}\0${item.name}`);
        if (item.fresh) {
          rows.set(item.name, { ...item.fresh, timeline: null });
        } else if (old) {
          rows.set(item.name, old);
        }
      }
      const missing = items.filter(item => !rows.has(item.name));
      if (missing.length > 0) {
        // Kept by its key but gone from the table meanwhile: this entity waits for the next refresh.
        summary.failed++;
        continue;
      }
      const timelines = new Map<string, Promise<VersionTimeline>>();
      const timelineOf = (environment: string) => {
        if (!timelines.has(environment)) {
          const item = items.find(i => i.name === environment)!;
          const row = rows.get(environment)!;
          const old = storedRows.get(`${target.entityRef}\0${environment}`);
          timelines.set(
            environment,
            // Unchanged inputs mean no commit since touched them: the stored timeline holds.
            !item.fresh && row.timeline
              ? Promise.resolve(row.timeline)
              : timelineAt({
                  repository,
                  head: snapshot.commit,
                  // What the environment deploys depends on the files it reads, and on nothing else.
                  paths: row.resolution.inputs,
                  versionAt: versionAt(item),
                  stored: old?.recipe === item.recipe ? old.timeline : null,
                  descendsFrom,
                  signal,
                }).then(timeline => {
                  row.timeline = timeline;
                  row.revision = snapshot.commit;
                  return timeline;
                }),
          );
        }
        return timelines.get(environment)!;
      };
      try {
        const body = await computeEntityPromotions({
          target,
          revision: snapshot.commit,
          environments: items.map(item => ({
            name: item.name,
            path: item.path,
            resolution: rows.get(item.name)!.resolution,
            lastChange: rows.get(item.name)!.lastChange,
          })),
          timelineOf,
          expectedKeys: config.expectedKeys,
          live: live.get(target.entityRef),
        });
        // The age is the store's to add when serving: it moves without the body changing.
        const { asOf: _age, ...stored } = body;
        outEntities.push({
          entityRef: target.entityRef,
          fingerprint,
          body: JSON.stringify(stored),
          entity: byRef.get(target.entityRef)!,
        });
        for (const item of items) {
          const row = rows.get(item.name)!;
          if (item.fresh || timelines.has(item.name)) outEnvironments.push(row);
        }
      } catch (error) {
        signal?.throwIfAborted();
        summary.failed++;
        failures.push({
          entityRef: target.entityRef,
          message: errorMessage(error),
        });
        this.deps.logger.warn(
          `Could not refresh ${target.entityRef}: ${errorMessage(error)}`,
        );
      }
    }
    // Environments resolved again whose entity did not need recomputing still move forward.
    const written = new Set(
      outEnvironments.map(r => `${r.entityRef}\0${r.environment}`),
    );
    for (const item of toResolve) {
      const key = `${item.target.entityRef}\0${item.name}`;
      if (!written.has(key) && item.fresh) {
        const old = storedRows.get(key);
        outEnvironments.push({
          ...item.fresh,
          timeline: old?.timeline ?? null,
        });
      }
    }

    signal?.throwIfAborted();
    await store.saveRefresh({
      repositoryId,
      leaseOwner,
      revision: snapshot.commit,
      at: new Date(),
      entities: outEntities,
      environments: outEnvironments,
      entityRefs: entities.map(e => stringifyEntityRef(e)),
      failures,
    });
    summary.durationMs = Date.now() - started;
    return summary;
  }

  /** Entities annotated with this repository, read from the catalog page by page. */
  private async annotatedEntities(
    repositoryId: string,
    signal?: AbortSignal,
  ): Promise<Entity[]> {
    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const entities: Entity[] = [];
    const limit = this.deps.catalogPageSize ?? 500;
    let cursor: string | undefined;
    do {
      signal?.throwIfAborted();
      // A cursor carries the filter but not the fields: each page names them again.
      const page = await this.deps.catalog.queryEntities(
        cursor
          ? { cursor, fields: ENTITY_FIELDS, limit }
          : {
              filter: {
                [`metadata.annotations.${ANNOTATION_REPOSITORY}`]: repositoryId,
              },
              fields: ENTITY_FIELDS,
              limit,
            },
        { credentials },
      );
      entities.push(...page.items);
      cursor = page.pageInfo.nextCursor;
    } while (cursor);
    // The catalog matches filter values without regard to case; the annotation must be exact.
    return entities.filter(
      e =>
        e.metadata.annotations?.[ANNOTATION_REPOSITORY]?.trim() ===
        repositoryId,
    );
  }
}
