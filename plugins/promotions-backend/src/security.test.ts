import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import {
  coreServices,
  createServiceFactory,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  appendCommit,
  createGitFixture,
  shopHistory,
  watchEventLoop,
} from '@internal/promotions-fixtures';
import {
  promotionsResolverServiceRef,
  ResolverPool,
} from '@gitops-promotions/plugin-promotions-node';
import request from 'supertest';
import { promotionsPlugin } from './plugin';
import { everyRow, repositoryComponent, userOf } from './__testUtils__';

// Resolution workers compile the resolver from source on start.
jest.setTimeout(120_000);

const SHOP_TEAM = 'group:default/shop-team';

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  template:
    spec:
      containers:
        - name: app
          image: ghcr.io/acme/bomb:0.0.1
`;

const overlay = (tag: string, patches = '') =>
  `resources: [../../base]\nimages:\n  - name: ghcr.io/acme/bomb\n    newTag: "${tag}"\n${patches}`;

/** A patch whose target is a catastrophic pattern for a backtracking engine, on a long name. */
const redos = `  - target: { kind: Deployment, name: "(a+)+b" }
    patch: |-
      - op: add
        path: /metadata/labels
        value: { hit: "yes" }
`;

/** Thirty copies of a growing /spec: a billion values, were they made. */
const copyBomb = Array.from(
  { length: 30 },
  (_, i) => `- { op: copy, from: /spec, path: /spec/c${i} }\n`,
).join('');

const longName = 'a'.repeat(48);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

describe.each(databases.eachSupportedId())(
  'hostile input: content and other users, through the backend on %s',
  databaseId => {
    async function start(options: {
      repositories: Array<{ id: string; url: string; paths?: string[] }>;
      entities?: Entity[];
      extra?: ServiceFactory[];
    }) {
      const scheduler = mockServices.scheduler() as ReturnType<
        typeof mockServices.scheduler
      > & {
        factory(o: { skipTaskRunOnStartup: boolean }): ServiceFactory;
      };
      const knex = await databases.init(databaseId);
      const { server } = await startTestBackend({
        features: [
          promotionsPlugin,
          scheduler.factory({ skipTaskRunOnStartup: true }),
          mockServices.database.factory({ knex }),
          ...(options.entities
            ? [catalogServiceMock.factory({ entities: options.entities })]
            : []),
          ...(options.extra ?? []),
          mockServices.rootConfig.factory({
            data: {
              promotions: {
                repositories: options.repositories.map(r => ({
                  provider: 'git',
                  paths: ['{entity.metadata.name}/**'],
                  ...r,
                })),
                resolution: { workers: 1 },
              },
            },
          }),
        ],
      });
      const refresh = (id: string) =>
        scheduler.triggerTask(`promotions-refresh:${id}`);
      const get = (name: string, user = 'user:default/ana') =>
        request(server)
          .get(`/api/promotions/v1/entities/component/default/${name}`)
          .set('authorization', mockCredentials.user.header(user));
      return { server, knex, refresh, get };
    }

    it('cuts a hostile environment off with its own error within a second, while the others resolve and page views keep answering', async () => {
      const hostile = createGitFixture([
        {
          author: 'Ana Lima',
          date: '2026-11-01T09:00:00Z',
          message: 'Lay out bomb',
          files: {
            'bomb/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
            'bomb/base/deployment.yaml': deployment(longName),
            'bomb/overlays/dev/kustomization.yaml': overlay('1.2.0'),
            'bomb/overlays/staging/kustomization.yaml': overlay('1.1.0'),
            'bomb/overlays/prod/kustomization.yaml': overlay('1.0.0'),
          },
        },
      ]);
      // The resolver on a worker thread, as the backend runs it, timing each environment.
      const resolutions: Array<{ path: string; ms: number }> = [];
      const timedResolver = createServiceFactory({
        service: promotionsResolverServiceRef,
        deps: { rootLifecycle: coreServices.rootLifecycle },
        factory({ rootLifecycle }) {
          const pool = new ResolverPool({
            size: 1,
            logger: mockServices.logger.mock(),
          });
          rootLifecycle.addShutdownHook(() => pool.close());
          return {
            async resolve(snapshot, at, options) {
              const asked = performance.now();
              try {
                return await pool.resolve(snapshot, at, options);
              } finally {
                resolutions.push({ path: at, ms: performance.now() - asked });
              }
            },
          };
        },
      });
      const { refresh, get } = await start({
        repositories: [
          { id: 'calm', url: createGitFixture(shopHistory) },
          { id: 'hostile', url: hostile },
        ],
        entities: [
          repositoryComponent('shop', 'calm', 'shop/overlays/{env}', SHOP_TEAM),
          repositoryComponent(
            'bomb',
            'hostile',
            'bomb/overlays/{env}',
            SHOP_TEAM,
          ),
        ],
        extra: [timedResolver],
      });
      // Both repositories read once: pages are served, the worker and git have started.
      await refresh('calm');
      await refresh('hostile');
      expect((await get('shop')).status).toBe(200);
      resolutions.splice(0);
      appendCommit(hostile, {
        author: 'Mallory',
        date: '2026-11-02T09:00:00Z',
        message: 'Tune bomb',
        files: {
          'bomb/overlays/staging/kustomization.yaml': overlay(
            '1.1.0',
            `patches:\n${redos}  - target: { kind: Deployment }\n    path: bomb.yaml\n`,
          ),
          'bomb/overlays/staging/bomb.yaml': copyBomb,
          'bomb/overlays/prod/kustomization.yaml': overlay(
            '1.0.0',
            `patches:\n${redos}`,
          ),
        },
      });

      const latencies: number[] = [];
      let refreshing = true;
      const loop = watchEventLoop();
      const started = performance.now();
      const refreshed = refresh('hostile').finally(() => {
        refreshing = false;
      });
      const views = (async () => {
        while (refreshing) {
          const asked = performance.now();
          const view = await get('shop');
          latencies.push(performance.now() - asked);
          expect(view.status).toBe(200);
          await new Promise(resolve => setTimeout(resolve, 5));
        }
      })();
      await Promise.all([refreshed, views]);
      const took = performance.now() - started;
      const lag = loop.stop();

      // Each hostile environment costs well under a second; a backtracking engine would run
      // until the pool stopped its worker, seven seconds on.
      const hostileResolutions = resolutions.filter(r =>
        /bomb\/overlays\/(staging|prod)$/.test(r.path),
      );
      expect(hostileResolutions.length).toBeGreaterThanOrEqual(2);
      for (const { ms } of hostileResolutions) expect(ms).toBeLessThan(1000);
      expect(took).toBeLessThan(5000);
      expect(lag).toBeLessThan(250);
      expect(latencies.length).toBeGreaterThan(0);
      expect(Math.max(...latencies)).toBeLessThan(500);

      const bomb = await get('bomb');
      expect(bomb.status).toBe(200);
      const [dev, staging, prod] = bomb.body.environments;
      expect(dev.desired.version).toBe('1.2.0');
      expect(dev.error).toBeUndefined();
      // The catastrophic pattern matches nothing at once, and the copy bomb after it is stopped.
      expect(staging.error).toBe(
        `bomb/overlays/staging/bomb.yaml: JSON patch on Deployment/${longName} failed: the patch adds more than 100000 values to its target; it multiplies its input`,
      );
      expect(staging.desired.version).toBeNull();
      expect(prod.desired.version).toBe('1.0.0');
      expect(prod.error).toBeUndefined();
      // The other repository's entity is untouched.
      expect((await get('shop')).body.environments[0].desired.version).toBe(
        '1.2.0',
      );
    });

    it('compares secrets in lists and nested maps under their HMAC, and stores and serves them nowhere in clear', async () => {
      const clear = ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'pk_live_backup_9f8e'];
      const values = (key: string, backup: string) => `image:
  repository: ghcr.io/acme/vault
  tag: "1.0.0"
