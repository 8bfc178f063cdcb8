import {
  mockCredentials,
  mockServices,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  PermissionCondition,
  PermissionCriteria,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { FleetQuery } from '@gitops-promotions/plugin-promotions-common';
import { Knex } from 'knex';
import { EntityVisibility } from '../service/EntityVisibility';
import { PromotionsStore } from '../state/PromotionsStore';
import { FleetStore } from './FleetStore';

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const KINDS = ['Component', 'component', 'API', 'Resource'];
/** Owners as the catalog's relations name them, one spelled in another case. */
const OWNERS = [
  'group:default/team-a',
  'group:default/team-b',
  'user:default/ana',
  'group:default/Team-A',
  'group:ops/team-a',
];

/** Forty services of mixed kinds, with none, one or two owners and unrelated relations. */
const SERVICES = Array.from({ length: 40 }, (_, i) => {
  const name = `svc-${String(i).padStart(2, '0')}`;
  const owners =
    i % 7 === 0
      ? []
      : [OWNERS[i % OWNERS.length], ...(i % 3 === 0 ? [OWNERS[1]] : [])];
  const entity: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: KINDS[i % KINDS.length],
    metadata: { name, namespace: 'default' },
    spec: { type: 'service', owner: 'team-x', system: `sys-${i % 3}` },
    ...(i % 11 === 5
      ? {}
      : {
          relations: [
            { type: 'partOf', targetRef: 'group:default/team-b' },
            ...owners.map(targetRef => ({ type: 'ownedBy', targetRef })),
          ],
        }),
  };
  return { i, ref: `component:default/${name}`, entity };
});

function bodyOf(i: number, ref: string) {
  return {
    entityRef: ref,
    asOf: null,
    repository: { id: 'gitops', revision: 'abc' },
    pipeline: 'dev → prod',
    environments: ['dev', 'prod'].map(name => ({
      name,
      requires: [],
      desired: {
        version: `1.${i}.0`,
        images: [],
        path: name,
        lastChange: null,
      },
      live: null,
      drift:
        name === 'prod' && i % 3 === 0
          ? [{ kind: 'behind', summary: 'behind dev', upstream: 'dev' }]
          : [],
    })),
  };
}

const owner = (
  ...claims: string[]
): PermissionCriteria<PermissionCondition> => ({
  rule: 'IS_ENTITY_OWNER',
  resourceType: 'catalog-entity',
  params: { claims },
});
const kind = (...kinds: string[]): PermissionCriteria<PermissionCondition> => ({
  rule: 'IS_ENTITY_KIND',
  resourceType: 'catalog-entity',
  params: { kinds },
});
const conditional = (
  conditions: PermissionCriteria<PermissionCondition>,
): PolicyDecision => ({
  result: AuthorizeResult.CONDITIONAL,
  pluginId: 'catalog',
  resourceType: 'catalog-entity',
  conditions,
});
const allow: PolicyDecision = { result: AuthorizeResult.ALLOW };

/** Trees an owner-based policy writes, alone and combined. */
const TREES: Array<[string, PolicyDecision[]]> = [
  ['an owner', [conditional(owner('group:default/team-a')), allow]],
  ['no claims', [conditional(owner()), allow]],
  [
    'owners, the case of each as written',
    [conditional(owner('user:default/ana', 'group:default/Team-A')), allow],
  ],
  ['kinds in any case', [conditional(kind('COMPONENT', 'api')), allow]],
  [
    'allOf owner and kind',
    [
      conditional({ allOf: [owner('group:default/team-b'), kind('api')] }),
      allow,
    ],
  ],
  [
    'anyOf owner or not kind',
    [
      conditional({
        anyOf: [owner('group:ops/team-a'), { not: kind('component') }],
      }),
      allow,
    ],
  ],
  ['not owner', [conditional({ not: owner('group:default/team-a') }), allow]],
  [
    'nested',
    [
      conditional({
        allOf: [
          {
            anyOf: [
              owner('group:default/team-a'),
              owner('group:default/team-b'),
            ],
          },
          { not: { anyOf: [kind('resource'), owner('user:default/ana')] } },
        ],
      }),
      allow,
    ],
  ],
  [
    'owner read, kind promotions',
    [
      conditional(owner('group:default/team-b', 'user:default/ana')),
      conditional({ not: kind('api') }),
    ],
  ],
  [
    'promotions alone',
    [allow, conditional(owner('group:default/team-a', 'group:default/team-b'))],
  ],
];

