import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  AuthorizeResult,
  PermissionRuleParams,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { EntityVisibility } from './EntityVisibility';

const shop: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'shop',
    namespace: 'default',
    labels: { tier: 'Gold' },
    annotations: { 'gitops-promotions/repository': 'gitops' },
  },
  spec: { type: 'service', owner: 'team-a', lifecycle: 'production' },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/team-a' }],
};
const ref = 'component:default/shop';

const conditional = (
  rule: string,
  params: PermissionRuleParams,
): PolicyDecision => ({
  result: AuthorizeResult.CONDITIONAL,
  pluginId: 'catalog',
  resourceType: 'catalog-entity',
  conditions: { rule, resourceType: 'catalog-entity', params },
});

function setup(
  decisions: PolicyDecision[],
  catalogEntities: Entity[] = [shop],
) {
  const permissions = mockServices.permissions.mock({
    authorizeConditional: jest.fn().mockResolvedValue(decisions),
  });
  const catalog = catalogServiceMock({ entities: catalogEntities });
  const getEntityByRef = jest.spyOn(catalog, 'getEntityByRef');
  let now = 0;
  const visibility = new EntityVisibility({
    permissions,
    catalog,
    logger: mockServices.logger.mock(),
    now: () => now,
  });
  return {
    visibility,
    permissions,
    getEntityByRef,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const user = mockCredentials.user('user:default/ana');
const allow: PolicyDecision = { result: AuthorizeResult.ALLOW };
const deny: PolicyDecision = { result: AuthorizeResult.DENY };

describe('EntityVisibility', () => {
  it('allows without asking the catalog when both permissions allow and the entity is held', async () => {
    const { visibility, getEntityByRef } = setup([allow, allow]);
    expect(await visibility.check(ref, shop, user)).toEqual({
      kind: 'allowed',
      entity: shop,
    });
    expect(getEntityByRef).not.toHaveBeenCalled();
  });

  it('asks for a caller’s decisions once within ten seconds, and again after', async () => {
    const { visibility, permissions, advance } = setup([allow, allow]);
    await visibility.check(ref, shop, user);
    await visibility.check(ref, shop, user);
    await visibility.check(ref, shop, mockCredentials.user('user:default/ben'));
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(2);
    advance(10_001);
    await visibility.check(ref, shop, user);
    expect(permissions.authorizeConditional).toHaveBeenCalledTimes(3);
  });

  it('answers not found when the catalog would not show the entity, and forbidden when promotions may not be read', async () => {
    expect(
      await setup([deny, allow]).visibility.check(ref, shop, user),
    ).toEqual({
      kind: 'not-found',
    });
    expect(
      await setup([allow, deny]).visibility.check(ref, shop, user),
    ).toEqual({
      kind: 'forbidden',
      entity: shop,
    });
  });

  it.each([
    ['IS_ENTITY_OWNER', { claims: ['group:default/team-a'] }, true],
    ['IS_ENTITY_OWNER', { claims: ['group:default/team-b'] }, false],
    ['IS_ENTITY_KIND', { kinds: ['component'] }, true],
    ['IS_ENTITY_KIND', { kinds: ['API'] }, false],
    ['HAS_LABEL', { label: 'TIER', value: 'gold' }, true],
    ['HAS_ANNOTATION', { annotation: 'gitops-promotions/repository' }, true],
    ['HAS_ANNOTATION', { annotation: 'backstage.io/techdocs-ref' }, false],
    ['HAS_SPEC', { key: 'lifecycle', value: 'Production' }, true],
    ['HAS_METADATA', { key: 'name', value: 'other' }, false],
  ])(
    'applies the catalog rule %s %j to the held entity as the catalog would',
    async (rule, params, visible) => {
      const { visibility, getEntityByRef } = setup([
        conditional(rule, params),
        allow,
      ]);
      const access = await visibility.check(ref, shop, user);
      expect(access.kind).toBe(visible ? 'allowed' : 'not-found');
      expect(getEntityByRef).not.toHaveBeenCalled();
    },
  );

  it('leaves a rule it does not know to the catalog, and fails closed on promotions', async () => {
    const unknown = conditional('IS_IN_SYSTEM', { systemRef: 'system:x' });
    const asCatalog = setup([unknown, allow], [shop]);
    expect((await asCatalog.visibility.check(ref, shop, user)).kind).toBe(
      'allowed',
    );
    expect(asCatalog.getEntityByRef).toHaveBeenCalledWith(ref, {
      credentials: user,
    });

    const hidden = setup([unknown, allow], []);
    expect((await hidden.visibility.check(ref, shop, user)).kind).toBe(
      'not-found',
    );

    const onPromotions = setup([allow, unknown]);
    expect((await onPromotions.visibility.check(ref, shop, user)).kind).toBe(
      'forbidden',
    );
  });

  it('takes a rule about a field the stored copy does not hold to the catalog', async () => {
    // As a refresh stores it: without the description or the spec fields it does not read.
    const held: Entity = {
      ...shop,
      metadata: { ...shop.metadata, description: undefined },
    };
    const described: Entity = {
      ...shop,
      metadata: { ...shop.metadata, description: 'The shop' },
      spec: { ...shop.spec, subcomponentOf: 'component:default/store' },
    };
    const byDescription = setup(
      [conditional('HAS_METADATA', { key: 'description' }), allow],
      [described],
    );
    expect(await byDescription.visibility.check(ref, held, user)).toEqual({
      kind: 'allowed',
      entity: described,
    });
    expect(byDescription.getEntityByRef).toHaveBeenCalledTimes(1);

    const bySpec = setup(
      [
        allow,
        conditional('HAS_SPEC', {
          key: 'subcomponentOf',
          value: 'component:default/store',
        }),
      ],
      [described],
    );
    expect(await bySpec.visibility.check(ref, held, user)).toEqual({
      kind: 'allowed',
      entity: described,
    });
    expect(bySpec.getEntityByRef).toHaveBeenCalledTimes(1);
  });

  it('asks the catalog for an entity it does not hold yet', async () => {
    const { visibility, getEntityByRef } = setup([allow, allow]);
    expect(await visibility.check(ref, undefined, user)).toEqual({
      kind: 'allowed',
      entity: shop,
    });
    expect(getEntityByRef).toHaveBeenCalledTimes(1);
    expect(
      (await visibility.check('component:default/gone', undefined, user)).kind,
    ).toBe('not-found');
  });
});
