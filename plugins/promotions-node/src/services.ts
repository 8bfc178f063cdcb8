import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import {
  gitRepositoryProvider,
  githubRepositoryProvider,
  PromotionsRepositoriesService,
  RepositoryRegistry,
} from './repository';

/**
 * The configured GitOps repositories, built once per backend and shared by the promotions
 * backend, the scaffolder module and the catalog module: one clone or cache per repository.
 * The `git` and `github` providers are built in; modules add others through
 * `promotionsRepositoryProvidersExtensionPoint`.
 *
 * @public
 */
export const promotionsRepositoriesServiceRef =
  createServiceRef<PromotionsRepositoriesService>({
    id: 'promotions.repositories',
    scope: 'root',
    defaultFactory: async service =>
      createServiceFactory({
        service,
        deps: {
          rootConfig: coreServices.rootConfig,
          rootLogger: coreServices.rootLogger,
          rootLifecycle: coreServices.rootLifecycle,
        },
        factory({ rootConfig, rootLogger, rootLifecycle }) {
          let markStarted: () => void = () => {};
          const started = new Promise<void>(resolve => {
            markStarted = resolve;
          });
          rootLifecycle.addStartupHook(() => markStarted());
          return new RepositoryRegistry({
            rootConfig,
            logger: rootLogger.child({ plugin: 'promotions' }),
            started,
            providers: [gitRepositoryProvider, githubRepositoryProvider],
          });
        },
      }),
  });
