import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { ANNOTATION_REPOSITORY } from '@gitops-promotions/plugin-promotions-common';
import { promotionsApiRef, PromotionsClient } from './api';
import { rootRouteRef } from './routes';

/** The Promotions plugin, for apps on the legacy frontend system. */
export const promotionsPlugin = createPlugin({
  id: 'promotions',
  apis: [
    createApiFactory({
      api: promotionsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new PromotionsClient(deps),
    }),
  ],
  routes: { root: rootRouteRef },
});

/** The Promotions tab content, for an `EntityLayout.Route`. */
export const EntityPromotionsContent = promotionsPlugin.provide(
  createRoutableExtension({
    name: 'EntityPromotionsContent',
    component: () => import('./components/EntityPromotionsContent').then(m => m.EntityPromotionsContent),
    mountPoint: rootRouteRef,
  }),
);

/** Whether an entity has promotions: it names a GitOps repository. */
export const isPromotionsAvailable = (entity: Entity) =>
  Boolean(entity.metadata.annotations?.[ANNOTATION_REPOSITORY]);
