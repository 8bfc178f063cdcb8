import {
  ApiBlueprint,
  createFrontendPlugin,
  createRouteRef,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { ANNOTATION_REPOSITORY } from '@gitops-promotions/plugin-promotions-common';
import ViewModuleIcon from '@material-ui/icons/ViewModule';
import MoveToInboxIcon from '@material-ui/icons/MoveToInbox';
import { promotionsApiRef, PromotionsClient } from './api';
import { isPromotionsAvailable, isSystem } from './conditions';

const promotionsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: promotionsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new PromotionsClient(deps),
    }),
});

/** The Promotions tab of entities that name a GitOps repository; a system has its own. */
const promotionsEntityContent = EntityContentBlueprint.make({
  name: 'promotions',
  params: {
    path: 'promotions',
    title: 'Promotions',
    filter: (entity: Entity) =>
      isPromotionsAvailable(entity) && !isSystem(entity),
    loader: () =>
      import('./components/EntityPromotionsContent').then(m => (
        <m.EntityPromotionsContent />
      )),
  },
});

/** A system's Promotions tab: its components × environments, promoted together. */
const systemPromotionsEntityContent = EntityContentBlueprint.make({
  name: 'system-promotions',
  params: {
    path: 'promotions',
    title: 'Promotions',
    filter: isSystem,
    loader: () =>
      import('./components/SystemPromotionsContent').then(m => (
        <m.SystemPromotionsContent />
      )),
  },
});

/** The entity's environments on its Overview, for entities that name a GitOps repository. */
const promotionsEntityCard = EntityCardBlueprint.make({
  name: 'promotions',
  params: {
    filter: {
      [`metadata.annotations.${ANNOTATION_REPOSITORY}`]: { $exists: true },
    },
    loader: () =>
      import('./components/EntityPromotionsCard').then(m => (
        <m.EntityPromotionsCard />
      )),
  },
});

/**
 * The fleet page's own route: the approver inbox has the plugin's root.
 *
 * @alpha
 */
export const fleetPageRouteRef = createRouteRef();

/** Every service's versions per environment, with a sidebar entry. */
const promotionsFleetPage = PageBlueprint.make({
  name: 'fleet',
  params: {
    path: '/promotions/fleet',
    title: 'Fleet',
    icon: <ViewModuleIcon />,
    routeRef: fleetPageRouteRef,
    loader: () => import('./components/FleetPage').then(m => <m.FleetPage />),
  },
});

/**
 * The approver inbox's route: the plugin's root page.
 *
 * @alpha
 */
export const inboxPageRouteRef = createRouteRef();

/** The approver inbox: every promotion waiting for the signed-in person, with a sidebar entry. */
const promotionsInboxPage = PageBlueprint.make({
  name: 'inbox',
  params: {
    path: '/promotions',
    title: 'Promotions',
    icon: <MoveToInboxIcon />,
    routeRef: inboxPageRouteRef,
    loader: () => import('./components/InboxPage').then(m => <m.InboxPage />),
  },
});

/** The Promotions plugin for the new frontend system: its API, the entity tab, card and fleet page. */
export default createFrontendPlugin({
  pluginId: 'promotions',
  routes: { fleet: fleetPageRouteRef, inbox: inboxPageRouteRef },
  extensions: [
    promotionsApi,
    promotionsEntityContent,
    systemPromotionsEntityContent,
    promotionsEntityCard,
    promotionsFleetPage,
    promotionsInboxPage,
  ],
});
