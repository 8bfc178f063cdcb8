import {
  coreServices,
  createBackendModule,
  createBackendPlugin,
  LifecycleService,
} from '@backstage/backend-plugin-api';
import {
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { NotAllowedError } from '@backstage/errors';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  CommitInfo,
  gitBlobId,
  GitOpsRepository,
  GitOpsRepositoryProvider,
  GateContext,
  LiveStateRequest,
  LiveStateSource,
  PromotionGate,
  promotionsLiveStateExtensionPoint,
  promotionsGatesExtensionPoint,
  PromotionsRepositoriesService,
  promotionsRepositoriesServiceRef,
  promotionsRepositoryProvidersExtensionPoint,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import { shopHistory } from '@internal/promotions-fixtures';
import { LiveState } from '@gitops-promotions/plugin-promotions-common';
import { promotionsPlugin } from './plugin';
import {
  bareRepository,
  component,
  startPromotionsBackend,
  startWorkflowBackend,
} from './__testUtils__';

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

  async tags() {
    return [{ name: 'v1.0.0', commit: this.commits[0].info.sha }];
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

const shop = component('shop', {
  'gitops-promotions/repository': 'in-memory',
  'gitops-promotions/path': 'shop/overlays/{env}',
});

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

/** Notes the provider types the repositories service knows once the backend has started. */
function providersAtStartup() {
  const seen: { types?: string[] } = {};
  const registration = {
    deps: {
      repositories: promotionsRepositoriesServiceRef,
      lifecycle: coreServices.lifecycle,
    },
    async init(deps: {
      repositories: PromotionsRepositoriesService;
      lifecycle: LifecycleService;
    }) {
      // Providers are known once the promotions backend has read its extension point.
      deps.lifecycle.addStartupHook(() => {
        seen.types = deps.repositories.providerTypes();
      });
    },
  };
  return { seen, registration };
}

describe('the repository providers extension point', () => {
  it('lets a module add a third provider that the backend reads like git and github', async () => {
    const { seen, registration } = providersAtStartup();
    const probe = createBackendModule({
      pluginId: 'promotions',
      moduleId: 'probe',
      register(env) {
        env.registerInit(registration);
      },
    });
    const { refresh, get } = await startPromotionsBackend({
      entities: [shop],
      config,
      features: [memoryProviderModule, probe],
    });
    expect(seen.types?.sort()).toEqual(['git', 'github', 'memory']);

    await refresh('in-memory');
    const res = await get('shop');
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

  it('is the only way providers arrive: without the promotions backend there are none', async () => {
    const { seen, registration } = providersAtStartup();
    const elsewhere = createBackendPlugin({
      pluginId: 'elsewhere',
      register(env) {
        env.registerInit(registration);
      },
    });
    await startTestBackend({
      features: [elsewhere, mockServices.rootConfig.factory({ data: config })],
    });
    expect(seen.types).toEqual([]);
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

describe('the live-state extension point', () => {
  it("stores and serves what a module's source says runs in each environment", async () => {
    const prodLive: LiveState = {
      reachable: true,
      asOf: '2026-11-01T10:00:00.000Z',
      applications: [],
    };
    const requests: LiveStateRequest[] = [];
    let answer = prodLive;
    const cluster: LiveStateSource = {
      id: 'cluster',
      async read(asked) {
        requests.push(asked);
        return new Map([['prod', answer]]);
      },
    };
    // A source that knows nothing of the entity adds nothing.
    const elsewhere: LiveStateSource = {
      id: 'elsewhere',
      read: async () => new Map(),
    };
    const liveModule = createBackendModule({
      pluginId: 'promotions',
      moduleId: 'cluster-live-state',
      register(env) {
        env.registerInit({
          deps: { live: promotionsLiveStateExtensionPoint },
          async init({ live }) {
            live.addLiveStateSource(cluster, elsewhere);
          },
        });
      },
    });
    const { refresh, get } = await startPromotionsBackend({
      entities: [shop],
      config,
      features: [memoryProviderModule, liveModule],
    });

    await refresh('in-memory');
    expect(requests).toHaveLength(1);
    expect(requests[0].entity.metadata.name).toBe('shop');
    expect(requests[0].environments).toEqual(['dev', 'staging', 'prod']);
    const res = await get('shop');
    expect(res.status).toBe(200);
    expect(res.body.environments.map((e: any) => [e.name, e.live])).toEqual([
      ['dev', null],
      ['staging', null],
      ['prod', prodLive],
    ]);

    // Live state moves without the repository: the next refresh stores the new answer.
    answer = { ...prodLive, reachable: false, error: 'connection refused' };
    await refresh('in-memory');
    const later = await get('shop');
    expect(later.body.environments[2].live).toEqual(answer);
  });
});

describe('the gates extension point', () => {
  const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

  it('lets a module add a gate that judges the promotions of environments configured with it', async () => {
    const asked: GateContext[] = [];
    const changeTicketGate: PromotionGate = {
      type: 'changeTicket',
      async evaluate(context) {
        asked.push(context);
        const project = context.config.getString('changeTicket.project');
        return {
          gate: 'changeTicket',
          state: 'pending',
          summary: `No ${project} ticket for ${context.version} yet`,
        };
      },
    };
    const changeTicketModule = createBackendModule({
      pluginId: 'promotions',
      moduleId: 'change-ticket-gate',
      register(env) {
        env.registerInit({
          deps: { gates: promotionsGatesExtensionPoint },
          async init({ gates }) {
            gates.addGate(changeTicketGate);
          },
        });
      },
    });
    const { as, ready, entityPath } = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [
        {
          id: 'gitops',
          provider: 'git',
          url: bareRepository(shopHistory),
          paths: ['{entity.metadata.name}/**'],
        },
      ],
      pipeline: [
        { name: 'dev', requires: [] },
        {
          name: 'staging',
          requires: ['dev'],
          changeTicket: { project: 'CHG' },
        },
        { name: 'prod', requires: ['staging'], production: true },
      ],
      features: [changeTicketModule],
    });
    await ready();

    const preview = await as('ana').post(`${entityPath}/promotions/preview`, {
      to: 'staging',
    });
    expect(preview.status).toBe(200);
    expect(preview.body.gates).toContainEqual({
      gate: 'changeTicket',
      state: 'pending',
      summary: 'No CHG ticket for 1.2.0 yet',
    });
    const created = await as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    expect(created.body.gates).toContainEqual(
      expect.objectContaining({ gate: 'changeTicket', state: 'pending' }),
    );
    expect(asked[asked.length - 1]).toMatchObject({
      entityRef: 'component:default/shop',
      environment: 'staging',
      version: '1.2.0',
    });
    // Where the policy does not name it, the gate is not asked.
    const toProd = await as('rita').post(`${entityPath}/promotions/preview`, {
      to: 'prod',
    });
    expect(toProd.status).toBe(200);
    expect(toProd.body.gates.map((g: any) => g.gate)).not.toContain(
      'changeTicket',
    );
  });

  const gateModule = (moduleId: string, ...types: string[]) =>
    createBackendModule({
      pluginId: 'promotions',
      moduleId,
      register(env) {
        env.registerInit({
          deps: { gates: promotionsGatesExtensionPoint },
          async init({ gates }) {
            gates.addGate(
              ...types.map(type => ({
                type,
                evaluate: async () => ({
                  gate: type,
                  state: 'passed' as const,
                  summary: '',
                }),
              })),
            );
          },
        });
      },
    });
  const startWith = (pipeline: any[], features: any[]) =>
    startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [
        {
          id: 'gitops',
          provider: 'git',
          url: bareRepository(shopHistory),
          paths: ['{entity.metadata.name}/**'],
        },
      ],
      pipeline,
      features,
    });

  it('stops the backend at startup on a mistyped gate key, naming it, the environment and the gates there are', async () => {
    await expect(
      startWith(
        [
          { name: 'dev', requires: [] },
          { name: 'staging', requires: ['dev'], changeTicket: {} },
          { name: 'prod', requires: ['staging'], aprovals: 2 },
        ],
        [gateModule('change-ticket-gate', 'changeTicket')],
      ),
    ).rejects.toThrow(
      'promotions.pipelines.default, environment prod: "aprovals" is not a gate or setting of an environment (gates: requires, approvals, soak, windows, checks, immutableVersion, codeowners, http, changeTicket, and freeze, which is always on; settings: name, production, services, stalePromotion)',
    );
    // A module's key is a mistake too where no module adds it.
    await expect(
      startWith(
        [
          { name: 'dev', requires: [] },
          { name: 'staging', requires: ['dev'], changeTicket: {} },
        ],
        [],
      ),
    ).rejects.toThrow(
      'promotions.pipelines.default, environment staging: "changeTicket" is not a gate or setting of an environment',
    );
  });

  it('refuses a module gate whose key a built-in gate or another module already has', async () => {
    const pipeline = [{ name: 'dev', requires: [] }];
    await expect(
      startWith(pipeline, [gateModule('lenient-approvals', 'approvals')]),
    ).rejects.toThrow(
      'A module adds a promotion gate with the key "approvals", which is the built-in approvals gate\'s: give it a key of its own',
    );
    await expect(
      startWith(pipeline, [gateModule('freeze-again', 'freeze')]),
    ).rejects.toThrow('the built-in freeze gate');
    await expect(
      startWith(pipeline, [
        gateModule('change-ticket-gate', 'changeTicket'),
        gateModule('other-change-ticket-gate', 'changeTicket'),
      ]),
    ).rejects.toThrow(
      'Two modules add a promotion gate with the key "changeTicket": an environment\'s policy could not tell them apart',
    );
    await expect(
      startWith(pipeline, [gateModule('hostile', '__proto__.x')]),
    ).rejects.toThrow("A promotion gate's key must be a name");
  });
});