apiKeys:
  - ${key}
  - ${backup}
secrets:
  stripe: ${key}
  nested:
    deeper: [{ token: ${backup} }]
`;
      const secretObjects = (key: string) => `apiVersion: v1
kind: Secret
metadata: { name: vault }
stringData:
  config: { primary: ${key}, list: [${key}] }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: vault-config }
data:
  credentials: { stripe: ${key} }
  plain: visible
`;
      const dir = createGitFixture([
        {
          author: 'Ana Lima',
          date: '2026-11-01T09:00:00Z',
          message: 'Lay out vault',
          files: {
            'vault/values.yaml': values('placeholder', 'placeholder'),
            'vault/values-dev.yaml': values(clear[0], clear[1]),
            'vault/values-staging.yaml': values(clear[0], clear[1]),
            'vault/values-prod.yaml': values('sk_live_other', 'pk_live_other'),
            'kv/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
            'kv/base/deployment.yaml': deployment('kv'),
            ...Object.fromEntries(
              (
                [
                  ['dev', clear[0]],
                  ['staging', clear[0]],
                  ['prod', 'sk_live_other'],
                ] as const
              ).flatMap(([env, key]) => [
                [
                  `kv/overlays/${env}/kustomization.yaml`,
                  'resources: [../../base, secret.yaml]\n',
                ],
                [`kv/overlays/${env}/secret.yaml`, secretObjects(key)],
              ]),
            ),
          },
        },
      ]);
      const vault = repositoryComponent(
        'vault',
        'gitops',
        'vault/values-{env}.yaml',
        SHOP_TEAM,
      );
      vault.metadata.annotations!['gitops-promotions/version-key'] =
        'image.tag';
      const { refresh, get, knex } = await start({
        repositories: [{ id: 'gitops', url: dir }],
        entities: [
          vault,
          repositoryComponent('kv', 'gitops', 'kv/overlays/{env}', SHOP_TEAM),
        ],
      });
      await refresh('gitops');

      const answers = [await get('vault'), await get('kv')];
      for (const answer of answers) expect(answer.status).toBe(200);
      const served = JSON.stringify(answers.map(a => a.body));
      const stored = await everyRow(knex);
      for (const text of [served, stored]) {
        for (const secret of [...clear, 'sk_live_other']) {
          expect(text).not.toContain(secret);
        }
      }
      // What is not secret stays readable, and the secrets are said to differ.
      expect(stored).toContain('visible');
      const differences = answers
        .flatMap(a => a.body.environments)
        .flatMap((e: any) => e.drift)
        .filter((d: any) => d.kind === 'config')
        .flatMap((d: any) => d.differences);
      expect(differences.map((d: any) => d.key)).toEqual(
        expect.arrayContaining([
          'HelmValues/values apiKeys',
          'HelmValues/values secrets.stripe',
          'Secret/vault stringData.config.primary',
          'ConfigMap/vault-config data.credentials.stripe',
        ]),
      );
      for (const difference of differences) {
        expect(difference).toMatchObject({
          secret: true,
          value: null,
          upstreamValue: null,
        });
      }
    });

    it("serves a failed read as the repository and environment only, never git's words or a local path", async () => {
      const dir = createGitFixture(shopHistory);
      const git = (...args: string[]) =>
        execFileSync('git', args, { cwd: dir }).toString().trim();
      // prod's own overlay, truncated: git cat-file stops, naming the missing alternate below.
      const oid = git(
        'rev-parse',
        'HEAD:shop/overlays/prod/kustomization.yaml',
      );
      const object = path.join(
        dir,
        '.git/objects',
        oid.slice(0, 2),
        oid.slice(2),
      );
      fs.chmodSync(object, 0o644);
      fs.writeFileSync(
        object,
        zlib.deflateSync('blob 99\0resources').subarray(0, 10),
      );
      fs.writeFileSync(
        path.join(dir, '.git/objects/info/alternates'),
        `${dir}/elsewhere/objects\n`,
      );
      const { refresh, get } = await start({
        repositories: [{ id: 'gitops', url: dir }],
        entities: [
          repositoryComponent(
            'shop',
            'gitops',
            'shop/overlays/{env}',
            SHOP_TEAM,
          ),
        ],
      });
      await refresh('gitops');
      const res = await get('shop');
      expect(res.status).toBe(200);
      const prod = res.body.environments[2];
      expect(prod.error).toBe(
        "Repository gitops: environment prod could not be read at shop/overlays/prod; the backend's log says why",
      );
      expect(res.body.environments[0].desired.version).toBe('1.2.0');
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(dir);
      expect(text).not.toMatch(/fatal|cat-file|alternates/);
    });

    it("asks the catalog with each user's own credentials, and hides from one user what another read before", async () => {
      const shop = repositoryComponent(
        'shop',
        'gitops',
        'shop/overlays/{env}',
        SHOP_TEAM,
      );
      const inner = catalogServiceMock({ entities: [shop] });
      // The catalog as it decides visibility: ben and carol may not see shop.
      const catalog = catalogServiceMock.mock({
        queryEntities: (...args) => inner.queryEntities(...args),
        getEntityByRef: async (ref, options) => {
          const user = userOf(options);
          return user === 'user:default/ana'
            ? inner.getEntityByRef(ref, options)
            : undefined;
        },
      });
      const decisions: Record<string, PolicyDecision> = {
        // The catalog's own rule, which the plugin applies to its copy.
        'user:default/ben': {
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: {
            rule: 'IS_ENTITY_OWNER',
            resourceType: 'catalog-entity',
            params: { claims: ['group:default/billing'] },
          },
        },
        // A rule from a catalog module, which only the catalog can apply.
        'user:default/carol': {
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: {
            rule: 'HAS_SYSTEM_OF_TEAM',
            resourceType: 'catalog-entity',
            params: { team: 'billing' },
          },
        },
      };
      const permissions = mockServices.permissions.mock({
        authorizeConditional: async (requests, { credentials }) => {
          const user = (credentials.principal as any).userEntityRef;
          return requests.map(({ permission }) =>
            permission.name === 'catalog.entity.read' && decisions[user]
              ? decisions[user]
              : { result: AuthorizeResult.ALLOW },
          ) as any;
        },
      });
      const { refresh, get } = await start({
        repositories: [{ id: 'gitops', url: createGitFixture(shopHistory) }],
        extra: [catalog.factory, permissions.factory],
      });
      const asked = () =>
        catalog.getEntityByRef.mock.calls.map(([, options]) => userOf(options));

      // Not stored yet: the catalog decides, for each user with their own credentials.
      expect((await get('shop', 'user:default/ana')).status).toBe(200);
      expect((await get('shop', 'user:default/ben')).status).toBe(404);
      expect(asked()).toEqual(['user:default/ana', 'user:default/ben']);

      await refresh('gitops');
      for (let i = 0; i < 100; i++) {
        if ((await get('shop', 'user:default/ana')).body.asOf) break;
        await new Promise(resolve => setTimeout(resolve, 100));
      }
      catalog.getEntityByRef.mockClear();
      expect((await get('shop', 'user:default/ana')).status).toBe(200);
      // ana read it; ben's own decision still hides it, judged on the stored copy.
      const ben = await get('shop', 'user:default/ben');
      expect(ben.status).toBe(404);
      expect(JSON.stringify(ben.body)).not.toContain('1.2.0');
      expect(asked()).toEqual([]);
      // A rule only the catalog knows takes carol's own credentials to it, unchanged.
      expect((await get('shop', 'user:default/carol')).status).toBe(404);
      expect(asked()).toEqual(['user:default/carol']);
      expect(catalog.getEntityByRef).toHaveBeenCalledWith(
        'component:default/shop',
        {
          credentials: expect.objectContaining({
            principal: {
              type: 'user',
              userEntityRef: 'user:default/carol',
            },
          }),
        },
      );
    });

    it('answers 401 to a request without credentials before reading the store, the catalog or a policy', async () => {
      const shop = repositoryComponent(
        'shop',
        'gitops',
        'shop/overlays/{env}',
        SHOP_TEAM,
      );
      const catalog = catalogServiceMock.mock({
        getEntityByRef: async () => shop,
      });
      const permissions = mockServices.permissions.mock({
        authorizeConditional: async requests =>
          requests.map(() => ({ result: AuthorizeResult.ALLOW })) as any,
      });
      const { server, knex } = await start({
        repositories: [{ id: 'gitops', url: createGitFixture(shopHistory) }],
        extra: [
          catalog.factory,
          permissions.factory,
          mockServices.httpAuth.factory({
            defaultCredentials: mockCredentials.none(),
          }),
        ],
      });
      const queries: string[] = [];
      knex.on('query', (query: { sql: string }) => queries.push(query.sql));

      const res = await request(server).get(
        '/api/promotions/v1/entities/component/default/shop',
      );
      expect(res.status).toBe(401);
      expect(queries.filter(sql => sql.includes('promotions_'))).toEqual([]);
      expect(catalog.getEntityByRef).not.toHaveBeenCalled();
      expect(permissions.authorizeConditional).not.toHaveBeenCalled();

      const signedIn = await request(server)
        .get('/api/promotions/v1/entities/component/default/shop')
        .set('authorization', mockCredentials.user.header());
      expect(signedIn.status).toBe(200);
      expect(queries.some(sql => sql.includes('promotions_'))).toBe(true);
    });
  },
);
