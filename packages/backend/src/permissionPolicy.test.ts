import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  catalogEntityCreatePermission,
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogEntityRefreshPermission,
  catalogEntityValidatePermission,
  catalogLocationAnalyzePermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
  catalogLocationReadPermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  ConditionalPolicyDecision,
  createPermission,
  Permission,
  PermissionCondition,
  PermissionCriteria,
} from '@backstage/plugin-permission-common';
import {
  promotionsApprovePermission,
  promotionsEntityReadPermission,
  promotionsFreezePermission,
  promotionsLayoutPublishPermission,
  promotionsMergePermission,
  promotionsOverridePermission,
  promotionsPromotePermission,
  promotionsRepositoryRefreshPermission,
} from '@gitops-promotions/plugin-promotions-common';
import {
  PromotionsEnvironmentResource,
  promotionsEnvironmentRules,
} from '@gitops-promotions/plugin-promotions-node';

import { ExamplePermissionPolicy } from './permissionPolicy';

/** The scaffolder's permissions, as `@backstage/plugin-scaffolder-common/alpha` defines them. */
const scaffolder = {
  taskCreate: createPermission({
    name: 'scaffolder.task.create',
    attributes: { action: 'create' },
  }),
  taskRead: createPermission({
    name: 'scaffolder.task.read',
    attributes: { action: 'read' },
    resourceType: 'scaffolder-task',
  }),
  taskCancel: createPermission({
    name: 'scaffolder.task.cancel',
    attributes: {},
    resourceType: 'scaffolder-task',
  }),
  actionExecute: createPermission({
    name: 'scaffolder.action.execute',
    attributes: {},
    resourceType: 'scaffolder-action',
  }),
  parameterRead: createPermission({
    name: 'scaffolder.template.parameter.read',
    attributes: { action: 'read' },
    resourceType: 'scaffolder-template',
  }),
  dryRun: createPermission({
    name: 'scaffolder.template.dry-run',
    attributes: {},
  }),
  management: createPermission({
    name: 'scaffolder.template.management',
    attributes: {},
  }),
};

const ownership: Record<string, string[]> = {
  'user:default/ana': ['user:default/ana', 'group:default/shop-team'],
  'user:default/rita': ['user:default/rita', 'group:default/release-managers'],
  'user:default/pat': ['user:default/pat', 'group:default/platform'],
};

const policy = new ExamplePermissionPolicy(
  mockServices.userInfo.mock({
    getUserInfo: async credentials => {
      const userEntityRef = (credentials.principal as { userEntityRef: string })
        .userEntityRef;
      return { userEntityRef, ownershipEntityRefs: ownership[userEntityRef] };
    },
  }),
);

async function decide(userRef: string | undefined, permission: Permission) {
  const user = userRef
    ? {
        credentials: mockCredentials.user(userRef),
        info: { userEntityRef: userRef, ownershipEntityRefs: [] },
      }
    : undefined;
  return policy.handle({ permission }, user);
}

