import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { TestDatabases } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { shopOverlay } from '@internal/promotions-fixtures';
import { bareRepository, startWorkflowBackend } from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const DAY = 24 * 60 * 60 * 1000;
/** Whole seconds ago, as git keeps them. */
const daysAgo = (days: number, start = Date.now()) =>
  new Date(Math.floor((start - days * DAY) / 1000) * 1000);

/** Everyone reads everything, but sam sees no entity and rita may not read promotions. */
const policy = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory: () => {
    const decide = (name: string, credentials: any) => {
      const user = credentials.principal.userEntityRef;
      if (name === 'catalog.entity.read' && user === 'user:default/sam')
        return { result: AuthorizeResult.DENY };
      if (name === 'promotions.entity.read' && user === 'user:default/rita')
        return { result: AuthorizeResult.DENY };
      return { result: AuthorizeResult.ALLOW };
    };
    const answer = async (requests: any[], options: any) =>
      requests.map(r => decide(r.permission.name, options.credentials));
    return { authorize: answer, authorizeConditional: answer } as any;
  },
});

describe.each(databases.eachSupportedId())(
  'delivery figures on %s',
  databaseId => {
    const start = Date.now();
    const at = (days: number) => daysAgo(days, start);
    /*
     * The shop's repository: laid out 40 days ago at 1.0.0 everywhere; 1.1.0 reaches dev ten
     * days ago, staging six days ago, prod two days ago (through the portal: p1, requested three
     * days ago); 1.2.0 reaches dev four days ago and staging a day and a half ago; 1.3.0 dev a
     * day ago. Each environment drifts from its upstream, so the refresh reads every timeline.
     * A rollback of prod (r1) was asked for a day ago and is not merged.
     */
    const commit = (
      days: number,
      message: string,
      env: string,
      tag: string,
    ) => ({
      author: 'Ana Lima',
      date: at(days).toISOString(),
      message,
      files: {
        [`shop/overlays/${env}/kustomization.yaml`]: shopOverlay(env, tag),
      },
    });
    const history = [
      {
        author: 'Ana Lima',
        date: at(40).toISOString(),
        message: 'Lay out shop',
        files: {
          'shop/base/deployment.yaml':
            'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          image: ghcr.io/acme/shop:0.0.1\n',
          'shop/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
          'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '1.0.0'),
          'shop/overlays/staging/kustomization.yaml': shopOverlay(
            'staging',
            '1.0.0',
          ),
          'shop/overlays/prod/kustomization.yaml': shopOverlay('prod', '1.0.0'),
        },
      },
      commit(10, 'Promote shop 1.1.0 to dev', 'dev', '1.1.0'),
      commit(6, 'Promote shop 1.1.0 to staging', 'staging', '1.1.0'),
      commit(4, 'Promote shop 1.2.0 to dev', 'dev', '1.2.0'),
      commit(2, 'Promote shop 1.1.0 to prod', 'prod', '1.1.0'),
      commit(1.5, 'Promote shop 1.2.0 to staging', 'staging', '1.2.0'),
      commit(1, 'Promote shop 1.3.0 to dev', 'dev', '1.3.0'),
    ];

    async function backend() {
      const dir = bareRepository(history);
      const started = await startWorkflowBackend({
        databases,
        databaseId,
        permissions: policy,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: dir,
            paths: ['{entity.metadata.name}/**'],
          },
        ],
      });
      await started.ready();
      const row = (
        promotionId: string,
        action: string,
        days: number,
        kind: 'promotion' | 'rollback',
        version: string,
      ) => ({
        entity_ref: 'component:default/shop',
        environment: 'prod',
        action,
        actor: 'user:default/rita',
        at: at(days),
        version,
        kind,
        request_id: promotionId,
      });
      await started
        .knex('promotions_history')
        .insert([
          row('p1', 'requested', 3, 'promotion', '1.1.0'),
          row('p1', 'merged', 2, 'promotion', '1.1.0'),
          row('r1', 'requested', 1, 'rollback', '1.0.0'),
        ]);
      return started;
    }

    it('answers a service figures, computed from its timelines and history', async () => {
      const { as, entityPath } = await backend();
      const res = await as('ana').get(`${entityPath}/figures?days=30`);
      expect(res.status).toBe(200);
      const env = (name: string) =>
        res.body.environments.find((e: any) => e.environment === name);
      expect(res.body.window.days).toBe(30);
      expect(res.body.environments.map((e: any) => e.environment)).toEqual([
        'dev',
        'staging',
        'prod',
      ]);
      // The layout commit is 40 days old: dev changed 3 times in 30 days, staging 2, prod 1.
      expect(env('dev').deployments.count).toBe(3);
      expect(env('staging').deployments.count).toBe(2);
      expect(env('prod').deployments.count).toBe(1);
      expect(env('prod').production).toBe(true);
      // 1.1.0: dev ten days ago, prod two days ago.
      expect(res.body.leadTime).toEqual([
        {
          environment: 'prod',
          medianMs: 8 * DAY,
          p90Ms: 8 * DAY,
          direct: 0,
          unknownStart: 0,
          versions: [
            {
              version: '1.1.0',
              firstEnvironment: 'dev',
              firstAt: at(10).toISOString(),
              productionAt: at(2).toISOString(),
              ms: 8 * DAY,
            },
          ],
        },
      ]);
      // p1 and r1 requested: one rollback of two; r1 not merged yet.
      expect(env('prod').changeFailure).toEqual({
        promotions: 2,
        rollbacks: 1,
        failed: 0,
        rate: 0.5,
      });
      expect(env('prod').restore).toMatchObject({
        medianMs: null,
        rollbacks: [{ promotionId: 'r1', mergedAt: null, ms: null }],
      });

      // 90 days reach the layout commit, which created every environment.
      const wide = await as('ana').get(`${entityPath}/figures?days=90`);
      expect(
        wide.body.environments.map((e: any) => e.deployments.count),
      ).toEqual([4, 3, 2]);
      // The default window is 30 days.
      const plain = await as('ana').get(`${entityPath}/figures`);
      expect(plain.body.window.days).toBe(30);
    });

    it('refuses a hostile window and hides a service from who may not see it', async () => {
      const { as, entityPath } = await backend();
      for (const days of ['31', 'abc', '-7', '7e400', '30&days=7']) {
        const res = await as('ana').get(`${entityPath}/figures?days=${days}`);
        expect(res.status).toBe(400);
      }
      expect(
        (await as('ana').get(`${entityPath}/figures?days=30&extra=1`)).status,
      ).toBe(400);
      expect((await as('sam').get(`${entityPath}/figures`)).status).toBe(404);
      expect((await as('rita').get(`${entityPath}/figures`)).status).toBe(403);
      expect(
        (await as('ana').get('/entities/component/default/nobody/figures'))
          .status,
      ).toBe(404);
    });

    it('pools an owner services for the fleet, only those the caller may read', async () => {
      const { as } = await backend();
      const res = await as('ana').get(
        '/figures?owner=shop-team&owner=group:default/nobody&days=30',
      );
      expect(res.status).toBe(200);
      expect(res.body.truncated).toBe(false);
      expect(res.body.owners).toEqual([
        expect.objectContaining({
          owner: 'group:default/shop-team',
          services: 1,
          deployments: { count: 6, perWeek: 1.4 },
          productionDeployments: { count: 1, perWeek: 0.23 },
          leadTime: { medianMs: 8 * DAY, p90Ms: 8 * DAY, versions: 1 },
          changeFailure: {
            promotions: 2,
            rollbacks: 1,
            failed: 0,
            rate: 0.5,
          },
          restore: { medianMs: null, restored: 0, unrestored: 1 },
        }),
        expect.objectContaining({ owner: 'group:default/nobody', services: 0 }),
      ]);
      // The fleet's owner filter and the figures name one owner the same way, however spelled.
      const fleet = await as('ana').get('/fleet');
      expect(fleet.body.facets.owners).toEqual(['group:default/shop-team']);
      for (const owner of [
        'shop-team',
        'group:shop-team',
        'group:default/shop-team',
        'Group:Default/Shop-Team',
        fleet.body.facets.owners[0],
      ]) {
        const spelled = await as('ana').get(
          `/figures?owner=${encodeURIComponent(owner)}`,
        );
        expect(spelled.body.owners).toEqual([
          expect.objectContaining({
            owner: 'group:default/shop-team',
            services: 1,
          }),
        ]);
        const filtered = await as('ana').get(
          `/fleet?owner=${encodeURIComponent(owner)}`,
        );
        expect(filtered.body.total).toBe(1);
      }
      for (const user of ['sam', 'rita']) {
        const hidden = await as(user).get('/figures?owner=shop-team');
        expect(hidden.body.owners[0].services).toBe(0);
      }
      expect((await as('ana').get('/figures')).status).toBe(400);
      expect((await as('ana').get('/figures?owner=')).status).toBe(400);
      expect((await as('ana').get('/figures?owner=group:')).status).toBe(400);
      const many = Array.from({ length: 21 }, (_, i) => `owner=team-${i}`);
      expect((await as('ana').get(`/figures?${many.join('&')}`)).status).toBe(
        400,
      );
    });
  },
);
