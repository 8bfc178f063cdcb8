import { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { PROMOTIONS_API_ROUTES } from '@gitops-promotions/plugin-promotions-common';
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
}): Promise<express.Router> {
  const { service, httpAuth } = options;
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

  return router;
}
