import { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { PROMOTIONS_API_ROUTES } from '@gitops-promotions/plugin-promotions-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { PromotionsInbox } from './PromotionsInbox';

const inboxQuery = z
  .object({
    environment: z
      .string()
      .max(63)
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
        message: 'must be a lowercase name such as staging',
      })
      .optional(),
    owner: z.string().min(1).max(255).optional(),
    cursor: z.string().min(1).max(512).optional(),
    limit: z.coerce.number().int().min(1).max(100).optional(),
  })
  .strict();

/** The approver inbox: `GET /v1/inbox`, a page of the promotions waiting for the caller. */
export function createInboxRouter(options: {
  inbox: PromotionsInbox;
  httpAuth: HttpAuthService;
}): express.Router {
  const { inbox, httpAuth } = options;
  const router = Router();
  router.get(PROMOTIONS_API_ROUTES.inbox, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const parsed = inboxQuery.safeParse(req.query);
    if (!parsed.success) {
      throw new InputError(
        `Invalid inbox query: ${parsed.error.issues
          .map(i => `${i.path.join('.') || 'query'}: ${i.message}`)
          .join('; ')}`,
      );
    }
    const { limit, ...rest } = parsed.data;
    res.json(await inbox.page(credentials, { ...rest, limit: limit ?? 25 }));
  });
  return router;
}
