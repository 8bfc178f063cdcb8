import {
  BackstageCredentials,
  coreServices,
  createBackendModule,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  catalogConditions,
  createCatalogConditionalDecision,
} from '@backstage/plugin-catalog-backend/alpha';
import {
  catalogLocationDeletePermission,
  RESOURCE_TYPE_CATALOG_ENTITY,
} from '@backstage/plugin-catalog-common/alpha';
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
import {
  promotionsFreezePermission,
  promotionsOverridePermission,
  RESOURCE_TYPE_PROMOTIONS_ENVIRONMENT,
} from '@gitops-promotions/plugin-promotions-common';
import {
  createPromotionsEnvironmentConditionalDecision,
  promotionsEnvironmentConditions,
} from '@gitops-promotions/plugin-promotions-node';

/** The group that acts on everything. */
export const PLATFORM_GROUP = 'group:default/platform';
/** The group that approves and merges what reaches production. */
export const RELEASE_MANAGERS = 'group:default/release-managers';

const allow: PolicyDecision = { result: AuthorizeResult.ALLOW };
const deny: PolicyDecision = { result: AuthorizeResult.DENY };

/**
 * The example portal's policy: everyone signed in reads; owners act on their own services; the
 * platform group acts on everything else. Promotions: a service's owners promote, approve and
 * merge outside production; release managers do so everywhere, and alone override a window or
 * a freeze and freeze environments.
 */
export class ExamplePermissionPolicy implements PermissionPolicy {
  constructor(private readonly userInfo: UserInfoService) {}

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    const { permission } = request;
    const owners = await this.ownershipOf(user?.credentials);
    // No user: another backend plugin or CI with an external access token, configured by
    // the platform team.
    if (!user || owners.includes(PLATFORM_GROUP)) return allow;
    if (permission.attributes.action === 'read') return allow;

    if (permission.name === 'promotions.repository.refresh') return deny;
    if (
      isResourcePermission(permission, RESOURCE_TYPE_PROMOTIONS_ENVIRONMENT)
    ) {
      if (owners.includes(RELEASE_MANAGERS)) return allow;
      if (
        permission.name === promotionsOverridePermission.name ||
        permission.name === promotionsFreezePermission.name
      ) {
        return deny;
      }
      const { isEntityOwner, isProduction } = promotionsEnvironmentConditions;
      return createPromotionsEnvironmentConditionalDecision(permission, {
        allOf: [isEntityOwner({ claims: owners }), { not: isProduction({}) }],
      });
    }
    if (permission.name === catalogLocationDeletePermission.name) return deny;
    if (isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY)) {
      return createCatalogConditionalDecision(
        permission,
        catalogConditions.isEntityOwner({ claims: owners }),
      );
    }
    return allow;
  }

  private async ownershipOf(
    credentials: BackstageCredentials | undefined,
  ): Promise<string[]> {
    if (!credentials) return [];
    const info = await this.userInfo
      .getUserInfo(credentials)
      .catch(() => undefined);
    return info?.ownershipEntityRefs ?? [];
  }
}

/** Installs the example policy in the permission backend. */
export const examplePermissionPolicyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'example-policy',
  register(reg) {
    reg.registerInit({
      deps: {
        policy: policyExtensionPoint,
        userInfo: coreServices.userInfo,
      },
      async init({ policy, userInfo }) {
        policy.setPolicy(new ExamplePermissionPolicy(userInfo));
      },
    });
  },
});
