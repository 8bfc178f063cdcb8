import { HttpAuthService } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  DRIFT_KINDS,
  FLEET_PAGE_LIMIT,
  FleetQuery,
  ownerEntityRef,
  PROMOTIONS_API_ROUTES,
} from '@gitops-promotions/plugin-promotions-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { FleetStore } from './FleetStore';

const text = z.string().trim().min(1).max(255).optional();
const environment = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'not an environment name');

/** Any spelling of an owner, as the fleet stores it: `team-a` is `group:default/team-a`. */
const owner = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .transform((value, context) => {
    const ref = ownerEntityRef(value);
    if (!ref) {
      context.addIssue({ code: 'custom', message: 'must be an entity ref' });
      return z.NEVER;
    }
    return ref;
  })
  .optional();

const fleetParams = z
  .object({
    owner,
    system: text,
    lifecycle: text,
    drift: z.enum(DRIFT_KINDS as [string, ...string[]]).optional(),
    driftEnvironment: environment.optional(),
    // `name`, `owner`, or `version:<environment>` / `drift:<environment>`.
    sort: z
      .string()
      .max(80)
      .regex(
        /^(name|owner|(version|drift):[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/,
        'must be name, owner, version:<environment> or drift:<environment>',
      )
      .optional(),
    order: z.enum(['asc', 'desc']).optional(),
    offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
    limit: z.coerce.number().int().min(1).max(FLEET_PAGE_LIMIT).optional(),
  })
  .strict();

/** The fleet page's route: one page of every annotated service's environments. */
export function createFleetRouter(options: {
  fleet: FleetStore;
  httpAuth: HttpAuthService;
}): express.Router {
  const router = Router();
  router.get(PROMOTIONS_API_ROUTES.fleet, async (req, res) => {
    const parsed = fleetParams.safeParse(req.query);
    if (!parsed.success) {
      throw new InputError(
        `Invalid fleet query: ${parsed.error.issues
          .map(i => `${i.path.join('.') || 'query'}: ${i.message}`)
          .join(', ')}`,
      );
    }
    const { sort, drift, ...rest } = parsed.data;
    const [by, sortEnvironment] = (sort ?? 'name').split(':');
    const query: FleetQuery = {
      ...rest,
      drift: drift as FleetQuery['drift'],
      sort:
        by === 'version' || by === 'drift'
          ? { by, environment: sortEnvironment }
          : { by: by as 'name' | 'owner' },
    };
    const credentials = await options.httpAuth.credentials(req);
    res.json(await options.fleet.page(query, credentials));
  });
  return router;
}
