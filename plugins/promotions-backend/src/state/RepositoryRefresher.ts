import crypto from 'node:crypto';
import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { NotFoundError } from '@backstage/errors';
import {
  ANNOTATION_PIPELINE,
  ANNOTATION_REPOSITORY,
  DEFAULT_PIPELINE,
  ENV_PLACEHOLDER,
  environmentPath,
} from '@gitops-promotions/plugin-promotions-common';
import {
  CommitInfo,
  GitOpsRepository,
  LiveStateSource,
  probesDigest,
  probesHold,
  PromotionsConfig,
  PromotionsRepositoriesService,
  PromotionsResolverService,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import { readLiveStates, storedLiveStates } from '../live/readLiveStates';
import { computeEntityPromotions } from './computeEntityPromotions';
import {
  EntityTarget,
  EnvironmentSpec,
  manifestSpecs,
  readableOf,
  readEntityTarget,
  specResolveOptions,
  targetKey,
} from './entityTarget';
import { toLastChange } from './lastChange';
import {
  PromotionsStore,
  RepositoryRefreshResult,
  StoredEnvironment,
  StoredEnvironmentKey,
} from './PromotionsStore';
import { resolveForState } from './resolution';
import { protectSecrets, SecretProtection } from './secrets';
import { timelineAt, VersionTimeline } from './timeline';
import { untilAborted } from '../untilAborted';
import { ENTITY_FIELDS } from './entityFields';
import { readSpecSource, SourceRead } from './readSource';

/** Bumped whenever what is computed from the same inputs changes, so stored states are redone. */
const COMPUTATION_VERSION = 4;

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
  /**
   * Repositories whose entities read an environment from this one (a repository per
   * environment): they are refreshed with their first environment's repository, so a change here
   * asks for theirs.
   */
  dependents: string[];
  /**
   * Entities stored before whose state this refresh changed: an open page shows them anew.
   * Entities stored for the first time are not among them.
   */
  changedEntities?: string[];
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

/** A branch, tag or repository an environment is read from, as read at this refresh. */
/** One environment during a refresh: kept from the store, or resolved again. */
interface EnvironmentWork {
  target: EntityTarget;
  name: string;
  path: string;
  /** How it is read; absent when its spec could not be known (`specError` says why). */
  spec?: EnvironmentSpec;
  read?: SourceRead;
  /** Why its spec or source could not be found: the environment's error, not a failure. */
  specError?: string;
  recipe: string;
  stored?: StoredEnvironmentKey;
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
  /**
   * The other repositories each repository's entities read an environment from, as its last
   * refresh found them (an Argo CD manifest's Applications name them): a change there asks for
   * a refresh here.
   */
  private readonly readsFromOthers = new Map<string, Set<string>>();

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
      /** Tags listed per repository to pick one by pattern; 10,000 when absent. */
      tagLimit?: number;
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
      dependents: [],
    };
    const { entities, dependents } = await this.annotatedEntities(
      repositoryId,
      signal,
    );
    summary.dependents = dependents;
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
    const home: SourceRead = { repository, snapshot };
    const sources = new Map<string, Promise<SourceRead | { error: string }>>();
    const tags = new Map<string, ReturnType<GitOpsRepository['tags']>>();
    const sourceOf = (spec: EnvironmentSpec) => {
      const key = JSON.stringify([spec.repository.id, spec.read]);
      if (!sources.has(key)) {
        sources.set(
          key,
          this.readSource(spec, home, tags).catch(error => {
            if (error instanceof NotFoundError) {
              return { error: errorMessage(error) };
            }
            throw error;
          }),
        );
      }
      return sources.get(key)!;
    };
    const work: EnvironmentWork[] = [];
    for (const target of targets) {
      let specs: Map<string, EnvironmentSpec | { error: string }>;
      if (target.specs) {
        specs = new Map(target.specs.map(spec => [spec.name, spec]));
      } else {
        specs = await untilAborted(
          manifestSpecs(
            target,
            snapshot,
            config,
            readableOf(byRef.get(target.entityRef)!),
          ),
          signal,
        );
      }
      for (const env of target.pipeline) {
        const spec = specs.get(env.name)!;
        const item: EnvironmentWork = {
          target,
          name: env.name,
          path:
            'error' in spec ? target.layout.argocdManifest ?? '' : spec.path,
          recipe: '',
          identity: '',
        };
        work.push(item);
        if ('error' in spec) {
          item.specError = spec.error;
          continue;
        }
        item.spec = spec;
        let read: SourceRead | { error: string };
        try {
          read = await untilAborted(sourceOf(spec), signal);
        } catch (error) {
          signal?.throwIfAborted();
          this.deps.logger.warn(
            `Could not read where environment ${env.name} of ${
              target.entityRef
            } is read from (repository ${spec.repository.id}): ${errorMessage(
              error,
            )}`,
          );
          item.failure = `Repository ${spec.repository.id}: environment ${env.name} could not be read; the backend's log says why`;
          item.identity = crypto.randomUUID();
          continue;
        }
        if ('error' in read) {
          item.specError = read.error;
          continue;
        }
        item.read = read;
        item.recipe = hash([
          COMPUTATION_VERSION,
          spec.repository.id,
          spec.read,
          spec.path,
          target.image ?? null,
          target.versionKey ?? null,
          spec.repository.paths ?? null,
          spec.readable.patterns,
          spec.helm ?? null,
          spec.kustomizeImages ?? null,
          spec.manifest ?? null,
        ]);
        const stored = keys.get(`${target.entityRef}\0${env.name}`);
        item.stored = stored;
        const keep =
          stored?.recipe === item.recipe &&
          stored.probes !== null &&
          probesHold(stored.probes, read.snapshot);
        // The recipe too: the same files read with other options (a manifest's) deploy otherwise.
        if (keep)
          item.identity = hash([item.recipe, probesDigest(stored!.probes!)]);
      }
    }
    summary.environments = work.length;
    this.readsFromOthers.set(
      repositoryId,
      new Set(
        work
          .map(item => item.spec?.repository.id)
          .filter((id): id is string => !!id && id !== repositoryId),
      ),
    );

    for (const item of work) {
      if (item.specError === undefined) continue;
      // Nothing was resolved: the same error is the same state, until the spec or source changes.
      item.identity = hash(['error', item.specError]);
      item.fresh = {
        entityRef: item.target.entityRef,
        environment: item.name,
        repositoryId,
        recipe: hash([COMPUTATION_VERSION, 'error', item.specError]),
        revision: snapshot.commit,
        probes: null,
        resolution: { ok: false, error: item.specError, inputs: [] },
        lastChange: null,
      };
    }
    const toResolve = work.filter(w => !w.identity);
    await forEachLimit(toResolve, CONCURRENCY, async item => {
      signal?.throwIfAborted();
      const { repository: source, snapshot: at } = item.read!;
      const { resolution, probes } = await resolveForState(
        this.deps.resolver,
        at,
        item.path,
        specResolveOptions(item.target, item.spec!),
        {
          repositoryId: item.spec!.repository.id,
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
        if (item.read!.warning) {
          resolution.warnings = [...resolution.warnings, item.read!.warning];
        }
      }
      // A manifest read at the same commit is an input: a change to it changes what is deployed.
      const manifest = item.spec!.manifest;
      if (
        manifest &&
        at === snapshot &&
        !resolution.inputs.includes(manifest)
      ) {
        resolution.inputs = [...resolution.inputs, manifest].sort();
      }
      let last: CommitInfo | undefined;
      try {
        [last] = await untilAborted(
          source.history(at.commit, resolution.inputs, 1),
          signal,
        );
        // Read elsewhere, it also changes with the manifest: the newer change is the last.
        if (manifest && at !== snapshot) {
          const [changed] = await untilAborted(
            repository.history(snapshot.commit, [manifest], 1),
            signal,
          );
          if (
            changed &&
            (!last ||
              Date.parse(changed.authoredAt) > Date.parse(last.authoredAt))
          ) {
            last = changed;
          }
        }
      } catch (error) {
        signal?.throwIfAborted();
        this.deps.logger.warn(
          `Could not read the history of environment ${item.name} (${
            item.path
          }) of repository ${item.spec!.repository.id} at ${
            at.commit
          }: ${errorMessage(error)}`,
        );
        // Served, so it names only the repository and environment, as resolution errors do.
        item.failure = `Repository ${
          item.spec!.repository.id
        }: the history of environment ${
          item.name
        } could not be read; the backend's log says why`;
        item.identity = crypto.randomUUID();
        return;
      }
      item.fresh = {
        entityRef: item.target.entityRef,
        environment: item.name,
        repositoryId,
        recipe: item.recipe,
        revision: at.commit,
        probes,
        resolution,
        lastChange: toLastChange(last),
      };
      // Without probes (the repository failed to answer), the result is never reused.
      item.identity = probes
        ? hash([item.recipe, probesDigest(probes)])
        : crypto.randomUUID();
    });
    summary.resolved = toResolve.length;
    const unread = new Map<string, string[]>();
    for (const item of work) {
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
      previous: async entityRef =>
        storedLiveStates((await store.get(entityRef))?.body),
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
        byEntity
          .get(target.entityRef)!
          .map(item => [item.name, item.identity, item.read?.source ?? null]),
        // When a source read is not an input: with it, every entity would be rewritten at each refresh.
        [...(live.get(target.entityRef) ?? [])].map(
          ([environment, { asOf: _readAt, ...state }]) => [environment, state],
        ),
      ]);
      // A stored environment without a timeline (from before every one kept its own) gets one.
      const untimed = byEntity
        .get(target.entityRef)!
        .some(item => item.read && item.stored && !item.stored.timeline);
      if (fingerprints.get(target.entityRef) !== fingerprint || untimed) {
        changed.push({ target, fingerprint });
      }
    }
    summary.recomputed = changed.length;

    const storedRows = new Map(
      (await store.environments(changed.map(c => c.target.entityRef))).map(
        row => [`${row.entityRef}\0${row.environment}`, row],
      ),
    );
    // A manifest read at a past commit gives every environment of its entity: read once for all.
    const manifests = new Map<string, ReturnType<typeof manifestSpecs>>();
    const manifestAt = (target: EntityTarget, at: RepositorySnapshot) => {
      const key = `${target.entityRef}\0${at.commit}`;
      if (!manifests.has(key)) {
        manifests.set(
          key,
          manifestSpecs(
            target,
            at,
            config,
            readableOf(byRef.get(target.entityRef)!),
          ),
        );
      }
      return manifests.get(key)!;
    };
    const versions = new Map<string, Promise<string | null>>();
    const versionAt = (item: EnvironmentWork) => (commit: string) => {
      const { spec, read } = item;
      // What a manifest gave at a commit is the environment's own: its key names it.
      const key = [
        spec!.repository.id,
        commit,
        item.recipe,
        ...(spec!.manifest ? [item.target.entityRef, item.name] : []),
      ].join('\0');
      if (!versions.has(key)) {
        versions.set(
          key,
          untilAborted(read!.repository.snapshotAt(commit), signal).then(
            async at => {
              let atSpec: EnvironmentSpec | { error: string } = spec!;
              // What a manifest gave then, where it is read in the same history.
              if (spec!.manifest && read!.snapshot === snapshot) {
                atSpec =
                  (await manifestAt(item.target, at)).get(item.name) ?? spec!;
              }
              if ('error' in atSpec) return null;
              const { resolution } = await resolveForState(
                this.deps.resolver,
                at,
                atSpec.path,
                specResolveOptions(item.target, atSpec),
                {
                  repositoryId: spec!.repository.id,
                  environment: item.name,
                  logger: this.deps.logger,
                  signal,
                },
              );
              return resolution.ok ? resolution.version : null;
            },
          ),
        );
      }
      return versions.get(key)!;
    };

    // Timelines stored at one refresh share their head: whether it is an ancestor is asked once.
    const ancestry = new Map<string, Promise<boolean>>();
    const descendsFrom = (read: SourceRead) => (commit: string) => {
      const key = `${read.source?.repositoryId ?? repositoryId}\0${commit}\0${
        read.snapshot.commit
      }`;
      if (!ancestry.has(key)) {
        ancestry.set(
          key,
          read.repository.compare(commit, read.snapshot.commit).then(
            ({ behindBy }) => behindBy === 0,
            () => false,
          ),
        );
      }
      return ancestry.get(key)!;
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
      const readTimeline = (environment: string): Promise<VersionTimeline> => {
        const item = items.find(i => i.name === environment)!;
        const row = rows.get(environment)!;
        const old = storedRows.get(`${target.entityRef}\0${environment}`);
        // Unchanged inputs mean no commit since touched them: the stored timeline holds.
        if (!item.fresh && row.timeline) return Promise.resolve(row.timeline);
        // Not resolved: there is no history of versions to tell.
        if (!item.read) {
          return Promise.resolve({ head: snapshot.commit, commits: [] });
        }
        const read = item.read;
        return timelineAt({
          repository: read.repository,
          head: read.snapshot.commit,
          // What the environment deploys depends on the files it reads, and on nothing else.
          paths: row.resolution.inputs,
          versionAt: versionAt(item),
          stored: old?.recipe === item.recipe ? old.timeline : null,
          descendsFrom: descendsFrom(read),
          signal,
        }).then(timeline => {
          row.timeline = timeline;
          row.revision = read.snapshot.commit;
          return timeline;
        });
      };
      const timelineOf = (environment: string) => {
        if (!timelines.has(environment)) {
          timelines.set(environment, readTimeline(environment));
        }
        return timelines.get(environment)!;
      };
      try {
        const body = await computeEntityPromotions({
          // With a manifest, the specs it gave: what the workflow can write is told from them.
          target: target.specs
            ? target
            : {
                ...target,
                specs: items.flatMap(item => (item.spec ? [item.spec] : [])),
              },
          revision: snapshot.commit,
          environments: items.map(item => ({
            name: item.name,
            path: item.path,
            resolution: rows.get(item.name)!.resolution,
            lastChange: rows.get(item.name)!.lastChange,
            source: item.read?.source,
          })),
          timelineOf,
          expectedKeys: config.expectedKeys,
          live: live.get(target.entityRef),
        });
        // Every environment keeps its history of versions, drifting or not: the delivery figures
        // count the changes made outside the portal from it.
        await Promise.all(
          items.filter(item => item.read).map(item => timelineOf(item.name)),
        );
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

    summary.changedEntities = outEntities
      .filter(entity => fingerprints.has(entity.entityRef))
      .map(entity => entity.entityRef);
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

  /** Reads the branch, tag or repository a spec names (see `readSpecSource`). */
  private readSource(
    spec: EnvironmentSpec,
    home: SourceRead,
    tags: Map<string, ReturnType<GitOpsRepository['tags']>>,
  ): Promise<SourceRead> {
    return readSpecSource(spec, home, {
      repositories: this.deps.repositories,
      tags,
      tagLimit: this.deps.tagLimit,
      logger: this.deps.logger,
    });
  }

  /**
   * Entities refreshed with this repository, read from the catalog page by page, and the
   * repositories of those that read an environment from it but are refreshed with another.
   */
  private async annotatedEntities(
    repositoryId: string,
    signal?: AbortSignal,
  ): Promise<{ entities: Entity[]; dependents: string[] }> {
    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const names = this.annotationValuesFor(repositoryId);
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
                [`metadata.annotations.${ANNOTATION_REPOSITORY}`]: names,
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
    const dependents = new Set<string>();
    for (const [home, others] of this.readsFromOthers) {
      if (home !== repositoryId && others.has(repositoryId))
        dependents.add(home);
    }
    for (const entity of entities) {
      const home = this.homeOf(entity);
      if (
        home &&
        home !== repositoryId &&
        this.readsFrom(entity, repositoryId)
      ) {
        dependents.add(home);
      }
    }
    return {
      entities: entities.filter(e => this.homeOf(e) === repositoryId),
      dependents: [...dependents],
    };
  }

  /** Whether an entity with a repository template reads one of its environments from `id`. */
  private readsFrom(entity: Entity, id: string): boolean {
    const { named, pipeline } = this.repositoryOf(entity);
    return pipeline.some(env => environmentPath(named, env.name) === id);
  }

  /** The repository annotation of an entity, and the environments of its pipeline. */
  private repositoryOf(entity: Entity) {
    const annotations = entity.metadata.annotations ?? {};
    return {
      named: annotations[ANNOTATION_REPOSITORY]?.trim() ?? '',
      pipeline:
        this.deps.config.pipelines.get(
          annotations[ANNOTATION_PIPELINE]?.trim() || DEFAULT_PIPELINE,
        ) ?? [],
    };
  }

  /**
   * The annotation values that may name this repository for an entity: its id, and each
   * template that some environment of some pipeline fills in to the id.
   */
  private annotationValuesFor(repositoryId: string): string[] {
    const values = new Set([repositoryId]);
    for (const pipeline of this.deps.config.pipelines.values()) {
      for (const { name } of pipeline) {
        for (
          let at = repositoryId.indexOf(name);
          at >= 0;
          at = repositoryId.indexOf(name, at + 1)
        ) {
          values.add(
            `${repositoryId.slice(0, at)}${ENV_PLACEHOLDER}${repositoryId.slice(
              at + name.length,
            )}`,
          );
        }
      }
    }
    return [...values];
  }

  /** The repository an entity is refreshed with: the one it names, or its first environment's. */
  private homeOf(entity: Entity): string | undefined {
    const { named, pipeline } = this.repositoryOf(entity);
    if (!named.includes(ENV_PLACEHOLDER)) return named || undefined;
    return pipeline[0] ? environmentPath(named, pipeline[0].name) : named;
  }
}
