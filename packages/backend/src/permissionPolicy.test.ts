import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import {
  catalogEntityDeletePermission,
  catalogEntityReadPermission,
  catalogEntityRefreshPermission,
  catalogLocationCreatePermission,
  catalogLocationDeletePermission,
} from '@backstage/plugin-catalog-common/alpha';
import {
  AuthorizeResult,
  Permission,
} from '@backstage/plugin-permission-common';
import {
  promotionsEntityReadPermission,
  promotionsRepositoryRefreshPermission,
} from '@gitops-promotions/plugin-promotions-common';
import { ExamplePermissionPolicy } from './permissionPolicy';

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
    ['ana', catalogEntityRefreshPermission, AuthorizeResult.CONDITIONAL],
    ['ana', catalogEntityDeletePermission, AuthorizeResult.CONDITIONAL],
    ['ana', catalogLocationCreatePermission, AuthorizeResult.ALLOW],
    ['ana', catalogLocationDeletePermission, AuthorizeResult.DENY],
    ['ana', promotionsRepositoryRefreshPermission, AuthorizeResult.DENY],
    ['rita', promotionsRepositoryRefreshPermission, AuthorizeResult.DENY],
    ['pat', promotionsRepositoryRefreshPermission, AuthorizeResult.ALLOW],
    ['pat', catalogEntityDeletePermission, AuthorizeResult.ALLOW],
    ['pat', catalogLocationDeletePermission, AuthorizeResult.ALLOW],
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

  it('lets backend plugins and CI, which act for no user, through', async () => {
    expect(
      (await decide(undefined, promotionsRepositoryRefreshPermission)).result,
    ).toBe(AuthorizeResult.ALLOW);
  });
});
