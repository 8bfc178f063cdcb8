import {
  createBackendModule,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { NotAllowedError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  CommitInfo,
  gitBlobId,
  GitOpsRepository,
  GitOpsRepositoryProvider,
  promotionsRepositoriesServiceRef,
  promotionsRepositoryProvidersExtensionPoint,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import { shopHistory } from '@gitops-promotions/plugin-promotions-node/testUtils';
import request from 'supertest';
import { promotionsPlugin } from './plugin';

/**
 * A read-only repository held in memory: the commits of a fixture, replayed. It stands for a
 * provider a module adds (GitLab, Bitbucket) without the suite knowing of it.
 */
class MemoryRepository implements GitOpsRepository {
  readonly branch = 'main';
  private readonly commits: Array<{
    info: CommitInfo;
    files: Map<string, Buffer>;
    changed: string[];
  }> = [];

  constructor(readonly id: string) {
    let files = new Map<string, Buffer>();
    shopHistory.forEach((commit, i) => {
      files = new Map(files);
      for (const [path, content] of Object.entries(commit.files)) {
        if (content === null) files.delete(path);
        else files.set(path, Buffer.from(content));
      }
      const sha = gitBlobId(Buffer.from(`commit ${i}`));
      this.commits.unshift({
        info: {
          sha,
          authorName: commit.author,
          authorEmail: `${i}@example.com`,
          authoredAt: new Date(commit.date).toISOString(),
          message: commit.message,
        },
        files,
        changed: Object.keys(commit.files),
      });
    });
  }

  async snapshot() {
    return this.snapshotAt(this.commits[0].info.sha);
  }

  async snapshotAt(commit: string): Promise<RepositorySnapshot> {
    const found = this.commits.find(c => c.info.sha === commit);
    if (!found) throw new Error(`no commit ${commit}`);
    return {
      commit,
      files: new Map(
        [...found.files].map(([path, content]) => [
          path,
          { path, oid: gitBlobId(content), size: content.length },
        ]),
      ),
      readFile: async path => found.files.get(path),
    };
  }

  async history(commit: string, paths: string[], limit: number) {
    const start = this.commits.findIndex(c => c.info.sha === commit);
    return this.commits
      .slice(start)
      .filter(c =>
        c.changed.some(file =>
          paths.some(p => file === p || file.startsWith(`${p}/`)),
        ),
      )
      .slice(0, limit)
      .map(c => c.info);
  }

  async branchHead(branch: string) {
    return branch === 'main' ? this.commits[0].info.sha : undefined;
  }

  private readOnly(): never {
    throw new NotAllowedError(`Repository ${this.id} is read-only`);
  }
  createBranch = async () => this.readOnly();
  commitFiles = async () => this.readOnly();
  compare = async () => this.readOnly();
  merge = async () => this.readOnly();
  deleteBranch = async () => this.readOnly();
}

const memoryProvider: GitOpsRepositoryProvider = {
  type: 'memory',
  create: ({ repository }) => new MemoryRepository(repository.id),
};

const memoryProviderModule = createBackendModule({
  pluginId: 'promotions',
  moduleId: 'memory-provider',
  register(env) {
    env.registerInit({
      deps: { providers: promotionsRepositoryProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProvider(memoryProvider);
      },
    });
  },
});

const shop = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'shop',
    namespace: 'default',
    annotations: {
      'gitops-promotions/repository': 'in-memory',
      'gitops-promotions/path': 'shop/overlays/{env}',
    },
  },
  spec: { type: 'service', owner: 'guests' },
};

const config = {
  promotions: {
    repositories: [
      {
        id: 'in-memory',
        provider: 'memory',
        url: 'memory:shop',
        paths: [
          '{entity.metadata.name}/**',
          'charts/{entity.metadata.name}/**',
        ],
      },
    ],
  },
};

describe('the repository providers extension point', () => {
  it('lets a module add a third provider that the backend reads like git and github', async () => {
    const scheduler = mockServices.scheduler() as ReturnType<
      typeof mockServices.scheduler
    > & {
      factory(options: { skipTaskRunOnStartup: boolean }): ServiceFactory;
    };
    let seen: string[] = [];
    const probe = createBackendModule({
      pluginId: 'promotions',
      moduleId: 'probe',
      register(env) {
        env.registerInit({
          deps: { repositories: promotionsRepositoriesServiceRef },
          async init({ repositories }) {
            seen = repositories.providerTypes();
          },
        });
      },
    });
    const { server } = await startTestBackend({
      features: [
        promotionsPlugin,
        memoryProviderModule,
        probe,
        scheduler.factory({ skipTaskRunOnStartup: true }),
        catalogServiceMock.factory({ entities: [shop] }),
        mockServices.rootConfig.factory({ data: config }),
      ],
    });
    expect(seen).toEqual(expect.arrayContaining(['git', 'github']));

    await scheduler.triggerTask('promotions-refresh:in-memory');
    const res = await request(server).get(
      '/api/promotions/v1/entities/component/default/shop',
    );
    expect(res.status).toBe(200);
    expect(
      res.body.environments.map((e: any) => [e.name, e.desired.version]),
    ).toEqual([
      ['dev', '1.2.0'],
      ['staging', '1.1.0'],
      ['prod', '1.0.0'],
    ]);
    expect(res.body.environments[0].desired.lastChange).toMatchObject({
      author: 'Ben Okafor',
      pullRequest: 7,
    });
    expect(res.body.environments[1].drift[0]).toMatchObject({
      kind: 'behind',
      upstream: 'dev',
    });
  });

  it('stops the backend at start-up, naming the provider, when no module provides it', async () => {
    await expect(
      startTestBackend({
        features: [
          promotionsPlugin,
          catalogServiceMock.factory({ entities: [shop] }),
          mockServices.rootConfig.factory({ data: config }),
        ],
      }),
    ).rejects.toThrow(
      /no installed module provides "memory" \(installed: git, github\)/,
    );
  });
});
