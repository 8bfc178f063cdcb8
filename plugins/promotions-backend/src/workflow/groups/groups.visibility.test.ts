import { TestDatabases } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  bareRepository,
  exampleDecision,
  policyFactory,
  startWorkflowBackend,
} from '../../__testUtils__';
import {
  checkoutEntities,
  checkoutMembers as members,
  twoServices,
} from '../../__testUtils__/checkoutSystem';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/**
 * The example policy, except that ben may not read cart's promotions and sam may read no
 * promotions at all; both still see every component in the catalog.
 */
const permissions = policyFactory(async (permission, credentials, userInfo) => {
  if (permission.name === 'promotions.entity.read') {
    if (credentials.principal.userEntityRef === 'user:default/ben') {
      return {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          not: {
            rule: 'HAS_METADATA',
            resourceType: 'catalog-entity',
            params: { key: 'name', value: 'cart' },
          },
        },
      };
    }
    if (credentials.principal.userEntityRef === 'user:default/sam') {
      return { result: AuthorizeResult.DENY };
    }
  }
  return exampleDecision(permission, credentials, userInfo);
});

describe.each(databases.eachSupportedId())(
  'what a system promotion shows of components the caller may not read, on %s',
  databaseId => {
    async function start() {
      const backend = await startWorkflowBackend({
        databases,
        databaseId,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: bareRepository(twoServices),
            paths: ['{entity.metadata.name}/**'],
          },
        ],
        entities: checkoutEntities(),
        permissions,
      });
      await backend.ready();
      return backend;
    }

    it('lists a component whose promotions the caller may not read as hidden, without its versions', async () => {
      const { as } = await start();
      const versions = [
        { name: 'dev', version: '1.2.0' },
        { name: 'staging', version: '1.1.0' },
        { name: 'prod', version: '1.0.0' },
      ];
      const unknown = versions.map(({ name }) => ({ name, version: null }));

      const ana = await as('ana').get('/systems/default/checkout/promotions');
      expect(
        ana.body.components.map((c: any) => [c.entityRef, c.hidden]),
      ).toEqual([
        ['component:default/cart', false],
        ['component:default/shop', false],
      ]);

      const ben = await as('ben').get('/systems/default/checkout/promotions');
      expect(ben.status).toBe(200);
      expect(ben.body.components).toEqual([
        {
          entityRef: 'component:default/cart',
          title: null,
          hidden: true,
          environments: unknown,
          // Not even how old its state is.
          asOf: null,
        },
        {
          entityRef: 'component:default/shop',
          title: null,
          hidden: false,
          environments: versions,
          asOf: expect.any(String),
        },
      ]);

      const sam = await as('sam').get('/systems/default/checkout/promotions');
      expect(sam.status).toBe(200);
      expect(
        sam.body.components.map((c: any) => [c.hidden, c.environments]),
      ).toEqual([
        [true, unknown],
        [true, unknown],
      ]);
    });

    it('counts a member the caller may not read without naming it, and reading a blocked group writes nothing', async () => {
      const { as } = await start();
      const created = await as('ana').post(
        '/systems/default/checkout/promotions',
        { to: 'staging', members },
      );
      expect(created.status).toBe(201);
      const [shop, cart] = created.body.members;
      expect(created.body.hiddenMembers).toBe(0);

      const waiting = await as('ben').get(
        `/promotion-groups/${created.body.id}`,
      );
      expect(waiting.status).toBe(200);
      expect(waiting.body).toMatchObject({
        state: 'open',
        hiddenMembers: 1,
        members: [expect.objectContaining({ id: shop.id })],
      });
      expect(waiting.body.members).toHaveLength(1);
      expect(waiting.body.blocking).toEqual([
        {
          entityRef: 'component:default/shop',
          promotionId: shop.id,
          reason: expect.stringContaining('approvals pending'),
        },
        { entityRef: '', promotionId: '', reason: 'a member you may not read' },
      ]);
      expect(JSON.stringify(waiting.body)).not.toContain(cart.id);
      expect(JSON.stringify(waiting.body)).not.toContain('cart');

      // cart is closed on its own: the group shows blocked, yet nobody's reading wrote that.
      expect(
        (await as('ana').act(cart.id, 'close', { reason: 'cart is not ready' }))
          .status,
      ).toBe(200);
      const forAna = await as('ana').get(
        `/promotion-groups/${created.body.id}`,
      );
      expect(forAna.body).toMatchObject({
        state: 'blocked',
        reason: 'component:default/cart closed: cart is not ready',
        hiddenMembers: 0,
      });
      const forBen = await as('ben').get(
        '/systems/default/checkout/promotions',
      );
      const [group] = forBen.body.groups;
      expect(group).toMatchObject({
        state: 'blocked',
        reason: 'a member you may not read was closed',
        hiddenMembers: 1,
      });
      expect(JSON.stringify(group)).not.toContain('cart');
      expect(forAna.body.history.map((e: any) => e.action)).toEqual([
        'requested',
      ]);

      const forSam = await as('sam').get(
        `/promotion-groups/${created.body.id}`,
      );
      expect(forSam.status).toBe(200);
      expect(forSam.body).toMatchObject({ members: [], hiddenMembers: 2 });
      expect(forSam.body.blocking).toEqual([
        { entityRef: '', promotionId: '', reason: 'a member you may not read' },
        { entityRef: '', promotionId: '', reason: 'a member you may not read' },
      ]);

      // Closing is an act, and history: ana closes the group, then ben reads it.
      expect(
        (await as('ana').post(`/promotion-groups/${created.body.id}/close`))
          .status,
      ).toBe(200);
      const closed = await as('ben').get(
        `/promotion-groups/${created.body.id}`,
      );
      expect(closed.body.state).toBe('closed');
      expect(closed.body.history.map((e: any) => e.action)).toEqual([
        'requested',
        'closed',
      ]);
      expect(JSON.stringify(closed.body)).not.toContain('cart');
    });
  },
);
