import { execFileSync } from 'node:child_process';
import { TestDatabases } from '@backstage/backend-test-utils';
import { ArgoCdSimulator } from '@internal/argocd-simulator';
import {
  createGitFixture,
  shopHistory as history,
} from '@internal/promotions-fixtures';
import { component, startPromotionsBackend } from '../__testUtils__';

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** The commits that touched a path of the fixture, newest first. */
const commitsOf = (dir: string, path: string) =>
  execFileSync('git', ['-C', dir, 'log', '--format=%H', '--', path], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n');

describe.each(databases.eachSupportedId())(
  'live state from Argo CD on %s',
  databaseId => {
    let argocd: ArgoCdSimulator;
    afterEach(async () => {
      await argocd?.stop();
      // Every request and answer stayed within Argo CD's API description.
      if (argocd.problems.length > 0)
        throw new Error(argocd.problems.join('\n'));
    });

    async function start(
      options: { stream?: boolean; devStatus?: Record<string, unknown> } = {},
    ) {
      const dir = createGitFixture(history);
      const [, devBefore] = commitsOf(dir, 'shop/overlays/dev');
      argocd = await ArgoCdSimulator.start({
        applications: [
          // Synced to the change before dev's last one, and running what it deployed.
          {
            name: 'shop-dev',
            labels: { app: 'shop' },
            revision: devBefore,
            images: ['ghcr.io/acme/shop:1.1.0'],
            ...(options.devStatus
              ? { overrides: { status: options.devStatus } }
              : {}),
          },
          {
            name: 'shop-staging',
            labels: { app: 'shop' },
            images: ['ghcr.io/acme/shop:1.1.0'],
          },
          {
            name: 'shop-prod',
            labels: { app: 'shop' },
            sync: 'OutOfSync',
            images: ['ghcr.io/acme/shop:1.0.0'],
          },
        ],
      });
      const backend = await startPromotionsBackend({
        knex: await databases.init(databaseId),
        entities: [
          component('shop', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/path': 'shop/overlays/{env}',
            'argocd/app-selector': 'app=shop',
          }),
          component('unwatched', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/path': 'shop/overlays/{env}',
          }),
        ],
        config: {
          promotions: {
            repositories: [
              { id: 'gitops', provider: 'git', url: dir, paths: ['shop/**'] },
            ],
            argocd: {
              instances: [
                {
                  name: 'main',
                  url: argocd.url,
                  token: argocd.createApiToken(),
                },
              ],
              ...(options.stream === false ? { stream: false } : {}),
            },
          },
        },
      });
      await backend.refresh();
      return { ...backend, devBefore };
    }

    const environment = async (
      get: (name: string) => any,
      name: string,
      env: string,
    ) =>
      (await get(name)).body.environments.find(
        (e: { name: string }) => e.name === env,
      );

    it('serves each environment its applications, how each was mapped, and the live drift kinds', async () => {
      const { get, refresh, devBefore } = await start();
      const dev = await environment(get, 'shop', 'dev');
      expect(dev.live).toMatchObject({
        reachable: true,
        asOf: expect.any(String),
        applications: [
          {
            source: 'argocd',
            instance: 'main',
            name: 'shop-dev',
            namespace: 'argocd',
            mapping: 'name shop-{env}',
            syncStatus: 'Synced',
            healthStatus: 'Healthy',
            revision: devBefore,
            images: ['ghcr.io/acme/shop:1.1.0'],
            syncedAt: expect.any(String),
          },
        ],
      });
      expect(dev.drift.map((d: { kind: string }) => d.kind)).toEqual(
        expect.arrayContaining(['live-mismatch', 'waiting-for-sync']),
      );
      expect(
        dev.drift.find((d: { kind: string }) => d.kind === 'live-mismatch')
          .summary,
      ).toBe(
        'shop-dev runs ghcr.io/acme/shop:1.1.0 where Git has ghcr.io/acme/shop:1.2.0',
      );
      expect(
        dev.drift.find((d: { kind: string }) => d.kind === 'waiting-for-sync'),
      ).toMatchObject({
        revision: { synced: devBefore, commits: 1 },
        since: '2026-10-20T09:00:00.000Z',
      });
      const prod = await environment(get, 'shop', 'prod');
      expect(prod.drift).toContainEqual(
        expect.objectContaining({
          kind: 'out-of-sync',
          application: 'shop-prod',
          summary: expect.stringMatching(
            /^Argo CD reports shop-prod OutOfSync/,
          ),
        }),
      );
      // Since when it is OutOfSync is kept from the first refresh that saw it.
      const since = prod.live.applications[0].outOfSyncSince;
      expect(Date.parse(since)).toBeGreaterThan(Date.now() - 60_000);
      await new Promise(resolve => setTimeout(resolve, 20));
      await refresh();
      const again = await environment(get, 'shop', 'prod');
      expect(again.live.applications[0].outOfSyncSince).toBe(since);
      // Without Argo CD annotations, live state is not configured.
      expect((await environment(get, 'unwatched', 'dev')).live).toBeNull();
    });

    it.each([
      ['a list of other things', [{}, 42]],
      ['a string', 'ghcr.io/acme/shop:1.1.0'],
    ])(
      "keeps an entity's Git state when Argo CD answers its images as %s, showing only sane values",
      async (_, images) => {
        const { get } = await start({
          devStatus: { summary: { images } },
        });
        // The simulator saw the answer break Argo CD's API description, as it was meant to.
        expect(argocd.problems).not.toEqual([]);
        argocd.problems.splice(0);
        const shop = await get('shop');
        expect(shop.status).toBe(200);
        expect(shop.body.error).toBeUndefined();
        const dev = shop.body.environments.find(
          (e: { name: string }) => e.name === 'dev',
        );
        expect(dev.error).toBeUndefined();
        expect(dev.desired).toMatchObject({
          images: [expect.objectContaining({ tag: '1.2.0' })],
        });
        expect(dev.live.applications).toEqual([
          expect.objectContaining({ name: 'shop-dev', images: [] }),
        ]);
      },
    );

    it('serves page views from the store: not one request reaches Argo CD', async () => {
      // Without the stream the source would ask Argo CD, so a page view reading it is seen.
      const { get } = await start({ stream: false });
      argocd.resetCounts();
      for (let view = 0; view < 5; view++) {
        expect((await get('shop')).status).toBe(200);
      }
      expect(argocd.requests).toEqual([]);
    });

    it('brings a sync the stream reports to the API within 2 s', async () => {
      const { get } = await start();
      const deadline = Date.now() + 5000;
      while (argocd.openStreams === 0 && Date.now() < deadline)
        await new Promise(resolve => setTimeout(resolve, 20));
      expect(argocd.openStreams).toBe(1);

      const sentAt = Date.now();
      argocd.updateApplication('shop-prod', { sync: 'Synced' });
      let prod = await environment(get, 'shop', 'prod');
      while (
        prod.live.applications[0].syncStatus !== 'Synced' &&
        Date.now() - sentAt < 2000
      ) {
        await new Promise(resolve => setTimeout(resolve, 50));
        prod = await environment(get, 'shop', 'prod');
      }
      expect(prod.live.applications[0].syncStatus).toBe('Synced');
      expect(Date.now() - sentAt).toBeLessThan(2000);
      expect(prod.drift.map((d: { kind: string }) => d.kind)).not.toContain(
        'out-of-sync',
      );
    });
  },
);
