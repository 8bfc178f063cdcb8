import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { readPromotionsConfig } from './config';
import { createRepositories } from './repository';
import { createRouter } from './router';
import { PromotionsRefresher } from './service/refresh';
import { PromotionsStore } from './service/store';

const REFRESH_TASK = 'promotions-refresh';

/** The GitOps Promotions backend plugin. */
export const promotionsPlugin = createBackendPlugin({
  pluginId: 'promotions',
  register(env) {
    env.registerInit({
      deps: {
        rootConfig: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        catalog: catalogServiceRef,
      },
      async init({
        rootConfig,
        logger,
        database,
        scheduler,
        httpRouter,
        httpAuth,
        auth,
        catalog,
      }) {
        const config = readPromotionsConfig(rootConfig);
        const repositories = createRepositories(config.repositories.values(), {
          rootConfig,
          logger,
        });
        const store = await PromotionsStore.create(database);
        const refresher = new PromotionsRefresher({
          config,
          repositories,
          store,
          catalog,
          auth,
          logger,
        });

        await scheduler.scheduleTask({
          id: REFRESH_TASK,
          scope: 'global',
          ...config.refresh,
          fn: async () => {
            const summary = await refresher.refreshAll();
            logger.info(
              `Refreshed promotions of ${summary.entities} entities: ${summary.computed} recomputed, ${summary.unchanged} unchanged, ${summary.failed} failed`,
            );
          },
        });

        httpRouter.use(
          await createRouter({
            config,
            store,
            catalog,
            httpAuth,
            logger,
            requestRefresh: () => {
              scheduler.triggerTask(REFRESH_TASK).catch(() => {
                // Already running or about to: the entity is picked up by that run.
              });
            },
          }),
        );
      },
    });
  },
});
