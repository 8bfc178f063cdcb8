import {
  coreServices,
  createBackendModule,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  AuthorizeResult,
  isResourcePermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';

/**
 * A user reads only the entities their groups own, and their promotions: a conditional decision
 * for `catalog.entity.read` and `promotions.entity.read`, as an owner-based policy answers.
 * Everything else, and every caller that is not a user, is allowed.
 */
class OwnersReadPolicy implements PermissionPolicy {
  constructor(private readonly userInfo: UserInfoService) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    if (
      !user ||
      !isResourcePermission(permission, 'catalog-entity') ||
      permission.attributes.action !== 'read'
    ) {
      return { result: AuthorizeResult.ALLOW };
    }
    const { ownershipEntityRefs } = await this.userInfo.getUserInfo(
      user.credentials,
    );
    return createCatalogConditionalDecision(
      permission,
      catalogConditions.isEntityOwner({ claims: ownershipEntityRefs }),
    );
  }
}

/** Installs {@link OwnersReadPolicy} in the permission backend, in place of allow-all. */
export const ownersReadPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'bench-owners-read-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        userInfo: coreServices.userInfo,
      },
      async init({ policy, userInfo }) {
        policy.setPolicy(new OwnersReadPolicy(userInfo));
      },
    });
  },
});
