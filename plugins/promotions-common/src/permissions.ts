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
 *
 * @public
 */
export const promotionsLayoutPublishPermission = createPermission({
  name: 'promotions.layout.publish',
  attributes: { action: 'create' },
});

/**
 * Every permission of the promotions plugins.
 *
 * @public
 */
export const promotionsPermissions = [
  promotionsEntityReadPermission,
  promotionsRepositoryRefreshPermission,
  promotionsLayoutPublishPermission,
];
