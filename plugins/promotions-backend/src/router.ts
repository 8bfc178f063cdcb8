import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { RefreshSummary } from './state/RepositoryRefresher';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import {
  PROMOTIONS_API_ROUTES,
  promotionsRepositoryRefreshPermission,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsService } from './service/PromotionsService';

const entityParams = z.object({
  kind: z.string().min(1).max(63),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
});

/** The REST API: parses requests and hands them to the service. */
export async function createRouter(options: {
  service: PromotionsService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  config: PromotionsConfig;
  /** Refreshes a repository now; undefined when a refresh of it is already running. */
  refresh: (repositoryId: string) => Promise<RefreshSummary | undefined>;
}): Promise<express.Router> {
  const { service, httpAuth, permissions, config } = options;
  const router = Router();
  router.use(express.json());

  router.get(PROMOTIONS_API_ROUTES.entity, async (req, res) => {
    const parsed = entityParams.safeParse(req.params);
    if (!parsed.success) {
      throw new InputError(
        `Invalid entity reference: ${parsed.error.issues
          .map(i => i.message)
          .join(', ')}`,
      );
    }
    const credentials = await httpAuth.credentials(req);
    const { json, timings } = await service.getEntityPromotions(
      parsed.data,
      credentials,
    );
    res.setHeader(
      'Server-Timing',
      `catalog;dur=${timings.catalog.toFixed(
        1,
      )}, store;dur=${timings.store.toFixed(1)}`,
    );
    res.type('application/json').send(json);
  });

  // CI after a push, or an operator: read a repository now rather than at the next tick.
  router.post(PROMOTIONS_API_ROUTES.repositoryRefresh, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const [decision] = await permissions.authorize(
      [{ permission: promotionsRepositoryRefreshPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError('You may not refresh promotions repositories');
    }
    const { id } = req.params;
    if (!config.repositories.has(id)) {
      throw new NotFoundError(`"${id}" is not a configured repository`);
    }
    const summary = await options.refresh(id);
    res.status(summary ? 200 : 202).json(
      summary
        ? {
            repository: id,
            revision: summary.revision,
            resolved: summary.resolved,
            recomputed: summary.recomputed,
            failed: summary.failed,
            durationMs: summary.durationMs,
          }
        : { repository: id, queued: true },
    );
  });

  return router;
}
