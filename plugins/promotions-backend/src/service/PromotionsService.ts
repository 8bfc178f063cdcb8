import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  Drift,
  EntityPromotions,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { readEntityTarget } from '../state/entityTarget';
import { PromotionsStore } from '../state/PromotionsStore';
import { EntityVisibility } from './EntityVisibility';

/** How long each part of an answer took, in milliseconds, for `Server-Timing`; only what ran. */
export interface Timings {
  /** Deciding whether the caller may see the entity (the catalog's check). */
  catalog?: number;
  store?: number;
}

/**
 * Answers "the promotions of this entity, for these credentials": the caller must be allowed to
 * see the entity in the catalog and to read its promotions; the store holds what a refresh last
 * found. It never reads a repository.
 */
export class PromotionsService {
  constructor(
    private readonly deps: {
      config: PromotionsConfig;
      store: PromotionsStore;
      visibility: EntityVisibility;
      /** Asks the background refresh of a repository to run soon. */
      requestRefresh: (repositoryId: string) => void;
      /** Drift the workflow knows of besides the refresh's (a stale promotion), by environment. */
      workflowDrift?: (entityRef: string) => Promise<Map<string, Drift[]>>;
    },
  ) {}

  /**
   * The entity's promotions as JSON text, ready to send. A `NotFoundError` when the caller
   * cannot see the entity, a `NotAllowedError` when they may not read its promotions, an
   * `InputError` when its annotations are wrong, a `ServiceUnavailableError` when its
   * repository has never been readable. Records in `timings` what it did, as it goes, so that
   * an error answer tells it too.
   */
  async getEntityPromotions(
    ref: { kind: string; namespace: string; name: string },
    credentials: BackstageCredentials,
    timings: Timings = {},
  ): Promise<string> {
    const entityRef = stringifyEntityRef(ref);
    let mark = performance.now();
    const stored = await this.deps.store.get(entityRef);
    timings.store = performance.now() - mark;
    mark = performance.now();
    const access = await this.deps.visibility.check(
      entityRef,
      stored?.entity ?? undefined,
      credentials,
    );
    timings.catalog = performance.now() - mark;
    if (access.kind === 'not-found') {
      throw new NotFoundError(`No entity ${entityRef} in the catalog`);
    }
    if (access.kind === 'forbidden') {
      throw new NotAllowedError(
        `You may not read the promotions of ${entityRef}`,
      );
    }
    const target = readEntityTarget(access.entity, this.deps.config);

    if (stored?.waiting) {
      // The layout exists on its branch only: until it is merged, that is all there is to say.
      const waiting: EntityPromotions = {
        entityRef: target.entityRef,
        asOf: stored.asOf?.toISOString() ?? null,
        repository: { id: target.repository.id, revision: stored.revision },
        pipeline: target.pipelineName,
        environments: [],
        waitingForMerge: stored.waiting,
      };
      return JSON.stringify(waiting);
    }
    if (!stored?.body) {
      if (stored?.error)
        throw new ServiceUnavailableError(stored.error.message);
      this.deps.requestRefresh(target.repository.id);
      const pending: EntityPromotions = {
        entityRef: target.entityRef,
        asOf: null,
        repository: { id: target.repository.id, revision: null },
        pipeline: target.pipelineName,
        environments: [],
      };
      return JSON.stringify(pending);
    }
    // The stored body is sent as stored, with its age and any error added in front.
    const head: Partial<EntityPromotions> = {
      asOf: stored.asOf?.toISOString() ?? null,
    };
    if (stored.error) {
      head.error = {
        message: stored.error.message,
        at: stored.error.at.toISOString(),
      };
    }
    const extra = JSON.stringify(head).slice(1, -1);
    const workflowDrift = await this.deps.workflowDrift?.(entityRef);
    if (workflowDrift?.size) {
      // Rare: only then is the stored body taken apart.
      const body = JSON.parse(stored.body) as EntityPromotions;
      for (const environment of body.environments) {
        environment.drift.push(...(workflowDrift.get(environment.name) ?? []));
      }
      return JSON.stringify({ ...head, ...body });
    }
    return `{${extra},${stored.body.slice(1)}`;
  }
}
