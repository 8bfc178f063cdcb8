import { discoveryApiRef, fetchApiRef } from '@backstage/core-plugin-api';
import { ApiBlueprint, createFrontendPlugin } from '@backstage/frontend-plugin-api';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { promotionsApiRef, PromotionsClient } from './api';
import { isPromotionsAvailable } from './plugin';

const promotionsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: promotionsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new PromotionsClient(deps),
    }),
});

const promotionsEntityContent = EntityContentBlueprint.make({
  name: 'promotions',
  params: {
    path: 'promotions',
    title: 'Promotions',
    filter: isPromotionsAvailable,
    loader: () =>
      import('./components/EntityPromotionsContent').then(m => <m.EntityPromotionsContent />),
  },
});

/** The Promotions plugin for the new frontend system: an API and the entity tab. */
export default createFrontendPlugin({
  pluginId: 'promotions',
  extensions: [promotionsApi, promotionsEntityContent],
});
