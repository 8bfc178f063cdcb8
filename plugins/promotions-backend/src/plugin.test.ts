import fs from 'node:fs';
import { ServiceFactory } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  TestDatabases,
} from '@backstage/backend-test-utils';
import request from 'supertest';
import { component, startPromotionsBackend } from './__testUtils__';
import {
  appendCommit,
  createGitFixture,
  shopHistory as history,
  shopOverlay as overlay,
} from '@internal/promotions-fixtures';

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

describe.each(databases.eachSupportedId())(
  'promotions backend on %s',
  databaseId => {
    async function start(repositoryDir: string, extra: ServiceFactory[] = []) {
      const knex = await databases.init(databaseId);
      const entities = [
        component('shop', {
          'gitops-promotions/repository': 'gitops',
          'gitops-promotions/path': 'shop/overlays/{env}',
        }),
        component('unknown-repo', {
          'gitops-promotions/repository': 'nowhere',
          'gitops-promotions/path': 'shop/overlays/{env}',
        }),
        component('escaping', {
          'gitops-promotions/repository': 'gitops',
          'gitops-promotions/path': '../../etc/{env}',
        }),
        component('no-placeholder', {
          'gitops-promotions/repository': 'gitops',
          'gitops-promotions/path': 'shop/overlays/prod',
        }),
        component('not-annotated', {}),
        // Another team's service pointed at shop's overlays.
        component('intruder', {
          'gitops-promotions/repository': 'gitops',
          'gitops-promotions/path': 'shop/overlays/{env}',
        }),
        // Without paths rules, a repository serves entities registered from inside it only.
        component('shop', {
          'gitops-promotions/repository': 'own',
          'gitops-promotions/path': 'shop/overlays/{env}',
          'backstage.io/managed-by-location':
            'gitops-promotions:own:main:shop/catalog-info.yaml',
        }),
        component('outsider', {
          'gitops-promotions/repository': 'own',
          'gitops-promotions/path': 'shop/overlays/{env}',
          'backstage.io/managed-by-location':
            'url:https://example.com/team/catalog-info.yaml',
        }),
      ];
      entities[entities.length - 2].metadata.namespace = 'own';
      const { server, scheduler, refresh, get } = await startPromotionsBackend({
        knex,
        entities,
        features: extra,
        config: {
          promotions: {
            repositories: [
              {
                id: 'gitops',
                provider: 'git',
                url: repositoryDir,
                paths: [
                  '{entity.metadata.name}/**',
                  'charts/{entity.metadata.name}/**',
                ],
              },
              { id: 'own', provider: 'git', url: repositoryDir },
            ],
          },
        },
      });
      return {
        refresh: () => refresh(),
        get: (name: string, namespace = 'default') => get(name, namespace),
        server,
        scheduler,
      };
    }

    it('serves every environment with its version, last change and drift once the repository was read', async () => {
      const dir = createGitFixture(history);
      const { get } = await start(dir);

      const before = await get('shop');
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({
        entityRef: 'component:default/shop',
        asOf: null,
        environments: [],
      });

      // Asking for an entity the store has not seen yet starts a refresh in the background.
      let res = before;
      for (let attempt = 0; attempt < 100 && !res.body.asOf; attempt++) {
        await new Promise(resolve => setTimeout(resolve, 100));
        res = await get('shop');
      }
      expect(res.status).toBe(200);
      expect(Date.parse(res.body.asOf)).toBeGreaterThan(Date.now() - 60_000);
      expect(res.body.pipeline).toBe('default');
      const [dev, staging, prod] = res.body.environments;

      expect(dev).toMatchObject({
        name: 'dev',
        requires: [],
        live: null,
        drift: [],
        desired: {
          version: '1.2.0',
          images: [{ name: 'ghcr.io/acme/shop', tag: '1.2.0', digest: null }],
          path: 'shop/overlays/dev',
          lastChange: {
            author: 'Ben Okafor',
            at: '2026-10-20T09:00:00.000Z',
            pullRequest: 7,
          },
        },
      });
      expect(staging.desired).toMatchObject({
        version: '1.1.0',
        lastChange: { author: 'Chen Wei', pullRequest: 5 },
      });
      expect(staging.drift).toEqual([
        expect.objectContaining({
          kind: 'behind',
          upstream: 'dev',
          versions: 1,
          commits: 1,
          since: '2026-10-20T09:00:00.000Z',
        }),
      ]);
      expect(prod.desired.version).toBe('1.0.0');
      expect(prod.desired.lastChange).toMatchObject({
        author: 'Ana Lima',
        pullRequest: null,
      });
      expect(prod.drift).toEqual([
        expect.objectContaining({
          kind: 'behind',
          upstream: 'staging',
          versions: 1,
        }),
        expect.objectContaining({
          kind: 'config',
          upstream: 'staging',
          differences: [
            {
              key: 'Deployment/shop containers[shop].env.CACHE_SIZE',
              value: '1024kb',
              upstreamValue: '512kb',
            },
          ],
        }),
      ]);
    });

    it('picks up new commits on the next refresh and keeps the same answer when nothing changed', async () => {
      const dir = createGitFixture(history);
      const { refresh, get } = await start(dir);
      await refresh();
      const first = await get('shop');
      await refresh();
      const second = await get('shop');
      expect({ ...second.body, asOf: null }).toEqual({
        ...first.body,
        asOf: null,
      });
      expect(Date.parse(second.body.asOf)).toBeGreaterThanOrEqual(
        Date.parse(first.body.asOf),
      );

      appendCommit(dir, {
        author: 'Chen Wei',
        date: '2026-10-22T09:00:00Z',
        message: 'Promote shop 1.2.0 to staging (#9)',
        files: {
          'shop/overlays/staging/kustomization.yaml': overlay(
            'staging',
            '1.2.0',
          ),
        },
      });
      await refresh();
      const third = await get('shop');
      expect(third.body.environments[1].desired.version).toBe('1.2.0');
      expect(third.body.environments[1].drift).toEqual([]);
      expect(third.body.environments[2].drift[0]).toMatchObject({
        kind: 'behind',
        upstream: 'staging',
        versions: 2,
      });
    });

    it('notes on an environment what its overlay has that was not read, as text cut to a sane length', async () => {
      const dir = createGitFixture(history);
      const { refresh, get } = await start(dir);
      await refresh();
      const clean = await get('shop');
      for (const env of clean.body.environments) {
        expect(env).not.toHaveProperty('notes');
      }

      const huge = `https://example.com/${'<b>x</b>'.repeat(1_300)}.yaml`;
      appendCommit(dir, {
        author: 'Ana Lima',
        date: '2026-10-22T09:00:00Z',
        message: 'Use vars and a Helm chart in prod',
        files: {
          'shop/overlays/prod/kustomization.yaml': [
            'resources:',
            '  - ../../base',
            `  - ${huge}`,
            'images:',
            '  - name: ghcr.io/acme/shop',
            '    newTag: "1.0.0"',
            'patches:',
            '  - path: cache.yaml',
            'vars:',
            '  - name: SHOP',
            '    objref: { kind: Deployment, name: shop, apiVersion: apps/v1 }',
            'helmCharts:',
            '  - name: redis',
            '    repo: https://charts.example.com',
            '',
          ].join('\n'),
        },
      });
      await refresh();
      const res = await get('shop');
      const [dev, , prod] = res.body.environments;
      expect(dev).not.toHaveProperty('notes');
      // Still resolved: the notes say what the answer may have missed.
      expect(prod.desired.version).toBe('1.0.0');
      expect(prod.notes).toEqual([
        'Not read: helmCharts (shop/overlays/prod/kustomization.yaml)',
        'Not read: vars (shop/overlays/prod/kustomization.yaml)',
        expect.stringMatching(
          /^Not read: remote resource "https:\/\/example\.com\/<b>x<\/b>.*… \(shop\/overlays\/prod\/kustomization\.yaml\)$/,
        ),
      ]);
      expect(prod.notes[2].length).toBeLessThan(500);
    });

    describe('fault: the GitOps repository breaking', () => {
      it('serves the last known state from the store, with its age and the error, when the repository breaks', async () => {
        const dir = createGitFixture(history);
        const { refresh, get } = await start(dir);
        await refresh();
        const known = await get('shop');

        fs.renameSync(dir, `${dir}-moved`);
        // Page views never read the repository: nothing changes until the next refresh.
        expect((await get('shop')).body).toEqual(known.body);

        await refresh();
        const stale = await get('shop');
        expect(stale.status).toBe(200);
        expect(stale.body.environments).toEqual(known.body.environments);
        expect(stale.body.asOf).toBe(known.body.asOf);
        expect(stale.body.error.message).toBe(
          'Repository gitops could not be read: Repository gitops does not exist or is not readable',
        );
      });
    });

    it('answers 503 with the reason when a repository was never readable', async () => {
      const { refresh, get } = await start('/nonexistent/gitops');
      await refresh();
      const res = await get('shop');
      expect(res.status).toBe(503);
      expect(res.body.error.message).toBe(
        'Repository gitops could not be read: Repository gitops does not exist or is not readable',
      );
      // Local paths stay in the log.
      expect(JSON.stringify(res.body)).not.toContain('/nonexistent');
    });

    it('answers 404 for an unknown entity and 400 with the reason for bad annotations', async () => {
      const { get } = await start(createGitFixture(history));
      const unknown = await get('nope');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.message).toBe(
        'No entity component:default/nope in the catalog',
      );

      const cases: Array<[string, string]> = [
        [
          'unknown-repo',
          'gitops-promotions/repository "nowhere" is not a configured repository (configured: gitops, own)',
        ],
        ['escaping', 'escapes the repository with ".."'],
        ['no-placeholder', 'has no {env} placeholder'],
        ['not-annotated', 'has no gitops-promotions/repository annotation'],
      ];
      for (const [name, message] of cases) {
        const res = await get(name);
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain(message);
      }
    });

    it('refuses a path another team owns, naming the rule', async () => {
      const { get } = await start(createGitFixture(history));
      const res = await get('intruder');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBe(
        'component:default/intruder: gitops-promotions/path "shop/overlays/{env}" reads shop/overlays/dev for dev, which repository gitops does not let this entity read ({entity.metadata.name}/**, charts/{entity.metadata.name}/**)',
      );
    });

    it('serves a repository without paths rules only to entities registered from inside it', async () => {
      const { get, scheduler } = await start(createGitFixture(history));
      await scheduler.triggerTask('promotions-refresh:own');
      const inside = await get('shop', 'own');
      expect(inside.status).toBe(200);
      expect(inside.body.environments).toHaveLength(3);
      const outside = await get('outsider');
      expect(outside.status).toBe(400);
      expect(outside.body.error.message).toContain(
        'which repository own does not let this entity read (it has no paths rules, and the entity is not registered from inside it)',
      );
    });

    it('refreshes each repository in a task of its own, run once across replicas', async () => {
      const { scheduler } = await start(createGitFixture(history));
      const tasks = await scheduler.getScheduledTasks();
      for (const id of ['gitops', 'own']) {
        expect(tasks).toContainEqual(
          expect.objectContaining({
            id: `promotions-refresh:${id}`,
            scope: 'global',
          }),
        );
      }
    });

    it('answers 401 to a request without credentials', async () => {
      const { server } = await start(createGitFixture(history), [
        mockServices.httpAuth.factory({
          defaultCredentials: mockCredentials.none(),
        }),
      ]);
      const res = await request(server).get(
        '/api/promotions/v1/entities/component/default/shop',
      );
      expect(res.status).toBe(401);
      const signedIn = await request(server)
        .get('/api/promotions/v1/entities/component/default/shop')
        .set('authorization', mockCredentials.user.header());
      expect(signedIn.status).toBe(200);
    });
  },
);
