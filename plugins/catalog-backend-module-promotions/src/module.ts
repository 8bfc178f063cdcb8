import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  catalogLocationsExtensionPoint,
  catalogProcessingExtensionPoint,
} from '@backstage/plugin-catalog-node';
import { promotionsRepositoriesServiceRef } from '@gitops-promotions/plugin-promotions-node';
import { GITOPS_LOCATION_TYPE } from '@gitops-promotions/plugin-promotions-common';
import { GitOpsLocationProcessor } from './GitOpsLocationProcessor';

/** Lets the catalog read entities from branches of promotions repositories. */
export const catalogModulePromotions = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'promotions',
  register(env) {
    env.registerInit({
      deps: {
        processing: catalogProcessingExtensionPoint,
        locations: catalogLocationsExtensionPoint,
        repositories: promotionsRepositoriesServiceRef,
        logger: coreServices.logger,
      },
      async init({ processing, locations, repositories, logger }) {
        processing.addProcessor(
          new GitOpsLocationProcessor({ repositories, logger }),
        );
        locations.setAllowedLocationTypes(['url', GITOPS_LOCATION_TYPE]);
      },
    });
  },
});
