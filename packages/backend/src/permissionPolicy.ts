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
  catalogEntityCreatePermission,
  RESOURCE_TYPE_CATALOG_ENTITY,
} from '@backstage/plugin-catalog-common/alpha';
import {
  createScaffolderTaskConditionalDecision,
  scaffolderTaskConditions,
} from '@backstage/plugin-scaffolder-backend/alpha';
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

/** The scaffolder's names, as `@backstage/plugin-scaffolder-common/alpha` spells them. */
const RESOURCE_TYPE_SCAFFOLDER_TASK = 'scaffolder-task';
const RESOURCE_TYPE_SCAFFOLDER_ACTION = 'scaffolder-action';
const SCAFFOLDER_TASK_CREATE = 'scaffolder.task.create';

const allow: PolicyDecision = { result: AuthorizeResult.ALLOW };
const deny: PolicyDecision = { result: AuthorizeResult.DENY };

/**
 * The example portal's policy: everyone signed in reads; owners act on their own services; the
 * platform group acts on everything else. Ordinary users keep reading, running templates
 * (whose actions check their own permissions) and publishing the layout of a service they will
 * own; registering locations, the template editor and refreshing repositories are the platform
 * group's. Promotions: a service's owners promote, approve and merge outside production; release
 * managers do so everywhere, and alone override a window or a freeze and freeze environments.
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
    // Their own scaffolder tasks: a task's log and output are its creator's.
    if (isResourcePermission(permission, RESOURCE_TYPE_SCAFFOLDER_TASK)) {
      return createScaffolderTaskConditionalDecision(
        permission,
        scaffolderTaskConditions.isTaskOwner({
          createdBy: [user.info.userEntityRef],
        }),
      );
    }
    if (permission.attributes.action === 'read') return allow;
    // Running a template: the platform registers templates, and each action checks its writes.
    if (
      permission.name === SCAFFOLDER_TASK_CREATE ||
      isResourcePermission(permission, RESOURCE_TYPE_SCAFFOLDER_ACTION)
    ) {
      return allow;
    }
    // The catalog's Create button, which leads to the templates; it registers nothing itself.
    if (permission.name === catalogEntityCreatePermission.name) return allow;
    // Their own entities, and the layouts of services they will own (promotions.layout.publish).
    if (isResourcePermission(permission, RESOURCE_TYPE_CATALOG_ENTITY)) {
      return createCatalogConditionalDecision(
        permission,
        catalogConditions.isEntityOwner({ claims: owners }),
      );
    }
    // Everything else (locations, the template editor and its dry runs, refreshing
    // repositories) is the platform group's.
    return deny;
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
