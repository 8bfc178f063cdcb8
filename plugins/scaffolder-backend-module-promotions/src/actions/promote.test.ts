import fs from 'node:fs';
import path from 'node:path';
import { AddressInfo } from 'node:net';
import {
  AuthService,
  BackstageCredentials,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
// The action is proven against the real promotions backend, which validates what it is sent.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import promotionsPlugin from '@gitops-promotions/plugin-promotions-backend';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import request from 'supertest';
import { parse } from 'yaml';
import { scaffolderModulePromotions } from '../module';
import { testGitRepository } from '../testing/testRepository';
import { createPromoteAction } from './promote';

jest.setTimeout(60_000);

const exampleTemplate = path.resolve(
  __dirname,
  '../../../../templates/promote-version/template.yaml',
);

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: shop
          image: ghcr.io/acme/shop:0.0.1
`;
const overlay = (env: string, tag: string) => `resources:
  - ../../base
namespace: shop-${env}
images:
  - name: ghcr.io/acme/shop
    newTag: "${tag}"
`;

const shop: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'shop',
    namespace: 'default',
    annotations: {
      'gitops-promotions/repository': 'gitops',
      'gitops-promotions/path': 'shop/overlays/{env}',
    },
  },
  spec: { type: 'service', owner: 'group:default/shop-team', lifecycle: 'x' },
  relations: [{ type: 'ownedBy', targetRef: 'group:default/shop-team' }],
};

/** Everyone may do everything, except sam, whom the policy lets promote nowhere. */
const samMayNotPromote = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory: () => {
    const decide = (permission: { name: string }, credentials: any) => ({
      result:
        permission.name === 'promotions.promote' &&
        credentials.principal.userEntityRef === 'user:default/sam'
          ? AuthorizeResult.DENY
          : AuthorizeResult.ALLOW,
    });
    const answer = async (requests: any[], options: any) =>
      requests.map(r => decide(r.permission, options.credentials));
    return { authorize: answer, authorizeConditional: answer } as any;
  },
});

/**
 * The auth service's delegation as the backend's own (DefaultAuthService) does it: a plugin's
 * token on behalf of a service names the plugin (here the scaffolder), not the service; and a
 * service with access restrictions is refused unless the restrictions it carries name the target
 * plugin without permission restrictions, which the credentials a task keeps as JSON never do.
 */
function delegatingAsBackstageDoes(
  auth: AuthService,
  pluginId = 'scaffolder',
): AuthService {
  return Object.assign(Object.create(auth), {
    getPluginRequestToken: async (options: {
      onBehalfOf: BackstageCredentials;
      targetPluginId: string;
    }) => {
      const principal = options.onBehalfOf.principal as any;
      if (principal.type !== 'service') {
        return auth.getPluginRequestToken(options);
      }
      if (principal.accessRestrictions) {
        const target = (options.onBehalfOf as any).allAccessRestrictions?.get(
          options.targetPluginId,
        );
        if (!target) {
          throw new NotAllowedError(
            `Access to target plugin '${options.targetPluginId}' is not included in token's access restrictions`,
          );
        }
      }
      return auth.getPluginRequestToken({
        onBehalfOf: mockCredentials.service(`plugin:${pluginId}`),
        targetPluginId: options.targetPluginId,
      });
    },
  });
}

/**
 * The promotions backend over a repository where dev runs 1.2.0 and staging 1.1.0 (staging
 * needs an approval), and the action calling it over HTTP.
 */
