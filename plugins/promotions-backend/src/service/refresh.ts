import crypto from 'node:crypto';
import { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  ANNOTATION_REPOSITORY,
  Drift,
  EntityPromotions,
  EnvironmentState,
  LastChange,
  environmentPath,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsConfig } from '../config';
import {
  CommitInfo,
  GitOpsRepository,
  RepositorySnapshot,
} from '../repository/types';
import { resolveEnvironment } from '../resolve';
import { ResolvedEnvironment } from '../resolve/types';
import { configDrift, versionDrift, VersionTimeline } from './drift';
import { PromotionsStore } from './store';
import { EntityTarget, readEntityTarget } from './target';

/** Bumped whenever what is computed from the same inputs changes, so stored states are redone. */
const COMPUTATION_VERSION = 1;
/** How far back an environment's history is read to know which versions it went through. */
const TIMELINE_DEPTH = 30;

export interface RefreshSummary {
  entities: number;
  computed: number;
  unchanged: number;
  failed: number;
}

/** Parses `#123` from a commit's first line: `Merge pull request #123 …` or `… (#123)`. */
export function pullRequestNumber(message: string): number | null {
  const firstLine = message.split('\n', 1)[0];
  const match =
    /Merge pull request #(\d+)/.exec(firstLine) ??
    /\(#(\d+)\)/.exec(firstLine) ??
    /#(\d+)/.exec(firstLine);
  return match ? Number(match[1]) : null;
}

function toLastChange(commit: CommitInfo | undefined): LastChange | null {
  if (!commit) return null;
  return {
    commit: commit.sha,
    author: commit.authorName,
    at: commit.authoredAt,
    pullRequest: pullRequestNumber(commit.message),
    message: commit.message.split('\n', 1)[0],
  };
}

const errorMessage = (error: unknown) =>
  error instanceof Error ? error.message : String(error);

/**
 * Reads every annotated entity's environments from its GitOps repository and stores the result:
 * the only place that talks to repositories. Runs in the background; page views read the store.
 */
export class PromotionsRefresher {
  constructor(
    private readonly deps: {
      config: PromotionsConfig;
      repositories: Map<string, GitOpsRepository>;
      store: PromotionsStore;
      catalog: CatalogService;
      auth: AuthService;
      logger: LoggerService;
    },
  ) {}

  async refreshAll(): Promise<RefreshSummary> {
    const { store, logger } = this.deps;
    const entities = await this.annotatedEntities();
    const summary: RefreshSummary = {
      entities: entities.length,
      computed: 0,
      unchanged: 0,
      failed: 0,
    };
    const now = new Date();

    const byRepository = new Map<string, EntityTarget[]>();
    for (const entity of entities) {
      try {
        const target = readEntityTarget(entity, this.deps.config);
        byRepository.set(target.repository.id, [
          ...(byRepository.get(target.repository.id) ?? []),
          target,
        ]);
      } catch (error) {
        summary.failed++;
        const repositoryId =
          entity.metadata.annotations?.[ANNOTATION_REPOSITORY] ?? '';
        await this.recordError(
          stringifyEntityRef(entity),
          repositoryId,
          errorMessage(error),
          now,
        );
      }
    }
    // An empty answer is more likely a catalog still starting than every entity gone.
    if (entities.length > 0)
      await store.deleteExcept(entities.map(e => stringifyEntityRef(e)));

    for (const [repositoryId, targets] of byRepository) {
      const repository = this.deps.repositories.get(repositoryId)!;
      let snapshot: RepositorySnapshot;
      try {
        snapshot = await repository.snapshot();
      } catch (error) {
        const message = `Could not read repository ${repositoryId}: ${errorMessage(
          error,
        )}`;
        logger.warn(message);
        for (const target of targets)
          await this.recordError(target.entityRef, repositoryId, message, now);
        summary.failed += targets.length;
        continue;
      }
      const timelines = new Map<string, Promise<VersionTimeline>>();
      for (const target of targets) {
        try {
          const computed = await this.refreshEntity(
            target,
            repository,
            snapshot,
            now,
            timelines,
          );
          summary[computed ? 'computed' : 'unchanged']++;
        } catch (error) {
          summary.failed++;
          logger.warn(
            `Could not refresh ${target.entityRef}: ${errorMessage(error)}`,
          );
          await this.recordError(
            target.entityRef,
            repositoryId,
            errorMessage(error),
            now,
          );
        }
      }
    }
    return summary;
  }

  /** Stores why an entity could not be refreshed; a failure to store it stops no other entity. */
  private async recordError(
    entityRef: string,
    repositoryId: string,
    message: string,
    at: Date,
  ) {
    try {
      await this.deps.store.saveError(entityRef, repositoryId, message, at);
    } catch (error) {
      this.deps.logger.error(
        `Could not store the refresh error of ${entityRef}: ${errorMessage(
          error,
        )}`,
      );
    }
  }

  /** Computes and stores one entity's state; false when nothing it depends on changed. */
  private async refreshEntity(
    target: EntityTarget,
    repository: GitOpsRepository,
    snapshot: RepositorySnapshot,
    now: Date,
    timelines: Map<string, Promise<VersionTimeline>>,
  ): Promise<boolean> {
    const { store, config } = this.deps;
    const fingerprint = crypto
      .createHash('sha256')
      .update(
        JSON.stringify([
          COMPUTATION_VERSION,
          snapshot.commit,
          target,
          config.expectedKeys,
        ]),
      )
      .digest('hex');
    const stored = await store.get(target.entityRef);
    if (stored?.body && stored.fingerprint === fingerprint) {
      await store.touch(target.entityRef, now);
      return false;
    }
    const body = await computeEntityPromotions({
      target,
      repository,
      snapshot,
      expectedKeys: config.expectedKeys,
      timelines,
    });
    await store.saveState({
      entityRef: target.entityRef,
      repositoryId: target.repository.id,
      revision: snapshot.commit,
      fingerprint,
      body: { ...body, asOf: now.toISOString() },
      asOf: now,
    });
    return true;
  }

  private async annotatedEntities(): Promise<Entity[]> {
    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const { items } = await this.deps.catalog.getEntities(
      {
        filter: {
          [`metadata.annotations.${ANNOTATION_REPOSITORY}`]:
            CATALOG_FILTER_EXISTS,
        },
      },
      { credentials },
    );
    return items;
  }
}

/** Resolves every environment of one entity at one commit, with last changes and drift. */
export async function computeEntityPromotions(input: {
  target: EntityTarget;
  repository: GitOpsRepository;
  snapshot: RepositorySnapshot;
  expectedKeys: string[];
  /** Shared between entities of one refresh: timelines keyed by path and options. */
  timelines?: Map<string, Promise<VersionTimeline>>;
}): Promise<EntityPromotions> {
  const { target, repository, snapshot } = input;
  const options = { image: target.image, versionKey: target.versionKey };
  const timelines =
    input.timelines ?? new Map<string, Promise<VersionTimeline>>();

  const resolved = new Map<string, ResolvedEnvironment | Error>();
  for (const env of target.pipeline) {
    const path = environmentPath(target.pathTemplate, env.name);
    resolved.set(
      env.name,
      await resolveEnvironment(snapshot, path, options).catch(
        (error: Error) => error,
      ),
    );
  }

  const timelineOf = (environment: string): Promise<VersionTimeline> => {
    const path = environmentPath(target.pathTemplate, environment);
    const result = resolved.get(environment);
    const inputs = result instanceof Error || !result ? [path] : result.inputs;
    const key = JSON.stringify([snapshot.commit, path, options, inputs]);
    if (!timelines.has(key)) {
      timelines.set(
        key,
        readTimeline(repository, snapshot.commit, path, inputs, options),
      );
    }
    return timelines.get(key)!;
  };

  const environments: EnvironmentState[] = [];
  for (const env of target.pipeline) {
    const path = environmentPath(target.pathTemplate, env.name);
    const result = resolved.get(env.name)!;
    const inputs = result instanceof Error ? [path] : result.inputs;
    const [lastCommit] = await repository.history(snapshot.commit, inputs, 1);
    const drift: Drift[] = [];
    if (!(result instanceof Error)) {
      for (const upstream of env.requires) {
        const upstreamResult = resolved.get(upstream)!;
        if (upstreamResult instanceof Error) continue;
        if (result.version !== upstreamResult.version) {
          const version = versionDrift({
            environment: env.name,
            version: result.version,
            timeline: await timelineOf(env.name),
            upstream,
            upstreamVersion: upstreamResult.version,
            upstreamTimeline: await timelineOf(upstream),
          });
          if (version) drift.push(version);
        }
        const config = configDrift({
          environment: env.name,
          comparable: result.comparable,
          upstream,
          upstreamComparable: upstreamResult.comparable,
          expectedKeys: input.expectedKeys,
        });
        if (config) drift.push(config);
      }
    }
    environments.push({
      name: env.name,
      requires: env.requires,
      desired: {
        version: result instanceof Error ? null : result.version,
        images: result instanceof Error ? [] : result.images,
        path,
        lastChange: toLastChange(lastCommit),
      },
      live: null,
      drift,
      ...(result instanceof Error ? { error: result.message } : {}),
    });
  }

  return {
    entityRef: target.entityRef,
    asOf: null,
    repository: { id: target.repository.id, revision: snapshot.commit },
    pipeline: target.pipelineName,
    environments,
  };
}

/** The version an environment deployed after each commit that touched its inputs. */
async function readTimeline(
  repository: GitOpsRepository,
  head: string,
  path: string,
  inputs: string[],
  options: { image?: string; versionKey?: string },
): Promise<VersionTimeline> {
  const commits = await repository.history(
    head,
    [...new Set([path, ...inputs])],
    TIMELINE_DEPTH,
  );
  const timeline: VersionTimeline = { commits: [] };
  for (const commit of commits) {
    const snapshot = await repository.snapshotAt(commit.sha);
    const version = await resolveEnvironment(snapshot, path, options).then(
      r => r.version,
      () => null,
    );
    timeline.commits.push({ sha: commit.sha, at: commit.authoredAt, version });
  }
  return timeline;
}
