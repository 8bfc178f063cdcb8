import {
  BackendFeature,
  coreServices,
  createServiceFactory,
  ServiceFactory,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  TestDatabaseId,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { JsonObject } from '@backstage/types';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  createPromotionsEnvironmentConditionalDecision,
  promotionsEnvironmentConditions,
} from '@gitops-promotions/plugin-promotions-node';
import { Knex } from 'knex';
import request from 'supertest';
import { startPromotionsBackend } from './promotionsBackend';

/** The people of the tests: a requester in the owning team, an approver, and a stranger. */
export const GROUPS: Record<string, string[]> = {
  'user:default/ana': ['group:default/shop-team'],
  'user:default/ben': ['group:default/shop-team'],
  'user:default/rita': ['group:default/release-managers'],
  'user:default/sam': ['group:default/other-team'],
};

export const shopEntity = (
  annotations: Record<string, string> = {},
): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'shop',
    namespace: 'default',
    annotations: {
      'gitops-promotions/repository': 'gitops',
      'gitops-promotions/path': 'shop/overlays/{env}',
      ...annotations,
    },
  },
  spec: {
    type: 'service',
    owner: 'group:default/shop-team',
    lifecycle: 'production',
  },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/shop-team' }],
});

const users: Entity[] = Object.entries(GROUPS).map(([ref, groups]) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: {
    name: ref.split('/')[1],
    namespace: 'default',
    // As the GitHub org provider writes it: reviews on GitHub are this person's.
    annotations: { 'github.com/user-login': ref.split('/')[1] },
  },
  spec: {
    profile: {
      displayName: ref.split('/')[1],
      email: `${ref.split('/')[1]}@acme.example`,
    },
  },
  relations: groups.map(targetRef => ({ type: 'memberOf', targetRef })),
}));

/** Users and their groups, as the sign-in resolver would have given them. */
const userInfoFactory = createServiceFactory({
  service: coreServices.userInfo,
  deps: {},
  factory: () => ({
    async getUserInfo(credentials) {
      const principal = credentials.principal as { userEntityRef: string };
      return {
        userEntityRef: principal.userEntityRef,
        ownershipEntityRefs: [
          principal.userEntityRef,
          ...(GROUPS[principal.userEntityRef] ?? []),
        ],
      };
    },
  }),
});

const { isEntityOwner, isProduction } = promotionsEnvironmentConditions;

/**
 * The example portal's rules, as conditional decisions the plugin applies itself: owners
 * promote (and approve, merge, close) outside production; release managers do anything;
 * services are decided by their access restrictions.
 */
export async function exampleDecision(
  permission: { name: string; resourceType?: string },
  credentials: any,
  userInfo: UserInfoService,
): Promise<PolicyDecision> {
  if (credentials.principal.type === 'service') {
    return { result: AuthorizeResult.ALLOW };
  }
  const { ownershipEntityRefs: claims } = await userInfo.getUserInfo(
    credentials,
  );
  if (!permission.name.startsWith('promotions.')) {
    return { result: AuthorizeResult.ALLOW };
  }
  if (claims.includes('group:default/release-managers')) {
    return { result: AuthorizeResult.ALLOW };
  }
  if (permission.resourceType !== 'promotions-environment') {
    return { result: AuthorizeResult.ALLOW };
  }
  if (['promotions.override', 'promotions.freeze'].includes(permission.name)) {
    return { result: AuthorizeResult.DENY };
  }
  return createPromotionsEnvironmentConditionalDecision(permission as any, {
    allOf: [isEntityOwner({ claims }), { not: isProduction({}) }],
  });
}

/** A permissions service deciding as `decide` does; conditions are denied to `authorize`. */
export const policyFactory = (
  decide: (
    permission: { name: string; resourceType?: string },
    credentials: any,
    userInfo: UserInfoService,
  ) => Promise<PolicyDecision>,
) =>
  createServiceFactory({
    service: coreServices.permissions,
    deps: { userInfo: coreServices.userInfo },
    factory: ({ userInfo }) =>
      ({
        authorize: async (requests: any[], options: any) =>
          Promise.all(
            requests.map(async r => {
              const d = await decide(
                r.permission,
                options.credentials,
                userInfo,
              );
              return d.result === AuthorizeResult.CONDITIONAL
                ? { result: AuthorizeResult.DENY }
                : d;
            }),
          ),
        authorizeConditional: async (requests: any[], options: any) =>
          Promise.all(
            requests.map(r =>
              decide(r.permission, options.credentials, userInfo),
            ),
          ),
      } as any),
  });

