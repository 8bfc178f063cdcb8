import {
  coreServices,
  createServiceFactory,
  createServiceRef,
} from '@backstage/backend-plugin-api';
import { readPromotionsConfig } from './config';
import {
  PromotionsRepositoriesService,
  RepositoryRegistry,
  RepositorySnapshot,
} from './repository';
import {
  ResolvedEnvironment,
  resolveEnvironment,
  ResolveOptions,
} from './resolve';
import { ResolverPool } from './resolve/worker/ResolverPool';

/**
 * The configured GitOps repositories, built once per backend and shared by the promotions
 * backend, the scaffolder module and the catalog module: one clone or cache per repository.
 * Providers arrive through `promotionsRepositoryProvidersExtensionPoint` only: the promotions
 * backend adds its `git` and `github` providers there, as a module adds another.
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
          });
        },
      }),
  });

/**
 * Resolves environments within the configured limits, on worker threads shared by every plugin
 * and module of the backend (`promotions.resolution`).
 *
 * @public
 */
export interface PromotionsResolverService {
  /**
   * What an environment would deploy. Throws a `ResolutionError` naming the file at fault when
   * the repository's content cannot be resolved, or is over its limits.
   */
  resolve(
    snapshot: RepositorySnapshot,
    path: string,
    options?: ResolveOptions,
  ): Promise<ResolvedEnvironment>;
}

/**
 * The resolver service.
 *
 * @public
 */
export const promotionsResolverServiceRef =
  createServiceRef<PromotionsResolverService>({
    id: 'promotions.resolver',
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
          const { resolution } = readPromotionsConfig(rootConfig);
          const withLimits = (options: ResolveOptions = {}) => ({
            ...options,
            limits: options.limits ?? resolution.limits,
          });
          if (resolution.workers === 0) {
            return {
              resolve: (snapshot, path, options) =>
                resolveEnvironment(snapshot, path, withLimits(options)),
            };
          }
          const pool = new ResolverPool({
            size: resolution.workers,
            logger: rootLogger.child({ plugin: 'promotions' }),
            resourceLimits: {
              maxOldGenerationSizeMb: resolution.workerMemoryMb,
            },
          });
          rootLifecycle.addShutdownHook(() => pool.close());
          return {
            resolve: (snapshot, path, options) =>
              pool.resolve(snapshot, path, withLimits(options)),
          };
        },
      }),
  });