const QUERIES: FleetQuery[] = [
  { limit: 500 },
  { limit: 7, offset: 3, sort: { by: 'owner' }, order: 'desc' },
  { limit: 500, system: 'sys-1', drift: 'behind' },
  {
    limit: 5,
    sort: { by: 'version', environment: 'prod' },
    order: 'desc',
  },
];

async function setup(knex: Knex) {
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
  return (decisions: PolicyDecision[], options: { inJs?: boolean } = {}) => {
    const catalog = catalogServiceMock({ entities: [] });
    const asked = jest.spyOn(catalog, 'getEntitiesByRefs');
    const visibility = new EntityVisibility({
      permissions: mockServices.permissions.mock({
        authorizeConditional: async () => decisions as any,
      }),
      catalog,
      logger: mockServices.logger.mock(),
    });
    const among = visibility.among.bind(visibility);
    const judged = { inJs: 0 };
    jest.spyOn(visibility, 'among').mockImplementation(async credentials => {
      const scope = await among(credentials);
      if (scope.kind !== 'some') return scope;
      return {
        ...scope,
        // A rule SQL does not judge makes the fleet judge every service in JS, as before.
        decisions: options.inJs
          ? [
              conditional({
                rule: 'HAS_LABEL',
                resourceType: 'catalog-entity',
                params: { label: 'tier' },
              }),
            ]
          : scope.decisions,
        visible: entries => {
          judged.inJs += 1;
          return scope.visible(entries);
        },
      };
    });
    return {
      fleet: new FleetStore({ db: knex, visibility }),
      asked,
      judged,
    };
  };
}

