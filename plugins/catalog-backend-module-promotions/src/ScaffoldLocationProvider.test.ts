import {
  createBackendModule,
  coreServices,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { DeferredEntity } from '@backstage/plugin-catalog-node';
import {
  gitRepositoryProvider,
  RepositoryRegistry,
} from '@gitops-promotions/plugin-promotions-node';
import { appendCommit, createGitFixture } from '@internal/promotions-fixtures';
import { ConfigReader } from '@backstage/config';
import request from 'supertest';
// The provider reads what the real promotions backend records, as a portal runs both.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import promotionsPlugin from '@gitops-promotions/plugin-promotions-backend';
import { ScaffoldLocationProvider } from './ScaffoldLocationProvider';

const config = (dir: string) => ({
  promotions: {
    repositories: [
      {
        id: 'gitops',
        provider: 'git',
        url: dir,
        paths: ['{entity.metadata.name}/**'],
      },
    ],
  },
});

describe('ScaffoldLocationProvider', () => {
  it('registers a published layout from its branch, and from the repository once merged; the API refuses anyone else', async () => {
    const dir = createGitFixture([
      {
        author: 'A',
        date: '2026-10-01T00:00:00Z',
        message: 'init',
        files: { 'README.md': '# GitOps\n' },
      },
    ]);
    let provider: ScaffoldLocationProvider | undefined;
    const applied: DeferredEntity[][] = [];
    // A stand-in for the catalog module: the provider as it runs there, in its own plugin.
    const catalogSide = createBackendModule({
      pluginId: 'catalog',
      moduleId: 'probe',
      register(env) {
        env.registerInit({
          deps: {
            discovery: coreServices.discovery,
            auth: coreServices.auth,
            logger: coreServices.logger,
          },
          async init({ discovery, auth, logger }) {
            provider = new ScaffoldLocationProvider({
              discovery,
              auth,
              logger,
              repositories: new RepositoryRegistry({
                rootConfig: new ConfigReader(config(dir)),
                logger,
                started: Promise.resolve(),
                providers: [gitRepositoryProvider],
              }),
              taskRunner: { run: async () => {} },
            });
            await provider.connect({
              applyMutation: async mutation => {
                if (mutation.type === 'full') applied.push(mutation.entities);
              },
              refresh: async () => {},
            });
          },
        });
      },
    });
    const { server } = await startTestBackend({
      features: [
        promotionsPlugin,
        catalogSide,
        catalogServiceMock.factory({ entities: [] }),
        mockServices.rootConfig.factory({ data: config(dir) }),
      ],
    });

    const scaffold = {
      entityRef: 'component:default/cart',
      repository: 'gitops',
      branch: 'scaffold/cart',
      path: 'cart/catalog-info.yaml',
      pullRequestUrl: null,
    };
    // Users cannot record layouts: only the scaffolder can, with its own credentials.
    const asUser = await request(server)
      .post('/api/promotions/v1/scaffolds')
      .set('authorization', mockCredentials.user.header())
      .send(scaffold);
    expect(asUser.status).toBe(403);
    const asCatalog = await request(server)
      .post('/api/promotions/v1/scaffolds')
      .set(
        'authorization',
        mockCredentials.service.header({
          onBehalfOf: mockCredentials.service('plugin:catalog'),
          targetPluginId: 'promotions',
        }),
      )
      .send(scaffold);
    expect(asCatalog.status).toBe(403);
    const recordAsScaffolder = (body: object) =>
      request(server)
        .post('/api/promotions/v1/scaffolds')
        .set(
          'authorization',
          mockCredentials.service.header({
            onBehalfOf: mockCredentials.service('plugin:scaffolder'),
            targetPluginId: 'promotions',
          }),
        )
        .send(body);
    const asScaffolder = await recordAsScaffolder(scaffold);
    expect(asScaffolder.status).toBe(201);
    // The pull request is shown as a link: a script or data address is refused.
    // eslint-disable-next-line no-script-url
    for (const pullRequestUrl of ['javascript:alert(1)', 'data:text/html,x']) {
      const refused = await recordAsScaffolder({ ...scaffold, pullRequestUrl });
      expect(refused.status).toBe(400);
      expect(refused.body.error.message).toContain('must be an http(s) URL');
    }

    await provider!.refresh();
    const [location] = applied[applied.length - 1].map(e => e.entity);
    expect(location).toMatchObject({
      kind: 'Location',
      spec: {
        type: 'gitops-promotions',
        target: 'gitops:scaffold/cart:cart/catalog-info.yaml',
      },
    });
    expect(provider!.allows('gitops', 'scaffold/cart')).toBe(true);
    expect(provider!.allows('gitops', 'main')).toBe(true);
    expect(provider!.allows('gitops', 'feature/x')).toBe(false);

    // Merged: the next refresh of the repository sees the file on main.
    appendCommit(dir, {
      author: 'B',
      date: '2026-10-02T00:00:00Z',
      message: 'Merge cart',
      files: { 'cart/catalog-info.yaml': 'kind: Component\n' },
    });
    const refreshed = await request(server)
      .post('/api/promotions/v1/repositories/gitops/refresh')
      .set('authorization', mockCredentials.user.header());
    expect(refreshed.status).toBe(200);
    await provider!.refresh();
    expect(applied[applied.length - 1][0].entity.spec).toEqual({
      type: 'gitops-promotions',
      target: 'gitops:main:cart/catalog-info.yaml',
    });
    expect(provider!.allows('gitops', 'scaffold/cart')).toBe(false);
  });
});
