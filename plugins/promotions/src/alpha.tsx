import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { promotionsApiRef, PromotionsClient } from './api';
import { isPromotionsAvailable } from './conditions';

const promotionsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: promotionsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new PromotionsClient(deps),
    }),
});

/** The Promotions tab of entities that name a GitOps repository. */
const promotionsEntityContent = EntityContentBlueprint.make({
  name: 'promotions',
  params: {
    path: 'promotions',
    title: 'Promotions',
    filter: isPromotionsAvailable,
    loader: () =>
      import('./components/EntityPromotionsContent').then(m => (
        <m.EntityPromotionsContent />
      )),
  },
});

/** The Promotions plugin for the new frontend system: its API and the entity tab. */
export default createFrontendPlugin({
  pluginId: 'promotions',
  extensions: [promotionsApi, promotionsEntityContent],
});
