import { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { PROMOTION_GROUP_ROUTES } from '@gitops-promotions/plugin-promotions-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { MAX_MEMBERS, PromotionGroups } from './PromotionGroups';

const environment = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
    message: 'must be a lowercase name such as staging',
  });
const systemParams = z
  .object({
    namespace: z.string().min(1).max(63),
    name: z.string().min(1).max(253),
  })
  .strict();
const groupBody = z
  .object({
    to: environment,
    members: z
      .array(
        z
          .object({
            entityRef: z.string().min(1).max(255),
            version: z.string().min(1).max(200).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_MEMBERS),
  })
  .strict();
const closeBody = z
  .object({ reason: z.string().max(4000).optional() })
  .strict();
const groupId = z.string().uuid();

/** Parses with a schema; a mismatch is a 400 that names each field at fault. */
function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new InputError(
      `Invalid ${what}: ${parsed.error.issues
        .map(i => `${i.path.join('.') || 'body'}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

/** A system's grouped promotions: requested, read, merged and closed together. */
export function createPromotionGroupsRouter(options: {
  groups: PromotionGroups;
  httpAuth: HttpAuthService;
}): express.Router {
  const { groups, httpAuth } = options;
  const router = Router();
  router.use(express.json({ limit: '64kb' }));

  router.get(PROMOTION_GROUP_ROUTES.systemPromotions, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(
      await groups.ofSystem(
        parse(systemParams, req.params, 'system reference'),
        credentials,
      ),
    );
  });

  router.post(PROMOTION_GROUP_ROUTES.systemPromotions, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const system = parse(systemParams, req.params, 'system reference');
    const body = parse(groupBody, req.body, 'group promotion');
    res.status(201).json(await groups.request(system, credentials, body, req));
  });

  router.get(PROMOTION_GROUP_ROUTES.group, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(
      await groups.get(parse(groupId, req.params.id, 'group id'), credentials),
    );
  });

  router.post(PROMOTION_GROUP_ROUTES.groupMerge, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const id = parse(groupId, req.params.id, 'group id');
    parse(z.object({}).strict(), req.body, 'merge');
    res.json(await groups.merge(id, credentials, req));
  });

  router.post(PROMOTION_GROUP_ROUTES.groupClose, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const id = parse(groupId, req.params.id, 'group id');
    const body = parse(closeBody, req.body, 'close');
    res.json(await groups.close(id, credentials, body, req));
  });

  return router;
}
