import { TestDatabases } from '@backstage/backend-test-utils';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { ConflictError } from '@backstage/errors';
import { HistoryEntry } from '@gitops-promotions/plugin-promotions-common';
import { Knex } from 'knex';
import { refuseInserts } from '../__testUtils__';
import { StoredPromotion, WorkflowStore } from './WorkflowStore';

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const promotion = (id: string, environment = 'staging'): StoredPromotion => ({
  id,
  entityRef: 'component:default/shop',
  environment,
  repositoryId: 'gitops',
  kind: 'promotion',
  from: ['dev'],
  version: '1.2.0',
  previousVersion: '1.1.0',
  unknownVersion: false,
  state: 'opening',
  requestedBy: 'user:default/ana',
  requestedAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  baseBranch: 'main',
  baseCommit: 'a'.repeat(40),
  branch: `promotions/shop/${environment}/${id.slice(0, 8)}`,
  headCommit: null,
  pullRequest: null,
  changes: [],
  gates: [],
  decisions: [],
  mergedCommit: null,
  reason: null,
  queuedUntil: null,
});

describe.each(databases.eachSupportedId())(
  'the workflow store on %s',
  databaseId => {
    let knex: Knex;
    async function store() {
      knex = await databases.init(databaseId);
      await knex.migrate.latest({
        directory: resolvePackagePath(
          '@gitops-promotions/plugin-promotions-backend',
          'migrations',
        ),
      });
      return new WorkflowStore(knex);
    }

    it('lifts a freeze once, however two lifts race', async () => {
      const s = await store();
      const frozen = await s.freeze({
        entityRef: 'component:default/shop',
        environment: 'prod',
        reason: 'Incident 42',
        by: 'user:default/rita',
        at: new Date().toISOString(),
      });
      const results = await Promise.allSettled(
        ['user:default/rita', 'user:default/ana'].map(by =>
          s.lift(frozen.id, {
            by,
            at: new Date().toISOString(),
            reason: 'Over',
          }),
        ),
      );
      expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find(r => r.status === 'rejected');
      expect((refused as PromiseRejectedResult).reason.message).toBe(
        `No freeze ${frozen.id} in force`,
      );
      expect(await s.freezes('component:default/shop')).toEqual([]);
      // History says it was lifted once.
      expect(
        (
          await s.history({ entityRef: 'component:default/shop', limit: 10 })
        ).map(e => e.action),
      ).toEqual(['unfrozen', 'frozen']);
    });

    it('sets and lifts a freeze together with its history, or neither when the history cannot be written', async () => {
      const s = await store();
      const shop = 'component:default/shop';
      const freeze = {
        entityRef: shop,
        environment: 'prod',
        reason: 'Incident 42',
        by: 'user:default/rita',
        at: new Date().toISOString(),
      };
      let allow = await refuseInserts(knex, 'promotions_history');
      // The SQLite driver's errors may belong to an earlier test file's realm: match the message.
      await expect(s.freeze(freeze)).rejects.toMatchObject({
        message: expect.stringContaining(
          'could not write to promotions_history',
        ),
      });
      expect(await s.freezes(shop)).toEqual([]);
      await allow();

      const frozen = await s.freeze(freeze);
      allow = await refuseInserts(knex, 'promotions_history');
      await expect(
        s.lift(frozen.id, {
          by: 'user:default/rita',
          at: new Date().toISOString(),
          reason: 'Resolved',
        }),
      ).rejects.toMatchObject({
        message: expect.stringContaining(
          'could not write to promotions_history',
        ),
      });
      // Still in force: the lifting went with its history.
      expect(await s.freezes(shop)).toEqual([frozen]);
      await allow();

      await s.lift(frozen.id, {
        by: 'user:default/ana',
        at: new Date().toISOString(),
        reason: 'Resolved',
      });
      expect(await s.freezes(shop)).toEqual([]);
      expect(
        (await s.history({ entityRef: shop, limit: 10 })).map(e => [
          e.action,
          e.actor,
          e.environment,
          e.comment,
        ]),
      ).toEqual([
        ['unfrozen', 'user:default/ana', 'prod', 'Resolved'],
        ['frozen', 'user:default/rita', 'prod', 'Incident 42'],
      ]);
    });

    it('supersedes an open promotion only together with storing the new one, once however supersedes race', async () => {
      const s = await store();
      const first = '40000000-0000-4000-8000-000000000000';
      await s.create({ ...promotion(first), state: 'open' });
      const entry = (
        id: string,
        action: HistoryEntry['action'],
        comment: string,
      ): Omit<HistoryEntry, 'id'> => ({
        entityRef: 'component:default/shop',
        environment: 'staging',
        action,
        actor: 'user:default/ben',
        at: new Date().toISOString(),
        version: '1.2.0',
        kind: 'promotion',
        promotionId: id,
        pullRequest: null,
        comment,
      });
      const supersede = (id: string) =>
        s.supersede(
          { id: first, reason: `Superseded by ${id}` },
          promotion(id),
          [
            entry(first, 'superseded', `Superseded by ${id}`),
            entry(id, 'requested', `Supersedes ${first}`),
          ],
        );

      // The new one cannot be stored: the first stays open, untouched, and nothing is recorded.
      const allow = await refuseInserts(knex, 'promotions_requests');
      await expect(
        supersede('50000000-0000-4000-8000-000000000000'),
      ).rejects.toMatchObject({
        message: expect.stringContaining(
          'could not write to promotions_requests',
        ),
      });
      await allow();
      expect(
        await s.findOpen('component:default/shop', 'staging'),
      ).toMatchObject({
        id: first,
        state: 'open',
        reason: null,
        cleanupPending: false,
      });
      expect(
        await s.history({ entityRef: 'component:default/shop', limit: 10 }),
      ).toEqual([]);

      const ids = Array.from(
        { length: 6 },
        (_, i) => `6000000${i}-0000-4000-8000-000000000000`,
      );
      const results = await Promise.allSettled(ids.map(supersede));
      expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1);
      for (const refused of results.filter(r => r.status === 'rejected')) {
        expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(
          ConflictError,
        );
      }
      const winner = ids[results.findIndex(r => r.status === 'fulfilled')];
      expect(
        (
          await s.list({
            states: ['opening', 'open', 'merging'],
            entityRef: 'component:default/shop',
          })
        ).map(p => p.id),
      ).toEqual([winner]);
      expect(await s.get(first)).toMatchObject({
        state: 'closed',
        reason: `Superseded by ${winner}`,
        cleanupPending: true,
      });
      expect(
        (
          await s.history({ entityRef: 'component:default/shop', limit: 10 })
        ).map(e => [e.action, e.promotionId, e.comment]),
      ).toEqual([
        ['requested', winner, `Supersedes ${first}`],
        ['superseded', first, `Superseded by ${winner}`],
      ]);
    });

    it('reopens the promotion a failed replacement superseded in the same write that fails it, once, and never one already tidied', async () => {
      const s = await store();
      const entry = (
        id: string,
        action: HistoryEntry['action'],
        comment: string,
      ): Omit<HistoryEntry, 'id'> => ({
        entityRef: 'component:default/shop',
        environment: 'staging',
        action,
        actor: 'system',
        at: new Date().toISOString(),
        version: '1.2.0',
        kind: 'promotion',
        promotionId: id,
        pullRequest: null,
        comment,
      });
      const supersede = (first: string, second: string) =>
        s.supersede(
          { id: first, reason: `Superseded by ${second}` },
          promotion(second),
          [entry(first, 'superseded', `Superseded by ${second}`)],
        );
      const fail = (second: string) =>
        s.failOpening(
          second,
          'No space left on device',
          [entry(second, 'failed', 'No space left on device')],
          superseded =>
            entry(superseded.id, 'changed', `Reopened after ${second}`),
        );
      const history = async () =>
        (
          await s.history({ entityRef: 'component:default/shop', limit: 10 })
        ).map(e => [e.action, e.promotionId]);
      const first = '70000000-0000-4000-8000-000000000000';
      const second = '71000000-0000-4000-8000-000000000000';
      await s.create({ ...promotion(first), state: 'open' });
      await supersede(first, second);

      // The history cannot be written: the second stays being opened, the first closed.
      const allow = await refuseInserts(knex, 'promotions_history');
      // Matched by message: SQLite's errors may come from another realm, which toThrow ignores.
      await expect(fail(second)).rejects.toMatchObject({
        message: expect.stringContaining(
          'could not write to promotions_history',
        ),
      });
      await allow();
      expect(await s.get(second)).toMatchObject({ state: 'opening' });
      expect(await s.get(first)).toMatchObject({
        state: 'closed',
        cleanupPending: true,
      });

      expect(await fail(second)).toBe(true);
      expect(await s.get(second)).toMatchObject({
        state: 'failed',
        reason: 'No space left on device',
        cleanupPending: true,
      });
      expect(
        await s.findOpen('component:default/shop', 'staging'),
      ).toMatchObject({
        id: first,
        state: 'open',
        reason: null,
        cleanupPending: false,
      });
      expect(await fail(second)).toBe(false);
      expect((await history()).slice(0, 2)).toEqual([
        ['changed', first],
        ['failed', second],
      ]);

      // Superseded, then tidied (its branch and pull request gone): not reopened.
      const third = '72000000-0000-4000-8000-000000000000';
      await supersede(first, third);
      await s.transition(first, ['closed'], { cleanupPending: false });
      expect(await s.supersededBy(third)).toBeUndefined();
      expect(await fail(third)).toBe(true);
      expect(await s.get(first)).toMatchObject({ state: 'closed' });
      expect(
        await s.findOpen('component:default/shop', 'staging'),
      ).toBeUndefined();
      expect((await history())[0]).toEqual(['failed', third]);
    });

    it('lets the database refuse a second open promotion of an environment, however the requests race', async () => {
      const s = await store();
      const ids = Array.from(
        { length: 8 },
        (_, i) => `0000000${i}-0000-4000-8000-000000000000`,
      );
      // No check before the insert: the unique key alone decides.
      const results = await Promise.allSettled(
        ids.map(id => s.create(promotion(id))),
      );
      expect(results.filter(r => r.status === 'fulfilled')).toHaveLength(1);
      for (const refused of results.filter(r => r.status === 'rejected')) {
        expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(
          ConflictError,
        );
      }
      // Another environment is free; a finished promotion frees its environment.
      await s.create(promotion('10000000-0000-4000-8000-000000000000', 'prod'));
      const [open] = await s.list({
        states: ['opening'],
        entityRef: 'component:default/shop',
      });
      expect(
        await s.transition(open.id, ['opening'], { state: 'closed' }),
      ).toBe(true);
      expect(await s.transition(open.id, ['opening'], { state: 'open' })).toBe(
        false,
      );
      await s.create(promotion('20000000-0000-4000-8000-000000000000'));
    });

    it('records one decision per person and head, and keeps history paged, newest first', async () => {
      const s = await store();
      const p = promotion('30000000-0000-4000-8000-000000000000');
      await s.create(p);
      const decision = {
        by: 'user:default/rita',
        ownership: ['group:default/release-managers'],
        decision: 'approve' as const,
        comment: 'ok',
        source: 'portal' as const,
        commit: null,
        at: new Date().toISOString(),
      };
      expect(await s.decide(p.id, decision)).toBe('recorded');
      expect(await s.decide(p.id, decision)).toBe('unchanged');
      expect((await s.get(p.id)).decisions).toEqual([
        expect.objectContaining({ by: 'user:default/rita' }),
      ]);
      // A change of mind replaces the decision on the same head.
      expect(await s.decide(p.id, { ...decision, decision: 'reject' })).toBe(
        'replaced',
      );
      expect((await s.get(p.id)).decisions).toEqual([
        expect.objectContaining({ decision: 'reject' }),
      ]);
      // A new head needs a new decision: the same person may approve it again.
      expect(
        await s.decide(p.id, { ...decision, commit: 'a'.repeat(40) }),
      ).toBe('recorded');
      expect((await s.get(p.id)).decisions).toHaveLength(2);
      for (let i = 0; i < 5; i++) {
        await s.record({
          entityRef: p.entityRef,
          environment: 'staging',
          action: 'requested',
          actor: 'user:default/ana',
          at: new Date().toISOString(),
          version: `1.${i}.0`,
          kind: 'promotion',
          promotionId: p.id,
          pullRequest: null,
          comment: null,
        });
      }
      const first = await s.history({ entityRef: p.entityRef, limit: 2 });
      expect(first.map(e => e.version)).toEqual(['1.4.0', '1.3.0']);
      const second = await s.history({
        entityRef: p.entityRef,
        limit: 2,
        before: first[1].id,
      });
      expect(second.map(e => e.version)).toEqual(['1.2.0', '1.1.0']);
    });

    it('writes a change of state and its history together, or neither, and lists what is left to clean up', async () => {
      const s = await store();
      const id = '20000000-0000-4000-8000-000000000000';
      await s.create({ ...promotion(id), state: 'open' });
      const entry = {
        entityRef: 'component:default/shop',
        environment: 'staging',
        action: 'closed' as const,
        actor: 'user:default/ana',
        at: new Date().toISOString(),
        version: '1.2.0',
        kind: 'promotion' as const,
        promotionId: id,
        pullRequest: null,
        comment: 'Not needed',
      };
      // Not in the state the caller saw: nothing changes, nothing is written.
      expect(
        await s.transition(id, ['merging'], { state: 'closed' }, [entry]),
      ).toBe(false);
      expect(
        await s.history({ entityRef: 'component:default/shop', limit: 10 }),
      ).toEqual([]);
      expect(
        await s.transition(
          id,
          ['open'],
          { state: 'closed', cleanupPending: true },
          [entry],
        ),
      ).toBe(true);
      expect(
        await s.history({ entityRef: 'component:default/shop', limit: 10 }),
      ).toEqual([
        expect.objectContaining({ action: 'closed', promotionId: id }),
      ]);
      expect(
        (await s.list({ cleanupPending: true })).map(p => [p.id, p.state]),
      ).toEqual([[id, 'closed']]);
      await s.transition(id, ['closed'], { cleanupPending: false });
      expect(await s.list({ cleanupPending: true })).toEqual([]);
      expect((await s.get(id)).cleanupPending).toBe(false);
    });
  },
);
