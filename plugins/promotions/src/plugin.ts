import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { promotionsApiRef, PromotionsClient } from './api';
import { fleetRouteRef, inboxRouteRef, rootRouteRef } from './routes';

export { isPromotionsAvailable, isSystem } from './conditions';

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
  routes: { root: rootRouteRef, fleet: fleetRouteRef, inbox: inboxRouteRef },
});

/**
 * The Promotions tab, for an `EntityLayout.Route` of the entity page, shown where
 * `isPromotionsAvailable` holds and `isSystem` does not: a system has `SystemPromotionsContent`.
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

/**
 * A system's Promotions tab: its components × environments and a dialog to promote several
 * components to one environment together, for an `EntityLayout.Route` of the system page (shown
 * where `isSystem` holds).
 *
 * @public
 */
export const SystemPromotionsContent: () => JSX.Element =
  promotionsPlugin.provide(
    createComponentExtension({
      name: 'SystemPromotionsContent',
      component: {
        lazy: () =>
          import('./components/SystemPromotionsContent').then(
            m => m.SystemPromotionsContent,
          ),
      },
    }),
  );

/**
 * The entity's environments on its Overview, one compact row each, for the entity page's
 * `EntitySwitch.Case` where `isPromotionsAvailable` holds.
 *
 * @public
 */
export const EntityPromotionsCard: () => JSX.Element = promotionsPlugin.provide(
  createComponentExtension({
    name: 'EntityPromotionsCard',
    component: {
      lazy: () =>
        import('./components/EntityPromotionsCard').then(
          m => m.EntityPromotionsCard,
        ),
    },
  }),
);

/**
 * The fleet page: every service's versions per environment, for a `Route` at `/promotions/fleet`.
 *
 * @public
 */
export const PromotionsFleetPage: () => JSX.Element = promotionsPlugin.provide(
  createRoutableExtension({
    name: 'PromotionsFleetPage',
    component: () => import('./components/FleetPage').then(m => m.FleetPage),
    mountPoint: fleetRouteRef,
  }),
);

/**
 * The approver inbox: every open promotion waiting for the signed-in person, for a `Route` at
 * `/promotions`.
 *
 * @public
 */
export const PromotionsInboxPage: () => JSX.Element = promotionsPlugin.provide(
  createRoutableExtension({
    name: 'PromotionsInboxPage',
    component: () => import('./components/InboxPage').then(m => m.InboxPage),
    mountPoint: inboxRouteRef,
  }),
);