describe('the example permission policy', () => {
  const matrix: Array<[string, Permission, AuthorizeResult]> = [
    ['ana', catalogEntityReadPermission, AuthorizeResult.ALLOW],
    ['ana', promotionsEntityReadPermission, AuthorizeResult.ALLOW],
    ['rita', promotionsEntityReadPermission, AuthorizeResult.ALLOW],
    ['ana', catalogLocationReadPermission, AuthorizeResult.ALLOW],
    ['ana', catalogEntityRefreshPermission, AuthorizeResult.CONDITIONAL],
    ['ana', catalogEntityDeletePermission, AuthorizeResult.CONDITIONAL],
    // The Create button leads to the templates; registering locations is the platform's.
    ['ana', catalogEntityCreatePermission, AuthorizeResult.ALLOW],
    ['ana', catalogLocationCreatePermission, AuthorizeResult.DENY],
    ['ana', catalogLocationAnalyzePermission, AuthorizeResult.DENY],
    ['ana', catalogLocationDeletePermission, AuthorizeResult.DENY],
    ['ana', catalogEntityValidatePermission, AuthorizeResult.DENY],
    ['rita', catalogLocationCreatePermission, AuthorizeResult.DENY],
    // Owners run templates, see and cancel their own tasks; the editor is the platform's.
    ['ana', scaffolder.taskCreate, AuthorizeResult.ALLOW],
    ['ana', scaffolder.actionExecute, AuthorizeResult.ALLOW],
    ['ana', scaffolder.parameterRead, AuthorizeResult.ALLOW],
    ['ana', scaffolder.taskRead, AuthorizeResult.CONDITIONAL],
    ['ana', scaffolder.taskCancel, AuthorizeResult.CONDITIONAL],
    ['ana', scaffolder.dryRun, AuthorizeResult.DENY],
    ['ana', scaffolder.management, AuthorizeResult.DENY],
    // A layout is published by those who will own the service.
    ['ana', promotionsLayoutPublishPermission, AuthorizeResult.CONDITIONAL],
    ['rita', promotionsLayoutPublishPermission, AuthorizeResult.CONDITIONAL],
    ['ana', promotionsRepositoryRefreshPermission, AuthorizeResult.DENY],
    ['rita', promotionsRepositoryRefreshPermission, AuthorizeResult.DENY],
    // The platform group acts on everything.
    ['pat', promotionsRepositoryRefreshPermission, AuthorizeResult.ALLOW],
    ['pat', promotionsLayoutPublishPermission, AuthorizeResult.ALLOW],
    ['pat', catalogEntityDeletePermission, AuthorizeResult.ALLOW],
    ['pat', catalogLocationCreatePermission, AuthorizeResult.ALLOW],
    ['pat', catalogLocationDeletePermission, AuthorizeResult.ALLOW],
    ['pat', scaffolder.dryRun, AuthorizeResult.ALLOW],
    ['pat', scaffolder.management, AuthorizeResult.ALLOW],
    ['pat', scaffolder.taskRead, AuthorizeResult.ALLOW],
  ];
  for (const [user, permission, result] of matrix) {
    it(`${user}: ${permission.name} is ${result}`, async () => {
      expect((await decide(`user:default/${user}`, permission)).result).toBe(
        result,
      );
    });
  }

  it('lets owners, and only owners, act on their own entities', async () => {
    const decision = await decide(
      'user:default/ana',
      catalogEntityDeletePermission,
    );
    expect(decision).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        resourceType: 'catalog-entity',
        params: { claims: ['user:default/ana', 'group:default/shop-team'] },
      },
    });
  });

  it('lets users publish the layout of a service they will own, and nothing else', async () => {
    expect(
      await decide('user:default/ana', promotionsLayoutPublishPermission),
    ).toEqual({
      result: AuthorizeResult.CONDITIONAL,
      pluginId: 'catalog',
      resourceType: 'catalog-entity',
      conditions: {
        rule: 'IS_ENTITY_OWNER',
        resourceType: 'catalog-entity',
        params: { claims: ['user:default/ana', 'group:default/shop-team'] },
      },
    });
  });

  it('lets users read and cancel their own scaffolder tasks only', async () => {
    for (const permission of [scaffolder.taskRead, scaffolder.taskCancel]) {
      expect(await decide('user:default/ana', permission)).toEqual({
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'scaffolder',
        resourceType: 'scaffolder-task',
        conditions: {
          rule: 'IS_TASK_OWNER',
          resourceType: 'scaffolder-task',
          params: { createdBy: ['user:default/ana'] },
        },
      });
    }
  });

  describe('promotions', () => {
    const shop = (
      environment: string,
      production = false,
    ): PromotionsEnvironmentResource => ({
      entityRef: 'component:default/shop',
      environment,
      owners: ['group:default/shop-team'],
      production,
    });
    const rules = Object.values(promotionsEnvironmentRules);
    /** Applies a decision's conditions to a resource, as the promotions backend does. */
    const applies = (
      criteria: PermissionCriteria<PermissionCondition>,
      resource: PromotionsEnvironmentResource,
    ): boolean => {
      if ('allOf' in criteria)
        return criteria.allOf.every(c => applies(c, resource));
      if ('anyOf' in criteria)
        return criteria.anyOf.some(c => applies(c, resource));
      if ('not' in criteria) return !applies(criteria.not, resource);
      const rule = rules.find(r => r.name === criteria.rule)!;
      return rule.apply(resource, criteria.params as any);
    };
    const may = async (
      user: string,
      permission: Permission,
      resource: PromotionsEnvironmentResource,
    ) => {
      const decision = await decide(`user:default/${user}`, permission);
      if (decision.result !== AuthorizeResult.CONDITIONAL) {
        return decision.result === AuthorizeResult.ALLOW;
      }
      return applies(
        (decision as ConditionalPolicyDecision).conditions,
        resource,
      );
    };

    const promotionsMatrix: Array<
      [string, Permission, PromotionsEnvironmentResource, boolean]
    > = [
      // Owners act on their service outside production.
      ['ana', promotionsPromotePermission, shop('staging'), true],
      ['ana', promotionsApprovePermission, shop('staging'), true],
      ['ana', promotionsMergePermission, shop('staging'), true],
      ['ana', promotionsPromotePermission, shop('prod', true), false],
      ['ana', promotionsApprovePermission, shop('prod', true), false],
      ['ana', promotionsMergePermission, shop('prod', true), false],
      ['ana', promotionsOverridePermission, shop('staging'), false],
      ['ana', promotionsFreezePermission, shop('staging'), false],
      // Not on another team's service.
      [
        'ana',
        promotionsPromotePermission,
        { ...shop('staging'), owners: ['group:default/billing'] },
        false,
      ],
      // Release managers approve and merge production, override and freeze.
      ['rita', promotionsApprovePermission, shop('prod', true), true],
      ['rita', promotionsMergePermission, shop('prod', true), true],
      ['rita', promotionsOverridePermission, shop('prod', true), true],
      ['rita', promotionsFreezePermission, shop('prod', true), true],
      ['pat', promotionsMergePermission, shop('prod', true), true],
    ];
    for (const [user, permission, resource, allowed] of promotionsMatrix) {
      it(`${user} ${allowed ? 'may' : 'may not'} ${permission.name} on ${
        resource.environment
      }${
        resource.owners[0] === 'group:default/billing' ? ' of another team' : ''
      }`, async () => {
        expect(await may(user, permission, resource)).toBe(allowed);
      });
    }
  });

  it('lets backend plugins and CI, which act for no user, through', async () => {
    expect(
      (await decide(undefined, promotionsRepositoryRefreshPermission)).result,
    ).toBe(AuthorizeResult.ALLOW);
  });
});
