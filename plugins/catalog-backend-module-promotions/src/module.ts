import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { promotionsRepositoriesServiceRef } from '@gitops-promotions/plugin-promotions-node';
import { GitOpsLocationProcessor } from './GitOpsLocationProcessor';
import { ScaffoldLocationProvider } from './ScaffoldLocationProvider';

/**
 * Lets the catalog read entities from branches of promotions repositories.
 *
 * @public
 */
export const catalogModulePromotions = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'promotions',
  register(env) {
    env.registerInit({
      deps: {
        processing: catalogProcessingExtensionPoint,
        repositories: promotionsRepositoriesServiceRef,
        logger: coreServices.logger,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
        scheduler: coreServices.scheduler,
      },
      async init({
        processing,
        repositories,
        logger,
        discovery,
        auth,
        scheduler,
      }) {
        // Registered by the provider only: the catalog's API keeps refusing the location type.
        const provider = new ScaffoldLocationProvider({
          discovery,
          auth,
          repositories,
          logger,
          taskRunner: scheduler.createScheduledTaskRunner({
            frequency: { seconds: 10 },
            timeout: { minutes: 1 },
          }),
        });
        processing.addEntityProvider(provider);
        processing.addProcessor(
          new GitOpsLocationProcessor({
            repositories,
            logger,
            branches: provider,
          }),
        );
        logger.info(
          `Registering scaffolded services from the branches of promotions repositories ${[
            ...repositories.config.repositories.keys(),
          ].join(', ')}`,
        );
      },
    });
  },
});
