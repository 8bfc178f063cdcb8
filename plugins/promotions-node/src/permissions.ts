import {
  createConditionExports,
  createPermissionResourceRef,
  createPermissionRule,
} from '@backstage/plugin-permission-node';
import { RESOURCE_TYPE_PROMOTIONS_ENVIRONMENT } from '@gitops-promotions/plugin-promotions-common';
import { z } from 'zod';

/**
 * One environment of one service, as the promotion permissions are decided on: its resource
 * ref is `<entity ref>#<environment>`.
 *
 * @public
 */
export interface PromotionsEnvironmentResource {
  entityRef: string;
  environment: string;
  /** The entity's owners: `spec.owner` and its `ownedBy` relations, as entity refs. */
  owners: string[];
  /** The environment's policy says `production: true`. */
  production: boolean;
}

/**
 * The resource ref of a service's environment.
 *
 * @public
 */
export const promotionsEnvironmentResourceRef = createPermissionResourceRef<
  PromotionsEnvironmentResource,
  never
>().with({
  pluginId: 'promotions',
  resourceType: RESOURCE_TYPE_PROMOTIONS_ENVIRONMENT,
});

const noQuery = (): never => {
  throw new Error(
    'Promotion environments are decided one at a time, never queried',
  );
};

const isEntityOwner = createPermissionRule({
  name: 'IS_ENTITY_OWNER',
  description: 'Allow when the user is among the owners of the service',
  resourceRef: promotionsEnvironmentResourceRef,
  paramsSchema: z.object({
    claims: z
      .array(z.string())
      .describe(
        'The user’s ownership entity refs: themselves and their groups',
      ),
  }),
  apply: (resource, { claims }) =>
    resource.owners.some(owner => claims.includes(owner)),
  toQuery: noQuery,
});

const isEnvironment = createPermissionRule({
  name: 'IS_ENVIRONMENT',
  description: 'Allow when the environment is one of those named',
  resourceRef: promotionsEnvironmentResourceRef,
  paramsSchema: z.object({
    environments: z.array(z.string()).describe('Environment names'),
  }),
  apply: (resource, { environments }) =>
    environments.includes(resource.environment),
  toQuery: noQuery,
});

const isProduction = createPermissionRule({
  name: 'IS_PRODUCTION',
  description:
    'Allow when the environment is a production one (`production: true` in its pipeline)',
  resourceRef: promotionsEnvironmentResourceRef,
  paramsSchema: z.object({}),
  apply: resource => resource.production,
  toQuery: noQuery,
});

/**
 * The rules a permission policy can decide promotion permissions with.
 *
 * @public
 */
export const promotionsEnvironmentRules = {
  isEntityOwner,
  isEnvironment,
  isProduction,
};

const exported = createConditionExports({
  resourceRef: promotionsEnvironmentResourceRef,
  rules: promotionsEnvironmentRules,
});

/**
 * Conditions for a permission policy: `isEntityOwner` (with the user's claims),
 * `isEnvironment` (with environment names) and `isProduction`.
 *
 * @public
 */
export const promotionsEnvironmentConditions = exported.conditions;

/**
 * Wraps conditions into a policy decision for a promotion permission.
 *
 * @public
 */
export const createPromotionsEnvironmentConditionalDecision =
  exported.createConditionalDecision;