describe.each(databases.eachSupportedId())(
  'the fleet judging owner and kind rules in SQL, on %p',
  id => {
    it.each(TREES)(
      'shows what the JS judgement shows: %s',
      async (_, decisions) => {
        const knex = await databases.init(id);
        const using = await setup(knex);
        const inSql = using(decisions);
        const inJs = using(decisions, { inJs: true });
        const credentials = mockCredentials.user();
        for (const query of QUERIES) {
          const sql = await inSql.fleet.page(query, credentials);
          const js = await inJs.fleet.page(query, credentials);
          // Judged in JS, the facets are those of the filtered services; in SQL, of all visible.
          const facetsOf = (page: typeof sql) =>
            query.system ? undefined : page.facets;
          expect({ ...sql, facets: facetsOf(sql) }).toEqual({
            ...js,
            facets: facetsOf(js),
          });
        }
        expect(inSql.judged.inJs).toBe(0);
        expect(inJs.judged.inJs).toBe(QUERIES.length);
        expect(inSql.asked).not.toHaveBeenCalled();
        expect(inJs.asked).not.toHaveBeenCalled();
      },
    );

    it('shows the owners’ services and no other', async () => {
      const using = await setup(await databases.init(id));
      const { fleet } = using([
        conditional(owner('group:default/team-b')),
        allow,
      ]);
      const page = await fleet.page({ limit: 500 }, mockCredentials.user());
      const owned = SERVICES.filter(s =>
        s.entity.relations?.some(
          r => r.type === 'ownedBy' && r.targetRef === 'group:default/team-b',
        ),
      ).map(s => s.ref);
      expect(owned.length).toBeGreaterThan(5);
      expect(page.rows.map(row => row.entityRef).sort()).toEqual(owned.sort());
      expect(page.total).toBe(owned.length);
    });

    it.each([
      [
        'parameters the framework refuses',
        conditional({
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims: OWNERS[0] } as any,
        }),
      ],
      [
        'a rule SQL does not judge, deep in the tree',
        conditional({
          allOf: [
            owner(OWNERS[0]),
            {
              not: {
                rule: 'HAS_LABEL',
                resourceType: 'catalog-entity',
                params: { label: 'tier' },
              },
            },
          ],
        }),
      ],
    ])('judges in JS a decision with %s', async (_, decision) => {
      const using = await setup(await databases.init(id));
      const { fleet, judged } = using([decision, allow]);
      await fleet.page({}, mockCredentials.user());
      expect(judged.inJs).toBe(1);
    });

    it('judges in JS a fleet holding a service whose stored entity the rules would fail on', async () => {
      const knex = await databases.init(id);
      const using = await setup(knex);
      await knex('promotions_entity_state')
        .where({ entity_ref: SERVICES[1].ref })
        .update({
          entity: JSON.stringify({ ...SERVICES[1].entity, relations: [null] }),
          fleet_indexed: false,
        });
      await PromotionsStore.create(
        mockServices.database({ knex, migrations: { skip: true } }),
      ).then(store =>
        store.saveRefresh({
          repositoryId: 'gitops',
          revision: 'def',
          at: new Date('2026-12-07T11:00:00Z'),
          entities: [],
          environments: [],
          entityRefs: SERVICES.map(s => s.ref),
          failures: [],
        }),
      );
      const { fleet, judged, asked } = using([
        conditional(owner(OWNERS[1])),
        allow,
      ]);
      await fleet.page({ limit: 50 }, mockCredentials.user());
      expect(judged.inJs).toBe(1);
      // The JS judgement asks the catalog about the entity it cannot judge.
      expect(asked).toHaveBeenCalledWith(
        { entityRefs: [SERVICES[1].ref] },
        expect.anything(),
      );
    });

    it('fills the owners of services stored before them at the next refresh', async () => {
      const knex = await databases.init(id);
      const using = await setup(knex);
      await knex('promotions_fleet_access').delete();
      const migration = require('../../migrations/20261208000020_fleet_access.js');
      await knex.schema.dropTable('promotions_fleet_access');
      await migration.up(knex);
      const { fleet, judged } = using([conditional(owner(OWNERS[0])), allow]);
      expect((await fleet.page({}, mockCredentials.user())).total).toBe(0);
      await PromotionsStore.create(
        mockServices.database({ knex, migrations: { skip: true } }),
      ).then(store =>
        store.saveRefresh({
          repositoryId: 'gitops',
          revision: 'def',
          at: new Date('2026-12-07T11:00:00Z'),
          entities: [],
          environments: [],
          entityRefs: SERVICES.map(s => s.ref),
          failures: [],
        }),
      );
      expect((await fleet.page({}, mockCredentials.user())).total).toBe(
        SERVICES.filter(s =>
          s.entity.relations?.some(r => r.targetRef === OWNERS[0]),
        ).length,
      );
      expect(judged.inJs).toBe(0);
    });

    it('forgets the owners of a service once its state is forgotten', async () => {
      const knex = await databases.init(id);
      await setup(knex);
      await PromotionsStore.create(
        mockServices.database({ knex, migrations: { skip: true } }),
      ).then(store =>
        store.saveRefresh({
          repositoryId: 'gitops',
          revision: 'def',
          at: new Date('2026-12-07T11:00:00Z'),
          entities: [],
          environments: [],
          entityRefs: SERVICES.slice(1).map(s => s.ref),
          failures: [],
        }),
      );
      expect(
        await knex('promotions_fleet_access').where({
          entity_ref: SERVICES[0].ref,
        }),
      ).toEqual([]);
    });
  },
);
