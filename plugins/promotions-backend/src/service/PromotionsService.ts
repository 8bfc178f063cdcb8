import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { readEntityTarget } from '../state/entityTarget';
import { PromotionsStore } from '../state/PromotionsStore';

/** How long each part of an answer took, in milliseconds, for `Server-Timing`. */
export interface Timings {
  catalog: number;
  store: number;
}

/**
 * Answers "the promotions of this entity, for these credentials": the catalog decides whether
 * the caller may see the entity, the store holds what a refresh last found. It never reads a
 * repository.
 */
export class PromotionsService {
  constructor(
    private readonly deps: {
      config: PromotionsConfig;
      store: PromotionsStore;
      catalog: CatalogService;
      /** Asks the background refresh of a repository to run soon. */
      requestRefresh: (repositoryId: string) => void;
    },
  ) {}

  /**
   * The entity's promotions as JSON text, ready to send. A `NotFoundError` when the caller
   * cannot see the entity, an `InputError` when its annotations are wrong, a
   * `ServiceUnavailableError` when its repository has never been readable.
   */
  async getEntityPromotions(
    entity: { kind: string; namespace: string; name: string },
    credentials: BackstageCredentials,
  ): Promise<{ json: string; timings: Timings }> {
    const entityRef = stringifyEntityRef(entity);
    let mark = performance.now();
    const found = await this.deps.catalog.getEntityByRef(entityRef, {
      credentials,
    });
    const catalog = performance.now() - mark;
    if (!found)
      throw new NotFoundError(`No entity ${entityRef} in the catalog`);
    const target = readEntityTarget(found, this.deps.config);

    mark = performance.now();
    const stored = await this.deps.store.get(target.entityRef);
    const store = performance.now() - mark;
    const timings = { catalog, store };
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
      return { json: JSON.stringify(pending), timings };
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
    return { json: `{${extra},${stored.body.slice(1)}`, timings };
  }
}
