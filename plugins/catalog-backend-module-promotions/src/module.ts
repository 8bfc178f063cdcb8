import os from 'node:os';
import path from 'node:path';
import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import {
  catalogLocationsExtensionPoint,
  catalogProcessingExtensionPoint,
} from '@backstage/plugin-catalog-node';
import { readPromotionsConfig } from '@gitops-promotions/plugin-promotions-backend';
import {
  GITOPS_LOCATION_TYPE,
  GitOpsLocationProcessor,
} from './GitOpsLocationProcessor';

/** Lets the catalog read entities from promotions repositories of the `git` provider. */
export const catalogModulePromotions = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'promotions',
  register(env) {
    env.registerInit({
      deps: {
        processing: catalogProcessingExtensionPoint,
        locations: catalogLocationsExtensionPoint,
        rootConfig: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ processing, locations, rootConfig, logger }) {
        const cacheDir = path.join(
          rootConfig.getOptionalString('backend.workingDirectory') ??
            os.tmpdir(),
          'backstage-promotions-catalog',
        );
        processing.addProcessor(
          new GitOpsLocationProcessor({
            config: readPromotionsConfig(rootConfig),
            cacheDir,
            logger,
          }),
        );
        locations.setAllowedLocationTypes(['url', GITOPS_LOCATION_TYPE]);
      },
    });
  },
});
