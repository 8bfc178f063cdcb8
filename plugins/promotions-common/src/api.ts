/**
 * The REST API's routes, relative to the plugin's base URL.
 *
 * @public
 */
export const PROMOTIONS_API_ROUTES = {
  entity: '/v1/entities/:kind/:namespace/:name',
  repositoryRefresh: '/v1/repositories/:id/refresh',
  scaffolds: '/v1/scaffolds',
  fleet: '/v1/fleet',
  entityPromotions: '/v1/entities/:kind/:namespace/:name/promotions',
  entityPreview: '/v1/entities/:kind/:namespace/:name/promotions/preview',
  entityHistory: '/v1/entities/:kind/:namespace/:name/history',
  entityFigures: '/v1/entities/:kind/:namespace/:name/figures',
  fleetFigures: '/v1/figures',
  entityVersions:
    '/v1/entities/:kind/:namespace/:name/environments/:environment/versions',
  promotion: '/v1/promotions/:id',
  promotionAction: '/v1/promotions/:id/:action',
  inbox: '/v1/inbox',
  freezes: '/v1/freezes',
  freezeLift: '/v1/freezes/:id/lift',
} as const;

/**
 * The path of an entity's promotions below the plugin's base URL.
 *
 * @public
 */
export function entityPromotionsPath(entity: {
  kind: string;
  namespace: string;
  name: string;
}): string {
  return `/v1/entities/${[entity.kind, entity.namespace, entity.name]
    .map(encodeURIComponent)
    .join('/')}`;
}

/**
 * The catalog location type of a file on a branch of a promotions repository, read by the
 * promotions catalog module: `<repository id>:<branch>:<path>`.
 *
 * @public
 */
export const GITOPS_LOCATION_TYPE = 'gitops-promotions';

/**
 * The target of a `gitops-promotions` location.
 *
 * @public
 */
export function gitopsLocationTarget(
  repository: string,
  branch: string,
  path: string,
): string {
  return `${repository}:${branch}:${path}`;
}
