import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import {
  promotionsRepositoriesServiceRef,
  promotionsResolverServiceRef,
} from '@gitops-promotions/plugin-promotions-node';
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
        repositories: promotionsRepositoriesServiceRef,
        resolver: promotionsResolverServiceRef,
        catalog: catalogServiceRef,
        permissions: coreServices.permissions,
      },
      async init({ scaffolder, repositories, resolver, catalog, permissions }) {
        const { config } = repositories;
        scaffolder.addActions(
          createPlanEnvironmentsAction({ config }),
          createValidateLayoutAction({ resolver }),
          createPublishGitAction({ repositories, permissions }),
          createRegisterEntityAction({ config, catalog }),
        );
      },
    });
  },
});
