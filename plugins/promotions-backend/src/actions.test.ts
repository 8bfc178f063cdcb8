import {
  coreServices,
  createServiceFactory,
  ServiceFactory,
} from '@backstage/backend-plugin-api';
import { mockCredentials, TestDatabases } from '@backstage/backend-test-utils';
import mcpActionsPlugin from '@backstage/plugin-mcp-actions-backend';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { shopHistory } from '@internal/promotions-fixtures';
import request from 'supertest';
import {
  bareRepository,
  git,
  shopEntity,
  startWorkflowBackend,
} from './__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** Everyone may do everything, except read the promotions of any entity: sam may not. */
const samMayNotRead = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory: () => {
    const answer = async (requests: any[], options: any) =>
      requests.map(r => ({
        result:
          r.permission.name === 'promotions.entity.read' &&
          options.credentials.principal.userEntityRef === 'user:default/sam'
            ? AuthorizeResult.DENY
            : AuthorizeResult.ALLOW,
      }));
    return { authorize: answer, authorizeConditional: answer } as any;
  },
});

describe.each(databases.eachSupportedId())(
  'the promotions actions of the actions registry on %s',
  databaseId => {
    async function start(permissions?: ServiceFactory) {
      const dir = bareRepository(shopHistory);
      const backend = await startWorkflowBackend({
        databases,
        databaseId,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: dir,
            paths: ['{entity.metadata.name}/**'],
          },
        ],
        entities: [shopEntity()],
        permissions,
      });
      await backend.ready();
      /** Invokes an action through the registry's route, as the MCP backend and agents do. */
      const invoke = (user: string, action: string, input: object) =>
        request(backend.server)
          .post(
            `/api/promotions/.backstage/actions/v1/actions/promotions:${action}/invoke`,
          )
          .set(
            'authorization',
            mockCredentials.user.header(`user:default/${user}`),
          )
          .send(input);
      return { ...backend, dir, invoke };
    }

    it('reaches MCP clients as tools, when the actions service lists the plugin', async () => {
      const backend = await startWorkflowBackend({
        databases,
        databaseId,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: bareRepository(shopHistory),
            paths: ['{entity.metadata.name}/**'],
          },
        ],
        features: [mcpActionsPlugin],
        // As the example portal's app-config.yaml sets it.
        config: { backend: { actions: { pluginSources: ['promotions'] } } },
      });
      await backend.ready();
      const mcp = (authorization: string, body: object) =>
        request(backend.server)
          .post('/api/mcp-actions/v1')
          .set('accept', 'application/json, text/event-stream')
          .set('content-type', 'application/json')
          .set('authorization', authorization)
          .send(body)
          .buffer(true)
          .parse((res, done) => {
            let text = '';
            res.on('data', chunk => {
              text += chunk;
            });
            res.on('end', () => done(null, text));
          });
      /** The JSON-RPC answer of a streamable HTTP response, an event stream of one message. */
      const answer = (text: string) =>
        JSON.parse(
          text
            .split('\n')
            .find(line => line.startsWith('data: '))!
            .slice('data: '.length),
        );
      const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };

      const listed = await mcp(
        mockCredentials.user.header('user:default/ana'),
        list,
      );
      expect(listed.status).toBe(200);
      expect(
        answer(listed.body)
          .result.tools.map((t: { name: string }) => t.name)
          .sort(),
      ).toEqual(['promotions.get-promotions', 'promotions.request-promotion']);

      // A call runs as the caller, through the same checks as the REST API.
      const called = await mcp(
        mockCredentials.user.header('user:default/ana'),
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: {
            name: 'promotions.get-promotions',
            arguments: { entityRef: 'component:default/shop' },
          },
        },
      );
      expect(called.status).toBe(200);
      const result = answer(called.body).result;
      expect(result.isError).toBeFalsy();
      const output = JSON.parse(result.content[0].text);
      expect(
        output.environments.map((e: { name: string; version: string }) => [
          e.name,
          e.version,
        ]),
      ).toEqual([
        ['dev', '1.2.0'],
        ['staging', '1.1.0'],
        ['prod', '1.0.0'],
      ]);
      // As the REST API says: an owner such as ana may do nothing in production.
      expect(output.allowedActions.prod).toEqual([]);
    });

    it('lists both actions with their schemas, the reading one as read-only', async () => {
      const { server } = await start();
      const res = await request(server)
        .get('/api/promotions/.backstage/actions/v1/actions')
        .set('authorization', mockCredentials.user.header('user:default/ana'));
      expect(res.status).toBe(200);
      const byName = Object.fromEntries(
        res.body.actions.map((a: any) => [a.name, a]),
      );
      expect(byName['get-promotions']).toMatchObject({
        id: 'promotions:get-promotions',
        attributes: { readOnly: true, destructive: false },
      });
      expect(byName['request-promotion']).toMatchObject({
        id: 'promotions:request-promotion',
        attributes: { readOnly: false, destructive: false },
        schema: { input: { required: ['entityRef', 'to'] } },
      });
    });

    it('gives a reader the environments with versions and drift, and the open promotions with their gates', async () => {
      const { as, invoke, entityPath } = await start();
      const before = await invoke('sam', 'get-promotions', {
        entityRef: 'component:default/shop',
      });
      expect(before.status).toBe(200);
      expect(before.body.output).toMatchObject({
        entityRef: 'component:default/shop',
        pipeline: 'default',
        openPromotions: [],
      });
      expect(
        before.body.output.environments.map((e: any) => [e.name, e.version]),
      ).toEqual([
        ['dev', '1.2.0'],
        ['staging', '1.1.0'],
        ['prod', '1.0.0'],
      ]);
      const staging = before.body.output.environments[1];
      expect(staging.drift).toContainEqual({
        kind: 'behind',
        summary: expect.stringContaining('dev'),
      });
      // sam owns nothing here: the example policy lets them do nothing.
      expect(before.body.output.allowedActions.staging).toEqual([]);

      const opened = await as('ana').promote({ to: 'staging' });
      expect(opened.status).toBe(201);
      const after = await invoke('sam', 'get-promotions', {
        entityRef: 'shop',
      });
      expect(after.status).toBe(200);
      expect(after.body.output.openPromotions).toEqual([
        expect.objectContaining({
          id: opened.body.id,
          environment: 'staging',
          version: '1.2.0',
          previousVersion: '1.1.0',
          state: 'open',
          requestedBy: 'user:default/ana',
          pullRequestUrl: null,
          gates: expect.arrayContaining([
            { gate: 'approvals', state: 'pending', summary: '0 of 1 approval' },
          ]),
        }),
      ]);
      // The REST API's listing says the same.
      const listed = await as('sam').get(`${entityPath}/promotions`);
      expect(listed.body.promotions.map((p: any) => p.id)).toEqual([
        opened.body.id,
      ]);
    });

    it('refuses to read the promotions of someone the policy does not let read them, as the REST API does', async () => {
      const { invoke, as, entityPath } = await start(samMayNotRead);
      const refused = await invoke('sam', 'get-promotions', {
        entityRef: 'component:default/shop',
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toBe(
        'You may not read the promotions of component:default/shop',
      );
      const rest = await as('sam').get(entityPath);
      expect(rest.status).toBe(403);
      const ana = await invoke('ana', 'get-promotions', {
        entityRef: 'component:default/shop',
      });
      expect(ana.status).toBe(200);
    });

    it('opens a promotion for someone allowed to promote, and refuses a second with the first named', async () => {
      const { invoke, dir } = await start();
      const res = await invoke('ana', 'request-promotion', {
        entityRef: 'component:default/shop',
        to: 'staging',
      });
      expect(res.status).toBe(200);
      const { promotion } = res.body.output;
      expect(promotion).toMatchObject({
        entityRef: 'component:default/shop',
        environment: 'staging',
        version: '1.2.0',
        state: 'open',
        requestedBy: 'user:default/ana',
      });
      expect(git(dir, 'branch', '--list', 'promotions/*')).toContain(
        'promotions/shop/staging/',
      );

      const again = await invoke('ben', 'request-promotion', {
        entityRef: 'component:default/shop',
        to: 'staging',
      });
      expect(again.status).toBe(409);
      expect(again.body.error.message).toContain(
        `already open: ${promotion.id}`,
      );
    });

    it('refuses someone without the promote permission, as the REST API does, and writes nothing', async () => {
      const { invoke, as, dir, entityPath } = await start();
      const refused = await invoke('sam', 'request-promotion', {
        entityRef: 'component:default/shop',
        to: 'staging',
      });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toMatch(/may not promote to staging/);
      // An owner may not promote to production either.
      const prod = await invoke('ana', 'request-promotion', {
        entityRef: 'component:default/shop',
        to: 'prod',
      });
      expect(prod.status).toBe(403);
      const rest = await as('sam').promote({ to: 'staging' });
      expect(rest.status).toBe(403);
      expect(rest.body.error.message).toBe(refused.body.error.message);
      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');
      const listed = await as('ana').get(`${entityPath}/promotions`);
      expect(listed.body.promotions).toEqual([]);
    });

    it('refuses a bad version, a version no upstream runs and hostile input with the reason, and writes nothing', async () => {
      const { invoke, dir } = await start();
      const malformed = await invoke('ana', 'request-promotion', {
        entityRef: 'component:default/shop',
        to: 'staging',
        version: '1.2.0"\nimages: []',
      });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.message).toMatch(/is not a version/);

      const unknown = await invoke('ana', 'request-promotion', {
        entityRef: 'component:default/shop',
        to: 'staging',
        version: '9.9.9',
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toBe(
        'No upstream of staging runs 9.9.9 (dev runs 1.2.0); ask with allowUnknownVersion to promote it anyway',
      );

      const environment = await invoke('ana', 'request-promotion', {
        entityRef: 'component:default/shop',
        to: '../prod',
      });
      expect(environment.status).toBe(400);
      expect(environment.body.error.message).toMatch(/Invalid input/);

      const entity = await invoke('ana', 'get-promotions', {
        entityRef: 'component:default/shop/../../x',
      });
      expect(entity.status).toBe(400);
      expect(entity.body.error.message).toMatch(/is not an entity reference/);

      const extra = await invoke('ana', 'request-promotion', {
        entityRef: 'component:default/shop',
        to: 'staging',
        merge: true,
      });
      expect(extra.status).toBe(400);

      expect(git(dir, 'branch', '--list', 'promotions/*')).toBe('');
    });
  },
);
