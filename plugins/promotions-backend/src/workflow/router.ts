import { HttpAuthService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotFoundError } from '@backstage/errors';
import { PROMOTIONS_API_ROUTES } from '@gitops-promotions/plugin-promotions-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { PromotionsWorkflow } from './PromotionsWorkflow';

const name = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
    message: 'must be a lowercase name such as staging',
  });
const entityParams = z.object({
  kind: z.string().min(1).max(63),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
});
const comment = z.string().max(4000);

const promotionBody = z
  .object({
    to: name,
    version: z.string().min(1).max(200).optional(),
    from: name.optional(),
    images: z.enum(['service', 'all']).optional(),
    allowUnknownVersion: z.boolean().optional(),
    kind: z.enum(['promotion', 'rollback']).optional(),
    supersede: z.boolean().optional(),
    merge: z.boolean().optional(),
    baseCommit: z
      .string()
      .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, {
        message: 'must be a commit id',
      })
      .optional(),
  })
  .strict();
const previewBody = promotionBody.omit({
  supersede: true,
  merge: true,
  baseCommit: true,
});
const decisionBody = z.object({ comment: comment.optional() }).strict();
const mergeBody = z
  .object({
    override: z
      .object({ reason: z.string().min(1).max(4000) })
      .strict()
      .optional(),
  })
  .strict();
const closeBody = z.object({ reason: comment.optional() }).strict();
/** A freeze is lifted with a reason, as it was set with one: history keeps both. */
const liftBody = z
  .object({
    reason: z.string().trim().min(1, 'say why the freeze is lifted').max(4000),
  })
  .strict();
const freezeBody = z
  .object({
    entityRef: z.string().min(1).max(255),
    environment: z.union([name, z.literal('*')]),
    reason: z.string().min(1).max(4000),
  })
  .strict();
const historyQuery = z
  .object({
    environment: name.optional(),
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();
const promotionId = z.string().uuid();

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

/**
 * The workflow's REST API: promotions of an entity, their preview, decisions, merges and
 * closes, its history and versions, and freezes. People and services (CI, with an external
 * access token) use the same routes; the workflow decides what each may do.
 */
export function createWorkflowRouter(options: {
  workflow: PromotionsWorkflow;
  httpAuth: HttpAuthService;
}): express.Router {
  const { workflow, httpAuth } = options;
  const router = Router();
  router.use(express.json({ limit: '64kb' }));
  const entityRefOf = (params: unknown) =>
    stringifyEntityRef(parse(entityParams, params, 'entity reference'));

  router.get(PROMOTIONS_API_ROUTES.entityPromotions, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(await workflow.list(entityRefOf(req.params), credentials));
  });

  router.post(PROMOTIONS_API_ROUTES.entityPreview, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parse(previewBody, req.body, 'preview');
    res.json(
      await workflow.preview(entityRefOf(req.params), credentials, body),
    );
  });

  router.post(PROMOTIONS_API_ROUTES.entityPromotions, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parse(promotionBody, req.body, 'promotion');
    const promotion = await workflow.request(
      entityRefOf(req.params),
      credentials,
      body,
      req,
    );
    res.status(201).json(promotion);
  });

  router.get(PROMOTIONS_API_ROUTES.entityHistory, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parse(historyQuery, req.query, 'history query');
    res.json(
      await workflow.history(entityRefOf(req.params), credentials, query),
    );
  });

  router.get(PROMOTIONS_API_ROUTES.entityVersions, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { environment, ...entity } = req.params;
    res.json({
      versions: await workflow.versions(
        entityRefOf(entity),
        parse(name, environment, 'environment'),
        credentials,
      ),
    });
  });

  router.get(PROMOTIONS_API_ROUTES.promotion, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    res.json(
      await workflow.get(
        parse(promotionId, req.params.id, 'promotion id'),
        credentials,
      ),
    );
  });

  router.post(PROMOTIONS_API_ROUTES.promotionAction, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const id = parse(promotionId, req.params.id, 'promotion id');
    switch (req.params.action) {
      case 'approve':
      case 'reject': {
        const body = parse(decisionBody, req.body, 'decision');
        res.json(
          await workflow.decide(
            id,
            credentials,
            { decision: req.params.action, comment: body.comment },
            req,
          ),
        );
        return;
      }
      case 'merge':
        res.json(
          await workflow.merge(
            id,
            credentials,
            parse(mergeBody, req.body, 'merge'),
            req,
          ),
        );
        return;
      case 'queue':
      case 'unqueue':
        parse(z.object({}).strict(), req.body, req.params.action);
        res.json(
          req.params.action === 'queue'
            ? await workflow.queue(id, credentials, req)
            : await workflow.unqueue(id, credentials, req),
        );
        return;
      case 'close':
        res.json(
          await workflow.close(
            id,
            credentials,
            parse(closeBody, req.body, 'close'),
            req,
          ),
        );
        return;
      default:
        throw new NotFoundError(
          `No action "${req.params.action.slice(0, 32)}" on promotions`,
        );
    }
  });

  router.get(PROMOTIONS_API_ROUTES.freezes, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const entityRef =
      typeof req.query.entityRef === 'string' ? req.query.entityRef : undefined;
    res.json({ items: await workflow.freezes(credentials, entityRef) });
  });

  router.post(PROMOTIONS_API_ROUTES.freezes, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const body = parse(freezeBody, req.body, 'freeze');
    res.status(201).json(await workflow.freeze(credentials, body, req));
  });

  router.post(PROMOTIONS_API_ROUTES.freezeLift, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const id = parse(
      z.coerce.number().int().positive(),
      req.params.id,
      'freeze id',
    );
    const body = parse(liftBody, req.body, 'lift');
    res.json(await workflow.lift(credentials, id, body, req));
  });

  return router;
}
