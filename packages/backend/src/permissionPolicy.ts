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

/** The group that acts on everything. */
export const PLATFORM_GROUP = 'group:default/platform';

const allow: PolicyDecision = { result: AuthorizeResult.ALLOW };
const deny: PolicyDecision = { result: AuthorizeResult.DENY };

/**
 * The example portal's policy: everyone signed in reads; owners act on their own services; the
 * platform group acts on everything else. Permissions of the promotions plugins that change
 * repositories follow the same rule.
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
    const info = await this.userInfo.getUserInfo(credentials).catch(() => undefined);
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
