import { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  DEFAULT_DELIVERY_FIGURE_WINDOW,
  DELIVERY_FIGURE_WINDOWS,
  FLEET_FIGURES_OWNER_LIMIT,
  ownerEntityRef,
  PROMOTIONS_API_ROUTES,
} from '@gitops-promotions/plugin-promotions-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { FiguresService } from './FiguresService';

const entityParams = z.object({
  kind: z.string().min(1).max(63),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
});
const days = z.coerce
  .number()
  .int()
  .refine(
    value => (DELIVERY_FIGURE_WINDOWS as readonly number[]).includes(value),
    { message: `must be one of ${DELIVERY_FIGURE_WINDOWS.join(', ')}` },
  )
  .default(DEFAULT_DELIVERY_FIGURE_WINDOW);
const entityQuery = z.object({ days }).strict();
const ownerRef = z
  .string()
  .min(1)
  .max(255)
  .transform((value, context) => {
    const ref = ownerEntityRef(value);
    if (!ref) {
      context.addIssue({ code: 'custom', message: 'must be an entity ref' });
      return z.NEVER;
    }
    return ref;
  });
const fleetQuery = z
  .object({
    owner: z
      .union([ownerRef.transform(o => [o]), z.array(ownerRef)])
      .pipe(z.array(z.string()).min(1).max(FLEET_FIGURES_OWNER_LIMIT)),
    days,
  })
  .strict();

function parse<S extends z.ZodTypeAny>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new InputError(
      `Invalid ${what}: ${parsed.error.issues
        .map(i => `${i.path.join('.') || 'query'}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

/**
 * Delivery figures: a service's, and the fleet's per owner, for callers who may read the
 * services' promotions.
 */
export function createFiguresRouter(options: {
  figures: FiguresService;
  httpAuth: HttpAuthService;
}): express.Router {
  const { figures, httpAuth } = options;
  const router = Router();

  router.get(PROMOTIONS_API_ROUTES.entityFigures, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const entity = parse(entityParams, req.params, 'entity reference');
    const query = parse(entityQuery, req.query, 'figures query');
    res.json(await figures.entityFigures(entity, credentials, query.days));
  });

  router.get(PROMOTIONS_API_ROUTES.fleetFigures, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const query = parse(fleetQuery, req.query, 'figures query');
    res.json(
      await figures.ownerFigures(
        [...new Set(query.owner)],
        credentials,
        query.days,
      ),
    );
  });

  return router;
}
