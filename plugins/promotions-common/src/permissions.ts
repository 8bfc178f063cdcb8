import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Reading an entity's promotions: its environments, versions, drift and history. Guarded on top
 * of the entity's own visibility in the catalog, on the catalog's resource type, so that a
 * policy can use the catalog's rules (owner, kind, annotations) for it.
 *
 * @public
 */
export const promotionsEntityReadPermission = createPermission({
  name: 'promotions.entity.read',
  attributes: { action: 'read' },
  resourceType: 'catalog-entity',
});

/**
 * Reading a repository now rather than at the next scheduled refresh (CI after a push).
 *
 * @public
 */
export const promotionsRepositoryRefreshPermission = createPermission({
  name: 'promotions.repository.refresh',
  attributes: { action: 'update' },
});

/**
 * Publishing a new service's GitOps layout to a repository (the scaffolder's publish action).
 * Decided on the catalog entity the layout registers, before the catalog holds it, so that a
 * policy can let owners publish their own services (`IS_ENTITY_OWNER`); the action judges the
 * catalog's owner and kind rules itself and refuses a decision with any other rule.
 *
 * @public
 */
export const promotionsLayoutPublishPermission = createPermission({
  name: 'promotions.layout.publish',
  attributes: { action: 'create' },
  resourceType: 'catalog-entity',
});

/**
 * The resource type of one environment of one service, which promotions act on.
 *
 * @public
 */
export const RESOURCE_TYPE_PROMOTIONS_ENVIRONMENT = 'promotions-environment';

/**
 * The reference of an environment of an entity, as a permission's resource ref.
 *
 * @public
 */
export const environmentResourceRef = (
  entityRef: string,
  environment: string,
) => `${entityRef}#${environment}`;

/**
 * An environment resource ref split into its entity and environment.
 *
 * @public
 */
export function parseEnvironmentResourceRef(
  resourceRef: string,
): { entityRef: string; environment: string } | undefined {
  const hash = resourceRef.lastIndexOf('#');
  if (hash <= 0) return undefined;
  return {
    entityRef: resourceRef.slice(0, hash),
    environment: resourceRef.slice(hash + 1),
  };
}

const environmentPermission = (
  name: string,
  action: 'create' | 'update' | 'delete',
) =>
  createPermission({
    name,
    attributes: { action },
    resourceType: RESOURCE_TYPE_PROMOTIONS_ENVIRONMENT,
  });

/**
 * Asking for a version to be promoted to an environment, or rolled back in it.
 *
 * @public
 */
export const promotionsPromotePermission = environmentPermission(
  'promotions.promote',
  'create',
);

/**
 * Approving or rejecting a promotion to an environment.
 *
 * @public
 */
export const promotionsApprovePermission = environmentPermission(
  'promotions.approve',
  'update',
);

/**
 * Merging a promotion whose gates pass, or closing one.
 *
 * @public
 */
export const promotionsMergePermission = environmentPermission(
  'promotions.merge',
  'update',
);

/**
 * Merging despite a change window or a freeze, with a reason, in an emergency.
 *
 * @public
 */
export const promotionsOverridePermission = environmentPermission(
  'promotions.override',
  'update',
);

/**
 * Freezing an environment, and lifting a freeze.
 *
 * @public
 */
export const promotionsFreezePermission = environmentPermission(
  'promotions.freeze',
  'update',
);

/**
 * Every permission of the promotions plugins.
 *
 * @public
 */
export const promotionsPermissions = [
  promotionsEntityReadPermission,
  promotionsRepositoryRefreshPermission,
  promotionsLayoutPublishPermission,
  promotionsPromotePermission,
  promotionsApprovePermission,
  promotionsMergePermission,
  promotionsOverridePermission,
  promotionsFreezePermission,
];

/**
 * The environment permissions a policy decides, by resource.
 *
 * @public
 */
export const promotionsEnvironmentPermissions = [
  promotionsPromotePermission,
  promotionsApprovePermission,
  promotionsMergePermission,
  promotionsOverridePermission,
  promotionsFreezePermission,
];