async function start() {
  const { dir, git, commitAll } = testGitRepository();
  fs.mkdirSync(path.join(dir, 'shop/base'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'shop/base/deployment.yaml'), deployment);
  fs.writeFileSync(
    path.join(dir, 'shop/base/kustomization.yaml'),
    'resources:\n  - deployment.yaml\n',
  );
  for (const [env, tag] of [
    ['dev', '1.2.0'],
    ['staging', '1.1.0'],
  ]) {
    fs.mkdirSync(path.join(dir, `shop/overlays/${env}`), { recursive: true });
    fs.writeFileSync(
      path.join(dir, `shop/overlays/${env}/kustomization.yaml`),
      overlay(env, tag),
    );
  }
  commitAll('Lay out shop');

  const scheduler = mockServices.scheduler.factory({
    skipTaskRunOnStartup: true,
  });
  const { server } = await startTestBackend({
    features: [
      createServiceFactory({
        service: coreServices.auth,
        deps: { plugin: coreServices.pluginMetadata },
        factory: ({ plugin }) =>
          delegatingAsBackstageDoes(
            mockServices.auth({ pluginId: plugin.getId() }),
            plugin.getId(),
          ),
      }),
      scaffolderPlugin,
      scaffolderModulePromotions,
      promotionsPlugin,
      samMayNotPromote,
      scheduler,
      catalogServiceMock.factory({
        entities: [shop, parse(fs.readFileSync(exampleTemplate, 'utf8'))],
      }),
      mockServices.rootConfig.factory({
        data: {
          app: { baseUrl: 'http://portal.example' },
          promotions: {
            repositories: [
              {
                id: 'gitops',
                provider: 'git',
                url: dir,
                paths: ['{entity.metadata.name}/**'],
              },
            ],
            pipelines: {
              default: [
                { name: 'dev' },
                {
                  name: 'staging',
                  requires: ['dev'],
                  approvals: 1,
                  services: ['plugin:scaffolder'],
                },
              ],
            },
          },
        },
      }),
    ],
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}/api/promotions`;
  const api = (user: string) => ({
    get: (url: string) =>
      request(server)
        .get(`/api/promotions/v1/entities/component/default/shop${url}`)
        .set('authorization', mockCredentials.user.header(user)),
  });
  // The first read of the repository, as the schedule would make it.
  await request(server)
    .post('/api/promotions/v1/repositories/gitops/refresh')
    .set('authorization', mockCredentials.service.header());
  for (let i = 0; ; i++) {
    const res = await api('user:default/ana').get('');
    if (res.body.environments?.length === 2) break;
    if (i > 200) throw new Error('shop was never read');
    await new Promise(r => setTimeout(r, 50));
  }
  const action = createPromoteAction({
    discovery: mockServices.discovery.mock({
      getBaseUrl: async () => baseUrl,
    }),
    auth: delegatingAsBackstageDoes(mockServices.auth()),
  });
  /** Runs the action as a task that `user` (or a service's credentials) started. */
  const run = async (
    user: string | BackstageCredentials,
    input: ReturnType<typeof createMockActionContext>['input'],
    options: { isDryRun?: boolean } = {},
  ) => {
    const ctx = {
      ...createMockActionContext({ input }),
      isDryRun: options.isDryRun,
      getInitiatorCredentials: async () =>
        typeof user === 'string'
          ? mockCredentials.user(user)
          : // The scaffolder keeps the initiator's credentials as JSON with the task.
            JSON.parse(JSON.stringify(user)),
    };
    await action.handler(ctx as any);
    return Object.fromEntries(
      (ctx.output as jest.Mock).mock.calls.map(([name, value]) => [
        name,
        value,
      ]),
    );
  };
  const branches = () => git('branch', '--list', 'promotions/*');
  /** A dry run of a template with one promotions:promote step, through the scaffolder's API. */
  const dryRun = (user: string, input: Record<string, unknown>) =>
    request(server)
      .post('/api/scaffolder/v2/dry-run')
      .set('authorization', mockCredentials.user.header(user))
      .send({
        template: {
          apiVersion: 'scaffolder.backstage.io/v1beta3',
          kind: 'Template',
          metadata: { name: 'promote', namespace: 'default' },
          spec: {
            owner: 'group:default/shop-team',
            type: 'service',
            parameters: [],
            steps: [
              {
                id: 'promote',
                name: 'Promote',
                action: 'promotions:promote',
                input,
              },
            ],
            output: {
              state: '${{ steps.promote.output.state }}',
              version: '${{ steps.promote.output.version }}',
            },
          },
        },
        values: {},
        secrets: {},
        directoryContents: [],
      });
  /** A dry run of the shipped promote-version template with the form's values. */
  const dryRunExample = (user: string, values: Record<string, unknown>) =>
    request(server)
      .post('/api/scaffolder/v2/dry-run')
      .set('authorization', mockCredentials.user.header(user))
      .send({
        template: parse(fs.readFileSync(exampleTemplate, 'utf8')),
        values,
        secrets: {},
        directoryContents: [],
      });
  /**
   * Starts the example template as CI does, through the scaffolder's task API with a service's
   * token, and waits for the task to end; answers its status and the messages it logged.
   */
  const startTask = async (values: Record<string, unknown>) => {
    const authorization = mockCredentials.service.header({
      onBehalfOf: mockCredentials.service('external:ci'),
      targetPluginId: 'scaffolder',
    });
    const created = await request(server)
      .post('/api/scaffolder/v2/tasks')
      .set('authorization', authorization)
      .send({ templateRef: 'template:default/promote-version', values });
    if (created.status !== 201) return { created, status: undefined, log: '' };
    for (let i = 0; ; i++) {
      const task = await request(server)
        .get(`/api/scaffolder/v2/tasks/${created.body.id}`)
        .set('authorization', authorization);
      if (['completed', 'failed', 'cancelled'].includes(task.body.status)) {
        const events = await request(server)
          .get(`/api/scaffolder/v2/tasks/${created.body.id}/events`)
          .set('authorization', authorization);
        const log = events.body
          .map((e: any) => e.body?.message ?? '')
          .join('\n');
        return { created, status: task.body.status as string, log };
      }
      if (i > 400) throw new Error(`the task is still ${task.body.status}`);
      await new Promise(r => setTimeout(r, 50));
    }
  };
  return { run, api, branches, dryRun, dryRunExample, startTask, server };
}

describe('promotions:promote', () => {
  it('asks for the promotion as the task’s initiator and outputs its id, state and gates', async () => {
    const { run, api, branches } = await start();
    const output = await run('user:default/ana', {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    });
    expect(output).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      state: 'open',
      version: '1.2.0',
      previousVersion: '1.1.0',
      // The git provider keeps promotions in the portal, with no pull request.
      pullRequestUrl: null,
      gates: expect.arrayContaining([
        { gate: 'requires', state: 'passed', summary: expect.any(String) },
        { gate: 'approvals', state: 'pending', summary: '0 of 1 approval' },
      ]),
    });
    const listed = await api('user:default/ana').get('/promotions');
    expect(listed.body.promotions).toEqual([
      expect.objectContaining({
        id: output.id,
        environment: 'staging',
        version: '1.2.0',
        // The backend saw the person who ran the task, not the scaffolder.
        requestedBy: 'user:default/ana',
      }),
    ]);
    expect(branches()).toContain('promotions/shop/staging/');
  });

  it('in a dry run, outputs what would be promoted and its gates, and writes nothing', async () => {
    const { run, api, branches } = await start();
    const output = await run(
      'user:default/ana',
      { entityRef: 'shop', to: 'staging', version: '1.2.0' },
      { isDryRun: true },
    );
    expect(output).toEqual({
      state: 'preview',
      version: '1.2.0',
      previousVersion: '1.1.0',
      pullRequestUrl: null,
      gates: expect.arrayContaining([
        { gate: 'approvals', state: 'pending', summary: '0 of 1 approval' },
      ]),
    });
    expect(branches()).toBe('');
    const listed = await api('user:default/ana').get('/promotions');
    expect(listed.body.promotions).toEqual([]);
  });

  it('fails with the open promotion named when one is open, and replaces it with supersede', async () => {
    const { run } = await start();
    const input = {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    };
    const first = await run('user:default/ana', input);
    const second = run('user:default/ben', input);
    await expect(second).rejects.toThrow(ConflictError);
    await expect(second).rejects.toThrow(
      `A promotion to staging of component:default/shop is already open: ${first.id}; ask with supersede to replace it`,
    );
    await expect(second).rejects.toMatchObject({
      openPromotion: {
        id: first.id,
        url: 'http://portal.example/catalog/default/component/shop/promotions',
      },
    });
    const replaced = await run('user:default/ana', {
      ...input,
      supersede: true,
    });
    expect(replaced.id).not.toBe(first.id);
    expect(replaced.state).toBe('open');
  });

  it('fails with the backend’s reason for a version that is not one, or that no upstream runs', async () => {
    const { run, branches } = await start();
    const malformed = run('user:default/ana', {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0"\nimages: []',
    });
    await expect(malformed).rejects.toThrow(InputError);
    await expect(malformed).rejects.toThrow(/^".*" is not a version: a tag/s);
    await expect(
      run('user:default/ana', {
        entityRef: 'component:default/shop',
        to: 'staging',
        version: '9.9.9',
      }),
    ).rejects.toThrow(
      'No upstream of staging runs 9.9.9 (dev runs 1.2.0); ask with allowUnknownVersion to promote it anyway',
    );
    // The backend's own validation of the request body, passed through as it said it.
    await expect(
      run('user:default/ana', {
        entityRef: 'component:default/shop',
        to: 'Staging; rm -rf /',
        version: '1.2.0',
      }),
    ).rejects.toThrow(/^Invalid promotion: to: must be a lowercase name/);
    // An entity reference that is not one never reaches the backend.
    await expect(
      run('user:default/ana', {
        entityRef: 'component:default/../../v1/freezes',
        to: 'staging',
        version: '1.2.0',
      }),
    ).rejects.toThrow(/is not an entity reference/);
    expect(branches()).toBe('');
  });

  it('fails for someone the permission policy does not let promote, in a dry run too', async () => {
    const { run, api, branches } = await start();
    const input = {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    };
    const refused = run('user:default/sam', input);
    await expect(refused).rejects.toThrow(NotAllowedError);
    await expect(refused).rejects.toThrow(/may not promote to staging/);
    await expect(
      run('user:default/sam', input, { isDryRun: true }),
    ).rejects.toThrow(/may not promote to staging/);
    expect(branches()).toBe('');
    const listed = await api('user:default/ana').get('/promotions');
    expect(listed.body.promotions).toEqual([]);
  });
});

describe('promotions:promote for a task a service started', () => {
  const ci = mockCredentials.service('external:ci');

  it('promotes as plugin:scaffolder where an environment’s services list it', async () => {
    const { run, branches, server } = await start();
    const output = await run(ci, {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    });
    expect(output).toMatchObject({ state: 'open', version: '1.2.0' });
    const res = await request(server)
      .get(`/api/promotions/v1/promotions/${output.id}`)
      .set('authorization', mockCredentials.user.header('user:default/ana'));
    expect(res.status).toBe(200);
    expect(res.body.requestedBy).toBe('plugin:scaffolder');
    expect(branches()).toContain('promotions/shop/staging/');
  });

  it('is refused, saying it promotes as plugin:scaffolder, where the services do not list it', async () => {
    const { run, branches } = await start();
    const refused = run(ci, {
      entityRef: 'component:default/shop',
      to: 'dev',
      version: '1.1.0',
      allowUnknownVersion: true,
    });
    await expect(refused).rejects.toThrow(NotAllowedError);
    await expect(refused).rejects.toThrow(
      'The task was started by the service external:ci, so it promotes as plugin:scaffolder, which may promote only to environments whose services list plugin:scaffolder: plugin:scaffolder may not ask for promotions to dev',
    );
    expect(branches()).toBe('');
  });

  it('runs the example template started through the scaffolder’s task API, as CI does', async () => {
    const { startTask, branches, server } = await start();
    const refused = await startTask({
      entityRef: 'component:default/shop',
      to: 'dev',
      version: '1.1.0',
    });
    expect(refused.created.status).toBe(201);
    expect(refused.status).toBe('failed');
    expect(refused.log).toContain(
      'The task was started by the service external:ci, so it promotes as plugin:scaffolder, which may promote only to environments whose services list plugin:scaffolder',
    );
    expect(branches()).toBe('');

    const ok = await startTask({
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    });
    expect(ok.status).toBe('completed');
    expect(ok.log).toContain(
      'Asked to promote component:default/shop to staging: 1.1.0 → 1.2.0',
    );
    const list = await request(server)
      .get('/api/promotions/v1/entities/component/default/shop/promotions')
      .set('authorization', mockCredentials.user.header('user:default/ana'));
    expect(JSON.stringify(list.body)).toContain('plugin:scaffolder');
    expect(branches()).toContain('promotions/shop/staging/');

    const hostile = await startTask({
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0\n--upload-pack=evil',
    });
    expect(hostile.status).not.toBe('completed');
  });

  it('explains a token whose access restrictions cannot be passed on', async () => {
    const { run, branches } = await start();
    const restricted = mockCredentials.service('external:ci', {});
    const refused = run(restricted, {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    });
    await expect(refused).rejects.toThrow(NotAllowedError);
    await expect(refused).rejects.toThrow(
      /started by the service external:ci with a token whose access restrictions the scaffolder cannot pass on .*without accessRestrictions/,
    );
    expect(branches()).toBe('');
  });
});

describe('promotions:promote in the scaffolder', () => {
  it('runs the example promote-version template, whose form refuses what is not an environment', async () => {
    const { dryRunExample, branches } = await start();
    const template = parse(fs.readFileSync(exampleTemplate, 'utf8'));
    expect(template.metadata.name).toBe('promote-version');
    expect(template.spec.steps.map((s: any) => s.action)).toEqual([
      'promotions:promote',
    ]);
    const ok = await dryRunExample('user:default/ana', {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.steps.map((s: any) => s.id)).toEqual(['promote']);
    expect(ok.body.log.map((l: any) => l.body.message).join('\n')).toContain(
      'Dry run: would ask to promote component:default/shop to staging: 1.1.0 → 1.2.0',
    );

    const hostile = await dryRunExample('user:default/ana', {
      entityRef: 'component:default/shop',
      to: '../prod',
      version: '1.2.0',
    });
    expect(hostile.status).toBe(400);
    expect(hostile.body.errors).toEqual([
      expect.objectContaining({ path: ['to'], name: 'pattern' }),
    ]);
    expect(branches()).toBe('');
  });

  it('dry-runs a template step as the person who runs it, and refuses input its schema does not allow', async () => {
    const { dryRun, branches } = await start();
    const ok = await dryRun('user:default/ana', {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.output).toMatchObject({
      state: 'preview',
      version: '1.2.0',
    });

    const sam = await dryRun('user:default/sam', {
      entityRef: 'component:default/shop',
      to: 'staging',
      version: '1.2.0',
    });
    // The step fails with the promotions backend's reason, and its status.
    expect(sam.status).toBe(403);
    expect(sam.body.error).toEqual({
      name: 'NotAllowedError',
      message: 'You may not promote to staging of component:default/shop',
    });

    const hostile = await dryRun('user:default/ana', {
      entityRef: 'component:default/shop',
      to: '../prod',
      version: '1.2.0',
    });
    expect(hostile.status).toBe(400);
    expect(hostile.body.error.message).toMatch(
      /^Invalid input passed to action promotions:promote, instance.to does not match pattern/,
    );
    expect(branches()).toBe('');
  });
});
