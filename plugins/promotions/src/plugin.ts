import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { promotionsApiRef, PromotionsClient } from './api';
import { rootRouteRef } from './routes';

export { isPromotionsAvailable } from './conditions';

/**
 * The Promotions plugin, for apps on the legacy frontend system.
 *
 * @public
 */
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

/**
 * The Promotions tab, for an `EntityLayout.Route` of the entity page, shown where
 * `isPromotionsAvailable` holds.
 *
 * @public
 */
export const EntityPromotionsContent: () => JSX.Element =
  promotionsPlugin.provide(
    createRoutableExtension({
      name: 'EntityPromotionsContent',
      component: () =>
        import('./components/EntityPromotionsContent').then(
          m => m.EntityPromotionsContent,
        ),
      mountPoint: rootRouteRef,
    }),
  );
