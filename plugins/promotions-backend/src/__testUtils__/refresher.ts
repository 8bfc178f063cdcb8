import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  GitOpsRepository,
  gitRepositoryProvider,
  PromotionsRepositoriesService,
  RepositoryRegistry,
  resolveEnvironment,
} from '@gitops-promotions/plugin-promotions-node';
import {
  appendCommit,
  createGitFixture,
  shopDeployment,
  shopHistory,
  shopOverlay,
} from '@internal/promotions-fixtures';
import { parseBody, PromotionsStore } from '../state/PromotionsStore';
import { RepositoryRefresher } from '../state/RepositoryRefresher';
import { secretProtection } from '../state/secrets';
import { repositoryComponent } from './promotionsBackend';

/** A second service beside `shop`, so that a change to one shows what the other is spared. */
const cartFiles = {
  'cart/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
  'cart/base/deployment.yaml': shopDeployment('256kb').replace(/shop/g, 'cart'),
  'cart/overlays/dev/kustomization.yaml': shopOverlay('dev', '2.0.0').replace(
    /shop/g,
    'cart',
  ),
  'cart/overlays/staging/kustomization.yaml': shopOverlay(
    'staging',
    '2.0.0',
  ).replace(/shop/g, 'cart'),
  'cart/overlays/prod/kustomization.yaml': shopOverlay('prod', '2.0.0').replace(
    /shop/g,
    'cart',
  ),
};

/** Commits a new version of shop to staging, as a merged promotion would. */
export const promoteStaging = (
  dir: string,
  version: string,
  date: string,
  pullRequest = '',
) =>
  appendCommit(dir, {
    author: 'Chen Wei',
    date,
    message: `Promote shop ${version} to staging ${pullRequest}`.trim(),
    files: {
      'shop/overlays/staging/kustomization.yaml': shopOverlay(
        'staging',
        version,
      ),
    },
  });

/** A repository whose methods named in `overrides` are replaced; the others are its own. */
export function overriding(
  repository: GitOpsRepository,
  overrides: (original: GitOpsRepository) => Partial<GitOpsRepository>,
): GitOpsRepository {
  const replaced = overrides(repository) as Record<PropertyKey, unknown>;
  return new Proxy(repository, {
    get(target, property) {
      if (property in replaced) return replaced[property];
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The repositories, with each repository they answer seen through `wrap`. */
export function wrappedRepositories(
  repositories: PromotionsRepositoriesService,
  wrap: (repository: GitOpsRepository) => GitOpsRepository,
): PromotionsRepositoriesService {
  return {
    config: repositories.config,
    get: async id => wrap(await repositories.get(id)),
    addProvider: provider => repositories.addProvider(provider),
    providerTypes: () => repositories.providerTypes(),
  };
}

/**
 * The repository `gitops` (shop's history, then cart laid out beside it) in a Git fixture, a
 * store in `databaseId`, and refreshers of it over the components `shop` and `cart`.
 */
export async function refresherFixture(
  databases: TestDatabases,
  databaseId: Parameters<TestDatabases['init']>[0],
) {
  const dir = createGitFixture([
    ...shopHistory,
    {
      author: 'Dana Ruiz',
      date: '2026-10-21T09:00:00Z',
      message: 'Lay out cart',
      files: cartFiles,
    },
  ]);
  const rootConfig = new ConfigReader({
    promotions: {
      repositories: [
        {
          id: 'gitops',
          provider: 'git',
          url: dir,
          paths: [
            '{entity.metadata.name}/**',
            'charts/{entity.metadata.name}/**',
          ],
        },
      ],
    },
  });
  const repositories = new RepositoryRegistry({
    rootConfig,
    logger: mockServices.logger.mock(),
    started: Promise.resolve(),
    providers: [gitRepositoryProvider],
  });
  const knex = await databases.init(databaseId);
  const store = await PromotionsStore.create(
    mockServices.database({ knex, migrations: { skip: false } }),
  );
  const entities = [
    repositoryComponent('shop', 'gitops', 'shop/overlays/{env}'),
    repositoryComponent('cart', 'gitops', 'cart/overlays/{env}'),
  ];
  const refresherOf = (
    catalogEntities: Entity[],
    options: Partial<ConstructorParameters<typeof RepositoryRefresher>[0]> = {},
  ) =>
    new RepositoryRefresher({
      config: repositories.config,
      repositories,
      resolver: { resolve: resolveEnvironment },
      store,
      secrets: secretProtection(Buffer.from('test key')),
      catalog: catalogServiceMock({ entities: catalogEntities }),
      auth: mockServices.auth(),
      logger: mockServices.logger.mock(),
      ...options,
    });
  const refresher = refresherOf(entities);
  const body = async (name: string) => {
    const stored = await store.get(`component:default/${name}`);
    return { body: parseBody(stored!.body!), asOf: stored!.asOf };
  };
  return {
    dir,
    refresher,
    refresherOf,
    store,
    body,
    entities,
    repositories,
    knex,
  };
}
