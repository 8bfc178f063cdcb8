import { HttpAuthService, LoggerService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  InputError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { PromotionsConfig } from './config';
import { PromotionsStore } from './service/store';
import { readEntityTarget } from './service/target';

const entityParams = z.object({
  kind: z.string().min(1).max(63),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
});

export interface RouterOptions {
  config: PromotionsConfig;
  store: PromotionsStore;
  catalog: CatalogService;
  httpAuth: HttpAuthService;
  logger: LoggerService;
  /** Asks the background refresh to run soon, for an entity the store has not seen yet. */
  requestRefresh: () => void;
}

/** The REST API; it only reads the store, never a repository. */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { config, store, catalog, httpAuth, requestRefresh } = options;
  const router = Router();
  router.use(express.json());

  router.get('/v1/entities/:kind/:namespace/:name', async (req, res) => {
    const parsed = entityParams.safeParse(req.params);
    if (!parsed.success) {
      throw new InputError(
        `Invalid entity reference: ${parsed.error.issues
          .map(i => i.message)
          .join(', ')}`,
      );
    }
    const entityRef = stringifyEntityRef(parsed.data);
    const credentials = await httpAuth.credentials(req);
    const entity = await catalog.getEntityByRef(entityRef, { credentials });
    if (!entity)
      throw new NotFoundError(`No entity ${entityRef} in the catalog`);
    const target = readEntityTarget(entity, config);

    const stored = await store.get(entityRef);
    if (!stored?.body) {
      if (stored?.error)
        throw new ServiceUnavailableError(stored.error.message);
      requestRefresh();
      const pending: EntityPromotions = {
        entityRef,
        asOf: null,
        repository: { id: target.repository.id, revision: null },
        pipeline: target.pipelineName,
        environments: [],
      };
      res.json(pending);
      return;
    }
    const body: EntityPromotions = {
      ...stored.body,
      asOf: stored.asOf?.toISOString() ?? stored.body.asOf,
    };
    if (stored.error) {
      body.error = {
        message: stored.error.message,
        at: stored.error.at.toISOString(),
      };
    }
    res.json(body);
  });

  return router;
}
