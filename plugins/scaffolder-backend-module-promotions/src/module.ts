import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { readPromotionsConfig } from '@gitops-promotions/plugin-promotions-backend';
import { createPlanEnvironmentsAction } from './actions/planEnvironments';
import { createPublishGitAction } from './actions/publishGit';
import { createRegisterEntityAction } from './actions/registerEntity';
import { createValidateLayoutAction } from './actions/validateLayout';

/** Scaffolder actions of GitOps Promotions. */
export const scaffolderModulePromotions = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'promotions',
  register(env) {
    env.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        rootConfig: coreServices.rootConfig,
        catalog: catalogServiceRef,
      },
      async init({ scaffolder, rootConfig, catalog }) {
        const config = readPromotionsConfig(rootConfig);
        scaffolder.addActions(
          createPlanEnvironmentsAction({ config }),
          createValidateLayoutAction(),
          createPublishGitAction({ config }),
          createRegisterEntityAction({ config, catalog }),
        );
      },
    });
  },
});