/** The example portal's rules, as {@link exampleDecision} decides them. */
export const examplePolicyFactory = policyFactory(exampleDecision);

/** The shop pipeline: dev, staging (one approval), prod (production, a release manager). */
export const SHOP_PIPELINE = [
  { name: 'dev', requires: [], services: ['external:test-service'] },
  { name: 'staging', requires: ['dev'], approvals: 1 },
  {
    name: 'prod',
    requires: ['staging'],
    production: true,
    approvals: { count: 1, groups: ['release-managers'] },
  },
];

/** The promotions backend with the tests' people and the example policy, for the workflow. */
export async function startWorkflowBackend(options: {
  databases: TestDatabases;
  databaseId: TestDatabaseId;
  repositories: JsonObject[];
  integrations?: JsonObject;
  pipeline?: JsonObject[];
  entities?: Entity[];
  features?: BackendFeature[];
  permissions?: ServiceFactory;
  /** More configuration beside the app's and the plugin's. */
  config?: JsonObject;
  /** An earlier backend's database, for a backend started after that one died. */
  knex?: Knex;
  /** The database of the other plugins, such as the events backend's; `knex` when not given. */
  otherKnex?: Knex;
  /** People of `GROUPS` no longer in the catalog, such as `user:default/ben`. */
  gone?: string[];
}) {
  const knex =
    options.knex ?? (await options.databases.init(options.databaseId));
  const { server, refresh, scheduler } = await startPromotionsBackend({
    knex,
    otherKnex: options.otherKnex,
    entities: [
      ...(options.entities ?? [shopEntity()]),
      ...users.filter(
        u => !options.gone?.includes(`user:default/${u.metadata.name}`),
      ),
    ],
    features: [
      userInfoFactory,
      options.permissions ?? examplePolicyFactory,
      ...(options.features ?? []),
    ],
    config: {
      ...options.config,
      app: { baseUrl: 'http://portal.example' },
      integrations: options.integrations ?? {},
      promotions: {
        repositories: options.repositories,
        pipelines: { default: options.pipeline ?? SHOP_PIPELINE },
      },
    },
  });
  const api = '/api/promotions/v1';
  const entityPath = '/entities/component/default/shop';
  const as = (user: string | 'ci') => {
    const header =
      user === 'ci'
        ? mockCredentials.service.header()
        : mockCredentials.user.header(`user:default/${user}`);
    return {
      get: (url: string) =>
        request(server).get(`${api}${url}`).set('authorization', header),
      post: (url: string, body: object = {}) =>
        request(server)
          .post(`${api}${url}`)
          .set('authorization', header)
          .send(body),
      promote: (body: object) =>
        request(server)
          .post(`${api}${entityPath}/promotions`)
          .set('authorization', header)
          .send(body),
      act: (id: string, action: string, body: object = {}) =>
        request(server)
          .post(`${api}/promotions/${id}/${action}`)
          .set('authorization', header)
          .send(body),
    };
  };
  /** Reads the repository and waits for the entity's state to be stored. */
  const ready = async () => {
    await refresh(String(options.repositories[0].id));
    for (let i = 0; i < 200; i++) {
      const res = await as('ana').get(entityPath);
      if (res.body.asOf && res.body.environments?.length) return res.body;
      await new Promise(r => setTimeout(r, 50));
    }
    throw new Error('the entity was never refreshed');
  };
  return {
    server,
    knex,
    as,
    /** Refreshes a repository: the first configured unless another is named. */
    refresh: (repositoryId?: string) =>
      refresh(repositoryId ?? String(options.repositories[0].id)),
    ready,
    entityPath,
    sync: () => scheduler.triggerTask('promotions-workflow-sync'),
  };
}
