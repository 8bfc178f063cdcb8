import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  Drift,
  EntityPromotions,
  FleetPage,
} from '@gitops-promotions/plugin-promotions-common';
import { createGitFixture, shopHistory } from '@internal/promotions-fixtures';
import fs from 'node:fs';
import { Knex } from 'knex';
import request from 'supertest';
import { component, startPromotionsBackend } from '../__testUtils__';
import { PromotionsStore } from '../state/PromotionsStore';

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** Thirty services: even ones owned by team-a, the first ten in the shop system. */
const SERVICES = Array.from({ length: 30 }, (_, i) => {
  const name = `svc-${String(i).padStart(2, '0')}`;
  const entity: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name,
      namespace: 'default',
      annotations: { 'gitops-promotions/repository': 'gitops' },
    },
    spec: {
      type: 'service',
      owner: i % 2 === 0 ? 'team-a' : 'team-b',
      lifecycle: i % 4 === 0 ? 'experimental' : 'production',
      ...(i < 10 ? { system: 'shop' } : {}),
    },
  };
  return { i, name, ref: `component:default/${name}`, entity };
});

const behind = (upstream: string): Drift => ({
  kind: 'behind',
  summary: `behind ${upstream}`,
  upstream,
  upstreamVersion: null,
  version: null,
  versions: null,
  commits: null,
  since: null,
});
const outOfSync: Drift = {
  kind: 'out-of-sync',
  summary: 'out of sync',
  source: 'argocd',
  instance: 'main',
  application: 'app',
  since: null,
};

/** Prod is behind staging in every third service, out of sync in every fifth. */
function bodyOf(i: number, ref: string): EntityPromotions {
  const environment = (
    name: string,
    version: string,
    drift: Drift[],
    health?: string,
  ) => ({
    name,
    requires: [],
    desired: { version, images: [], path: `x/${name}`, lastChange: null },
    live: health
      ? {
          reachable: true,
          asOf: null,
          applications: [{ healthStatus: health } as any],
        }
      : null,
    drift,
  });
  return {
    entityRef: ref,
    asOf: null,
    repository: { id: 'gitops', revision: 'abc' },
    pipeline: 'dev → staging → prod',
    environments: [
      environment('dev', `2.${String(i).padStart(2, '0')}.0`, []),
      environment('staging', '2.00.0', []),
      environment(
        'prod',
        `1.${String(i).padStart(2, '0')}.0`,
        // Out of sync first: the page lists each cell's kinds in their own order.
        [
          ...(i % 5 === 0 ? [outOfSync] : []),
          ...(i % 3 === 0 ? [behind('staging')] : []),
        ],
        i % 5 === 0 ? 'Degraded' : 'Healthy',
      ),
    ],
  };
}

async function start(
  knex: Knex,
  decisions?: PolicyDecision[],
  catalogEntities = SERVICES.map(s => s.entity),
) {
  const backend = await startPromotionsBackend({
    knex,
    entities: catalogEntities,
    features: decisions
      ? [
          mockServices.permissions.mock({
            authorizeConditional: async () => decisions as any,
          }).factory,
        ]
      : [],
    config: {
      promotions: {
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: createGitFixture(shopHistory),
            paths: ['{entity.metadata.name}/**'],
          },
        ],
      },
    },
  });
  const store = await PromotionsStore.create(
    mockServices.database({ knex, migrations: { skip: false } }),
  );
  await store.saveRefresh({
    repositoryId: 'gitops',
    revision: 'abc',
    at: new Date('2026-12-07T10:00:00Z'),
    entities: SERVICES.map(s => ({
      entityRef: s.ref,
      fingerprint: `f${s.i}`,
      body: JSON.stringify(bodyOf(s.i, s.ref)),
      entity: s.entity,
    })),
    environments: [],
    entityRefs: SERVICES.map(s => s.ref),
    failures: [],
  });
  const fleet = (query: Record<string, string | number> = {}) =>
    request(backend.server)
      .get('/api/promotions/v1/fleet')
      .query(query)
      .then(res => ({ status: res.status, page: res.body as FleetPage }));
  return { fleet, store };
}

const names = (page: FleetPage) => page.rows.map(row => row.title);
const prod = (page: FleetPage) =>
  page.columns.find(column => column.environment === 'prod');

