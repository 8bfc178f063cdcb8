import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import {
  promotionsRepositoriesServiceRef,
  promotionsResolverServiceRef,
} from '@gitops-promotions/plugin-promotions-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { createCheckPublishAction } from './actions/checkPublish';
import { createPlanEnvironmentsAction } from './actions/planEnvironments';
import { createPromoteAction } from './actions/promote';
import { createPublishGitAction } from './actions/publishGit';
import { createRegisterEntityAction } from './actions/registerEntity';
import { createValidateLayoutAction } from './actions/validateLayout';

/**
 * Scaffolder actions of GitOps Promotions.
 *
 * @public
 */
export const scaffolderModulePromotions = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'promotions',
  register(env) {
    env.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        repositories: promotionsRepositoriesServiceRef,
        resolver: promotionsResolverServiceRef,
        permissions: coreServices.permissions,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
        catalog: catalogServiceRef,
      },
      async init({
        scaffolder,
        repositories,
        resolver,
        permissions,
        discovery,
        auth,
        catalog,
      }) {
        const { config } = repositories;
        scaffolder.addActions(
          createPlanEnvironmentsAction({ config }),
          createValidateLayoutAction({ resolver }),
          createCheckPublishAction({
            repositories,
            permissions,
            auth,
            catalog,
          }),
          createPublishGitAction({ repositories, permissions }),
          createRegisterEntityAction({
            config,
            discovery,
            auth,
            permissions,
            catalog,
          }),
          createPromoteAction({ discovery, auth }),
        );
      },
    });
  },
});
