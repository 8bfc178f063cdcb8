import { randomUUID } from 'node:crypto';
import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory } from '@internal/promotions-fixtures';
import { Knex } from 'knex';
import { bareRepository, startWorkflowBackend } from '../__testUtils__';
import { StoredPromotion, WorkflowStore } from './WorkflowStore';

jest.setTimeout(120_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** Copies the stored shop entity as more services, each owned by the team given. */
async function storeServices(
  knex: Knex,
  services: Array<{ name: string; owner: string }>,
) {
  const shop = await knex('promotions_entity_state')
    .where({ entity_ref: 'component:default/shop' })
    .first();
  const entity = JSON.parse(shop.entity);
  const rows = services.map(({ name, owner }) => ({
    ...shop,
    entity_ref: `component:default/${name}`,
    entity: JSON.stringify({
      ...entity,
      metadata: {
        ...entity.metadata,
        name,
        annotations: {
          ...entity.metadata.annotations,
          'gitops-promotions/path': `${name}/overlays/{env}`,
        },
      },
      spec: { ...entity.spec, owner },
      relations: [{ type: 'ownedBy', targetRef: owner }],
    }),
  }));
  await knex.batchInsert('promotions_entity_state', rows, 200);
}

/** An open promotion as the workflow stores one, asked for at the time given. */
function openPromotion(
  entityRef: string,
  environment: string,
  at: Date,
  requestedBy = 'user:default/ana',
): StoredPromotion {
  const id = randomUUID();
  return {
    id,
    entityRef,
    environment,
    repositoryId: 'gitops',
    kind: 'promotion',
    from: [],
    version: '9.9.9',
    previousVersion: '1.0.0',
    unknownVersion: false,
    state: 'open',
    requestedBy,
    requestedAt: at.toISOString(),
    updatedAt: at.toISOString(),
    baseBranch: 'main',
    baseCommit: 'a'.repeat(40),
    branch: `promotions/x/${environment}/${id.slice(0, 8)}`,
    headCommit: 'b'.repeat(40),
    pullRequest: null,
    changes: [],
    gates: [{ gate: 'approvals', state: 'pending', summary: 'Needs 1' }],
    decisions: [],
    mergedCommit: null,
    reason: null,
    queuedUntil: null,
  };
}

/**
 * An open promotion of the shop to production, asked for by its owner ana (whom the example
 * policy lets ask only outside production, so it is stored as the workflow would have).
 */
async function storedProd(knex: Knex) {
  const promotion = openPromotion(
    'component:default/shop',
    'prod',
    new Date(Date.now() + 60_000),
  );
  await new WorkflowStore(knex).create(promotion);
  return { body: promotion };
}

describe.each(databases.eachSupportedId())(
  'the approver inbox on %s',
  databaseId => {
    async function start() {
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
      });
      await backend.ready();
      const inbox = async (user: string, query = '') => {
        const res = await backend.as(user).get(`/inbox${query}`);
        expect(res.status).toBe(200);
        return res.body as {
          items: Array<{
            promotion: { id: string; environment: string; gates: any[] };
            actions: string[];
            owners: string[];
          }>;
          nextCursor: string | null;
        };
      };
      return { ...backend, inbox };
    }

    it('shows each person what waits for their decision, and nothing to a stranger or the requester', async () => {
      const { as, knex, inbox } = await start();
      const staging = await as('ana').promote({ to: 'staging' });
      expect(staging.status).toBe(201);
      const prod = await storedProd(knex);

      // A release manager may approve and merge anywhere: production too.
      const rita = await inbox('rita');
      expect(rita.items.map(i => [i.promotion.environment, i.actions])).toEqual(
        [
          ['staging', ['approve', 'merge']],
          ['prod', ['approve', 'merge']],
        ],
      );
      expect(rita.items[1].promotion.gates).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ gate: 'approvals', state: 'pending' }),
        ]),
      );
      expect(rita.items[0].owners).toEqual(['group:default/shop-team']);
      expect(rita.nextCursor).toBeNull();

      // An owner decides outside production only.
      expect((await inbox('ben')).items.map(i => i.promotion.id)).toEqual([
        staging.body.id,
      ]);
      // The requester does not approve their own; a stranger sees nothing.
      expect((await inbox('ana')).items).toEqual([]);
      expect((await inbox('sam')).items).toEqual([]);

      // Once decided, it waits for them no more.
      expect((await as('rita').act(prod.body.id, 'approve')).status).toBe(200);
      expect((await inbox('rita')).items.map(i => i.promotion.id)).toEqual([
        staging.body.id,
      ]);
    });

    it('filters by environment and owner', async () => {
      const { as, knex, inbox } = await start();
      const staging = await as('ana').promote({ to: 'staging' });
      const prod = await storedProd(knex);
      const ids = async (query: string) =>
        (await inbox('rita', query)).items.map(i => i.promotion.id);
      expect(await ids('?environment=prod')).toEqual([prod.body.id]);
      expect(await ids('?environment=staging')).toEqual([staging.body.id]);
      expect(await ids('?environment=dev')).toEqual([]);
      expect(await ids('?owner=group:default/shop-team')).toEqual([
        staging.body.id,
        prod.body.id,
      ]);
      expect(await ids('?owner=group:default/other-team')).toEqual([]);
    });

    it('refuses a hostile query', async () => {
      const { as } = await start();
      for (const query of [
        '?cursor=not-a-cursor',
        `?cursor=${Buffer.from('["yesterday","x"]').toString('base64url')}`,
        `?cursor=${Buffer.from('{"__proto__":1}').toString('base64url')}`,
        '?environment=PROD;drop table',
        '?limit=0',
        '?limit=100000',
        '?limit=ten',
        '?sort=requested_by',
        '?environment=a&environment=b',
      ]) {
        const res = await as('rita').get(`/inbox${query}`);
        expect({ query, status: res.status }).toEqual({ query, status: 400 });
      }
    });

    it('pages by keyset, stable while promotions are opened, and answers fast among 3,000', async () => {
      const { knex, inbox } = await start();
      const services = Array.from({ length: 1000 }, (_, i) => ({
        name: `svc-${String(i).padStart(4, '0')}`,
        // A third are another team's: an owner of the shop team does not decide those.
        owner:
          i % 3 === 0 ? 'group:default/other-team' : 'group:default/shop-team',
      }));
      await storeServices(knex, services);
      const store = new WorkflowStore(knex);
      const start0 = Date.UTC(2026, 0, 1);
      let n = 0;
      const all: StoredPromotion[] = [];
      for (const service of services) {
        for (const environment of ['dev', 'staging', 'prod']) {
          all.push(
            openPromotion(
              `component:default/${service.name}`,
              environment,
              // Pairs share a time: the id orders them.
              new Date(start0 + Math.floor(n++ / 2) * 1000),
            ),
          );
        }
      }
      for (const promotion of all) await store.create(promotion);

      // rita decides everything: walk every page of 100 and meet each promotion once, in order,
      // while new promotions are opened between pages.
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await inbox('rita', query);
        seen.push(...page.items.map(i => i.promotion.id));
        cursor = page.nextCursor;
        if (pages++ === 3) {
          await store.create(
            openPromotion(
              'component:default/shop',
              'staging',
              new Date(start0 + 10_000_000),
            ),
          );
        }
      } while (cursor);
      const expected = [...all]
        .sort((a, b) =>
          a.requestedAt === b.requestedAt
            ? a.id.localeCompare(b.id)
            : a.requestedAt.localeCompare(b.requestedAt),
        )
        .map(p => p.id);
      expect(seen.slice(0, 3000)).toEqual(expected);
      expect(seen).toHaveLength(3001);
      expect(new Set(seen).size).toBe(3001);

      const timed = async (user: string, query: string) => {
        const started = performance.now();
        const page = await inbox(user, query);
        return { page, ms: performance.now() - started };
      };
      // A page for a release manager, one for an owner whose policy is conditional, and the
      // worst case: an owner asking for production, which they may decide nowhere.
      const manager = await timed('rita', '?limit=25');
      const owner = await timed('ben', '?limit=25');
      const nowhere = await timed('ben', '?environment=prod&limit=25');
      expect(manager.page.items).toHaveLength(25);
      expect(owner.page.items).toHaveLength(25);
      expect(
        owner.page.items.every(
          i =>
            i.promotion.environment !== 'prod' &&
            i.owners[0] === 'group:default/shop-team',
        ),
      ).toBe(true);
      expect(nowhere.page.items).toEqual([]);
      // eslint-disable-next-line no-console
      console.log(
        `inbox page among 3,000 open promotions on ${databaseId}: release manager ${manager.ms.toFixed(
          0,
        )} ms, owner ${owner.ms.toFixed(
          0,
        )} ms, owner scanning every row ${nowhere.ms.toFixed(0)} ms`,
      );
      expect(manager.ms).toBeLessThan(1000);
      expect(owner.ms).toBeLessThan(1000);
      expect(nowhere.ms).toBeLessThan(1000);
    });
  },
);