describe.each(databases.eachSupportedId())('the fleet route, on %p', id => {
  it('pages every stored service with its environments and counts the whole fleet per column', async () => {
    const { fleet } = await start(await databases.init(id));
    const first = await fleet({ limit: 10 });
    expect(first.status).toBe(200);
    expect(first.page.total).toBe(30);
    expect(names(first.page)).toEqual(SERVICES.slice(0, 10).map(s => s.name));
    expect(first.page.rows[0]).toEqual({
      entityRef: 'component:default/svc-00',
      title: 'svc-00',
      owner: 'group:default/team-a',
      system: 'shop',
      lifecycle: 'experimental',
      environments: {
        dev: { version: '2.00.0', drift: [], health: null },
        staging: { version: '2.00.0', drift: [], health: null },
        prod: {
          version: '1.00.0',
          drift: ['behind', 'out-of-sync'],
          health: 'Degraded',
        },
      },
      asOf: '2026-12-07T10:00:00.000Z',
    });
    expect(first.page.columns.map(c => c.environment)).toEqual([
      'dev',
      'staging',
      'prod',
    ]);
    // 0, 3, ... 27 are behind; 0, 5, ... 25 out of sync: counted over every page.
    expect(prod(first.page)).toEqual({
      environment: 'prod',
      services: 30,
      drift: { behind: 10, 'out-of-sync': 6 },
    });
    expect(first.page.facets).toEqual({
      owners: ['group:default/team-a', 'group:default/team-b'],
      systems: ['shop'],
      lifecycles: ['experimental', 'production'],
    });
    const third = await fleet({ limit: 10, offset: 20 });
    expect(names(third.page)).toEqual(SERVICES.slice(20).map(s => s.name));
    expect((await fleet({ limit: 10, offset: 30 })).page.rows).toEqual([]);
  });

  it('filters by owner, system, lifecycle and drift kind, and counts only what matches', async () => {
    const { fleet } = await start(await databases.init(id));
    const teamA = await fleet({ owner: 'team-a', system: 'shop' });
    expect(names(teamA.page)).toEqual([
      'svc-00',
      'svc-02',
      'svc-04',
      'svc-06',
      'svc-08',
    ]);
    expect(prod(teamA.page)?.drift).toEqual({ behind: 2, 'out-of-sync': 1 });
    const experimental = await fleet({ lifecycle: 'experimental' });
    expect(experimental.page.total).toBe(8);
    const outOfSyncInProd = await fleet({
      drift: 'out-of-sync',
      driftEnvironment: 'prod',
    });
    expect(names(outOfSyncInProd.page)).toEqual([
      'svc-00',
      'svc-05',
      'svc-10',
      'svc-15',
      'svc-20',
      'svc-25',
    ]);
    expect(prod(outOfSyncInProd.page)?.services).toBe(6);
    expect(
      (await fleet({ drift: 'behind', driftEnvironment: 'dev' })).page.total,
    ).toBe(0);
  });

  it('sorts by name, owner, and an environment’s version or drift', async () => {
    const { fleet } = await start(await databases.init(id));
    expect(names((await fleet({ order: 'desc', limit: 3 })).page)).toEqual([
      'svc-29',
      'svc-28',
      'svc-27',
    ]);
    const byOwner = await fleet({ sort: 'owner', order: 'desc', limit: 3 });
    expect(byOwner.page.rows.map(r => r.owner)).toEqual([
      'group:default/team-b',
      'group:default/team-b',
      'group:default/team-b',
    ]);
    expect(names(byOwner.page)).toEqual(['svc-01', 'svc-03', 'svc-05']);
    expect(
      names(
        (await fleet({ sort: 'version:prod', order: 'desc', limit: 2 })).page,
      ),
    ).toEqual(['svc-29', 'svc-28']);
    // Two kinds of drift first (0, 15), then one kind, by name.
    expect(
      names(
        (await fleet({ sort: 'drift:prod', order: 'desc', limit: 4 })).page,
      ),
    ).toEqual(['svc-00', 'svc-15', 'svc-03', 'svc-05']);
  });

  it('refuses a hostile query and treats quotes as text', async () => {
    const { fleet } = await start(await databases.init(id));
    for (const query of [
      { limit: 100000 },
      { offset: -1 },
      { sort: 'version:prod; drop table x' },
      { sort: 'entity' },
      { drift: 'everything' },
      { driftEnvironment: '../prod' },
      { owner: 'x'.repeat(300) },
      { owner: 'group:' },
      { unknown: 'x' },
    ] as Array<Record<string, string | number>>) {
      expect((await fleet(query)).status).toBe(400);
    }
    const quoted = await fleet({ owner: "team-a' OR '1'='1" });
    expect(quoted.status).toBe(200);
    expect(quoted.page.total).toBe(0);
  });

  it('shows nothing to a caller who may not read the catalog', async () => {
    const { fleet } = await start(await databases.init(id), [
      { result: AuthorizeResult.DENY },
      { result: AuthorizeResult.ALLOW },
    ]);
    const { page } = await fleet();
    expect(page).toEqual({
      rows: [],
      total: 0,
      columns: [],
      facets: { owners: [], systems: [], lifecycles: [] },
    });
  });

  it('pages and recounts only the services a conditional decision lets the caller see', async () => {
    const { fleet } = await start(await databases.init(id), [
      {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'HAS_SPEC',
          resourceType: 'catalog-entity',
          params: { key: 'owner', value: 'team-b' },
        },
      },
      { result: AuthorizeResult.ALLOW },
    ]);
    const { page } = await fleet({ limit: 5, offset: 5 });
    expect(page.total).toBe(15);
    expect(names(page)).toEqual([
      'svc-11',
      'svc-13',
      'svc-15',
      'svc-17',
      'svc-19',
    ]);
    // Odd services: 3, 9, 15, 21, 27 behind; 5, 15, 25 out of sync.
    expect(prod(page)?.drift).toEqual({ behind: 5, 'out-of-sync': 3 });
    expect(page.facets.owners).toEqual(['group:default/team-b']);
  });

  it('asks the catalog about services a rule it cannot apply judges, and fails closed', async () => {
    // The catalog answers with svc-01 alone: the others are not visible to the caller.
    const { fleet } = await start(
      await databases.init(id),
      [
        {
          result: AuthorizeResult.CONDITIONAL,
          pluginId: 'catalog',
          resourceType: 'catalog-entity',
          conditions: {
            rule: 'SOME_MODULE_RULE',
            resourceType: 'catalog-entity',
            params: {},
          },
        },
        { result: AuthorizeResult.ALLOW },
      ],
      [SERVICES[1].entity],
    );
    const { page } = await fleet();
    expect(names(page)).toEqual(['svc-01']);
    expect(page.total).toBe(1);
  });

  it('fails closed on a promotions rule it cannot apply', async () => {
    const { fleet } = await start(await databases.init(id), [
      { result: AuthorizeResult.ALLOW },
      {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'promotions',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'SOME_MODULE_RULE',
          resourceType: 'catalog-entity',
          params: {},
        },
      },
    ]);
    expect((await fleet()).page.total).toBe(0);
  });

  it('fills in the fleet of states stored before it, at the next refresh', async () => {
    const knex = await databases.init(id);
    const { fleet, store } = await start(knex);
    // As a state written before the fleet page existed: no columns, no rows.
    await knex('promotions_entity_state').update({
      fleet_indexed: false,
      owner: null,
    });
    await knex('promotions_fleet_cells').delete();
    await knex('promotions_fleet_drift').delete();
    expect((await fleet()).page.total).toBe(0);
    await store.saveRefresh({
      repositoryId: 'gitops',
      revision: 'def',
      at: new Date('2026-12-07T11:00:00Z'),
      entities: [],
      environments: [],
      entityRefs: SERVICES.map(s => s.ref),
      failures: [],
    });
    const { page } = await fleet({ owner: 'team-a' });
    expect(page.total).toBe(15);
    expect(prod(page)?.drift).toEqual({ behind: 5, 'out-of-sync': 3 });
  });

  it('knows an owner however spec.owner spells it, in the service’s namespace', async () => {
    const knex = await databases.init(id);
    const { fleet, store } = await start(knex);
    const spellings = [
      'team-c',
      'group:team-c',
      'group:default/team-c',
      'Group:Default/Team-C',
    ];
    const owned = [
      ...spellings.map((owner, i) => ({
        name: `c-${i}`,
        namespace: 'default',
        owner,
      })),
      // The same spelling in another namespace names that namespace's group.
      { name: 'c-ops', namespace: 'ops', owner: 'team-c' },
    ].map(({ name, namespace, owner }, i) => {
      const ref = `component:${namespace}/${name}`;
      const entity: Entity = {
        ...SERVICES[0].entity,
        metadata: { ...SERVICES[0].entity.metadata, name, namespace },
        spec: { ...SERVICES[0].entity.spec, owner },
      };
      return {
        entityRef: ref,
        fingerprint: `c${i}`,
        body: JSON.stringify(bodyOf(i, ref)),
        entity,
      };
    });
    await store.saveRefresh({
      repositoryId: 'gitops',
      revision: 'def',
      at: new Date('2026-12-07T11:00:00Z'),
      entities: owned,
      environments: [],
      entityRefs: [...SERVICES.map(s => s.ref), ...owned.map(o => o.entityRef)],
      failures: [],
    });
    for (const owner of spellings) {
      const { status, page } = await fleet({ owner });
      expect(status).toBe(200);
      expect(names(page)).toEqual(['c-0', 'c-1', 'c-2', 'c-3']);
      expect(new Set(page.rows.map(r => r.owner))).toEqual(
        new Set(['group:default/team-c']),
      );
    }
    expect(names((await fleet({ owner: 'group:ops/team-c' })).page)).toEqual([
      'c-ops',
    ]);
    expect((await fleet()).page.facets.owners).toEqual([
      'group:default/team-a',
      'group:default/team-b',
      'group:default/team-c',
      'group:ops/team-c',
    ]);
  });

  it('rewrites the owners stored as spec.owner spelled them into entity refs', async () => {
    const knex = await databases.init(id);
    const { fleet } = await start(knex);
    const ref = (i: number) => SERVICES[i].ref;
    // As the fleet stored owners before: each as written.
    await knex('promotions_entity_state')
      .where({ entity_ref: ref(0) })
      .update({ owner: 'team-a' });
    await knex('promotions_entity_state')
      .where({ entity_ref: ref(2) })
      .update({ owner: 'Group:team-a' });
    await knex('promotions_entity_state')
      .where({ entity_ref: ref(4) })
      .update({ owner: 'group:' });
    const migration = require('../../migrations/20261207000060_fleet_owner_refs.js');
    await migration.up(knex);
    const owners = await knex('promotions_entity_state')
      .whereIn('entity_ref', [ref(0), ref(2), ref(4), ref(6)])
      .orderBy('entity_ref')
      .pluck('owner');
    expect(owners).toEqual([
      'group:default/team-a',
      'group:default/team-a',
      null,
      'group:default/team-a',
    ]);
    expect((await fleet({ owner: 'team-a' })).page.total).toBe(14);
  });

  it('forgets a service once its state is forgotten', async () => {
    const knex = await databases.init(id);
    const { fleet, store } = await start(knex);
    await store.saveRefresh({
      repositoryId: 'gitops',
      revision: 'def',
      at: new Date('2026-12-07T11:00:00Z'),
      entities: [],
      environments: [],
      entityRefs: SERVICES.slice(1).map(s => s.ref),
      failures: [],
    });
    const { page } = await fleet();
    expect(page.total).toBe(29);
    expect(prod(page)?.drift).toEqual({ behind: 9, 'out-of-sync': 5 });
    expect(await knex('promotions_fleet_cells').count({ n: '*' })).toEqual([
      { n: expect.anything() },
    ]);
    expect(
      await knex('promotions_fleet_cells').where({
        entity_ref: SERVICES[0].ref,
      }),
    ).toEqual([]);
  });
  describe('fault: a refresh failing, shown on the fleet page', () => {
    it('keeps a service’s versions after its repository breaks, with their age and the failed refresh', async () => {
      const dir = createGitFixture(shopHistory);
      const { server, refresh } = await startPromotionsBackend({
        knex: await databases.init(id),
        entities: [
          component('shop', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/path': 'shop/overlays/{env}',
          }),
        ],
        config: {
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
        },
      });
      const fleet = async () => {
        const res = await request(server).get('/api/promotions/v1/fleet');
        expect(res.status).toBe(200);
        return res.body as FleetPage;
      };
      await refresh();
      const [known] = (await fleet()).rows;
      expect(known.environments.prod.version).toBe('1.0.0');
      expect(Date.parse(known.asOf!)).not.toBeNaN();
      expect(known).not.toHaveProperty('refreshError');

      fs.renameSync(dir, `${dir}-moved`);
      await refresh();
      const page = await fleet();
      expect(page.total).toBe(1);
      const [stale] = page.rows;
      expect(stale.environments).toEqual(known.environments);
      expect(stale.asOf).toBe(known.asOf);
      expect(stale.refreshError).toEqual({
        message:
          'Repository gitops could not be read: Repository gitops does not exist or is not readable',
        at: expect.any(String),
      });
      expect(Date.parse(stale.refreshError!.at)).toBeGreaterThanOrEqual(
        Date.parse(known.asOf!),
      );

      // The next good refresh clears the marker and moves the age.
      fs.renameSync(`${dir}-moved`, dir);
      await refresh();
      const [fresh] = (await fleet()).rows;
      expect(fresh).not.toHaveProperty('refreshError');
      expect(Date.parse(fresh.asOf!)).toBeGreaterThanOrEqual(
        Date.parse(stale.refreshError!.at),
      );
    });
  });
});
