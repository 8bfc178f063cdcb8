import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory } from '@internal/promotions-fixtures';
import { Knex } from 'knex';
import { bareRepository, git, startWorkflowBackend } from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** Monday 7 January 2030, at a UTC time of day. */
const monday = (time: string) => new Date(`2030-01-07T${time}Z`);

/** Only `Date` is simulated: timers, I/O and the database run as they do. */
function simulateClock(at: Date) {
  jest.useFakeTimers({
    now: at,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

describe.each(databases.eachSupportedId())(
  'merges queued for a change window on %s',
  databaseId => {
    afterEach(() => jest.useRealTimers());

    /**
     * A backend over the shop's repository; `dir` and `knex` of an earlier one start another over
     * the same state, as after a restart with other configuration or another catalog.
     */
    async function start(
      options: {
        dir?: string;
        knex?: Knex;
        gone?: string[];
        stagingServices?: string[];
      } = {},
    ) {
      if (!options.knex) simulateClock(monday('09:00:00'));
      const dir = options.dir ?? bareRepository(shopHistory);
      const backend = await startWorkflowBackend({
        databases,
        databaseId,
        knex: options.knex,
        gone: options.gone,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: dir,
            paths: ['{entity.metadata.name}/**'],
          },
        ],
        pipeline: [
          { name: 'dev', requires: [] },
          {
            name: 'staging',
            requires: ['dev'],
            approvals: 1,
            windows: [{ days: ['mon'], hours: '10:00-11:00' }],
            services: options.stagingServices ?? [],
          },
          { name: 'prod', requires: ['staging'], production: true },
        ],
      });
      await backend.ready();
      const { as, entityPath } = backend;
      const stagingOnMain = () =>
        git(dir, 'show', 'main:shop/overlays/staging/kustomization.yaml');
      const promotion = async (id: string) =>
        (await as('ana').get(`/promotions/${id}`)).body;
      const history = async () =>
        (await as('ana').get(`${entityPath}/history?environment=staging`)).body
          .entries as Array<{ action: string; actor: string; comment: string }>;
      /** A promotion of staging, approved, held only by the window. */
      const approved = async () => {
        const created = await as('ana').promote({ to: 'staging' });
        expect(created.status).toBe(201);
        expect((await as('rita').act(created.body.id, 'approve')).status).toBe(
          200,
        );
        return created.body.id as string;
      };
      return { ...backend, dir, stagingOnMain, promotion, history, approved };
    }

    it('merges as whoever queued it, however much history came after: a service the environment still lists', async () => {
      const service = 'external:test-service';
      const { as, sync, promotion, history, approved } = await start({
        stagingServices: [service],
      });
      const id = await approved();
      expect((await as('ci').act(id, 'queue')).status).toBe(200);
      // More than a page of history on the environment after the queue.
      for (let i = 0; i < 30; i++) {
        const freeze = await as('rita').post('/freezes', {
          entityRef: 'component:default/shop',
          environment: 'staging',
          reason: `Drill ${i}`,
        });
        expect(freeze.status).toBe(201);
        const lift = await as('rita').post(`/freezes/${freeze.body.id}/lift`, {
          reason: `Drill ${i} over`,
        });
        expect(lift.status).toBe(200);
      }

      jest.setSystemTime(monday('10:00:30'));
      await sync();
      expect((await promotion(id)).state).toBe('merged');
      expect((await history())[0]).toMatchObject({
        action: 'merged',
        actor: service,
      });
    });

    it('does not merge as a person who left the catalog after queueing, and says why', async () => {
      const first = await start();
      const id = await first.approved();
      expect((await first.as('ben').act(id, 'queue')).status).toBe(200);

      const { sync, promotion, history, stagingOnMain } = await start({
        dir: first.dir,
        knex: first.knex,
        gone: ['user:default/ben'],
      });
      jest.setSystemTime(monday('10:00:30'));
      await sync();
      expect(await promotion(id)).toMatchObject({
        state: 'open',
        queuedUntil: null,
      });
      expect(stagingOnMain()).toContain('newTag: "1.1.0"');
      expect((await history())[0]).toMatchObject({
        action: 'unqueued',
        actor: 'system',
        comment:
          'Not merged when queued: user:default/ben, who queued it, is no longer a user in the catalog',
      });
    });

    it('does not merge a promotion queued before who queued it was stored', async () => {
      const { as, knex, sync, promotion, history, approved } = await start();
      const id = await approved();
      expect((await as('ben').act(id, 'queue')).status).toBe(200);
      await knex('promotions_requests')
        .where({ id })
        .update({ queued_by: null, queued_by_service: null });

      jest.setSystemTime(monday('10:00:30'));
      await sync();
      expect(await promotion(id)).toMatchObject({
        state: 'open',
        queuedUntil: null,
      });
      expect((await history())[0]).toMatchObject({
        action: 'unqueued',
        actor: 'system',
        comment:
          'Not merged when queued: nobody is recorded as having queued it; queue it again',
      });
    });

    it('does not merge a queued promotion that a group holds: the group merges it', async () => {
      const { as, knex, sync, promotion, history, approved, stagingOnMain } =
        await start();
      const id = await approved();
      expect((await as('ben').act(id, 'queue')).status).toBe(200);
      // Held by a group since (written as the group store writes one): queued alone no more.
      const groupId = '6f1d3c1e-4b7a-4c59-9a53-0c1f2d3e4a5b';
      const at = monday('09:30:00').toISOString();
      await knex('promotions_groups').insert({
        id: groupId,
        system_ref: 'system:default/checkout',
        environment: 'staging',
        requested_by: 'user:default/ana',
        requested_at: at,
        updated_at: at,
        state: 'open',
        reason: null,
      });
      await knex('promotions_group_members').insert({
        group_id: groupId,
        promotion_id: id,
        entity_ref: 'component:default/shop',
        position: 0,
      });

      jest.setSystemTime(monday('10:00:30'));
      await sync();
      expect(await promotion(id)).toMatchObject({
        state: 'open',
        queuedUntil: null,
      });
      expect(stagingOnMain()).toContain('newTag: "1.1.0"');
      expect((await history())[0]).toMatchObject({
        action: 'unqueued',
        actor: 'system',
        comment: `Not merged when queued: it belongs to the group promotion ${groupId} of system:default/checkout, which merges it`,
      });
    });

    it('does not merge as a service the environment no longer lists, and says why', async () => {
      const service = 'external:test-service';
      const first = await start({ stagingServices: [service] });
      const dropped = await first.approved();
      expect((await first.as('ci').act(dropped, 'queue')).status).toBe(200);
      const { sync, promotion, history } = await start({
        dir: first.dir,
        knex: first.knex,
        stagingServices: [],
      });
      jest.setSystemTime(monday('10:00:30'));
      await sync();
      expect(await promotion(dropped)).toMatchObject({
        state: 'open',
        queuedUntil: null,
      });
      expect((await history())[0]).toMatchObject({
        action: 'unqueued',
        actor: 'system',
        comment: `Not merged when queued: ${service}, who queued it, is no longer a service the policy of staging lists`,
      });
    });

    it('merges when the clock enters the window, and not before', async () => {
      const { as, sync, stagingOnMain, promotion, history, approved } =
        await start();
      const id = await approved();

      const queued = await as('ben').act(id, 'queue');
      expect(queued.status).toBe(200);
      expect(queued.body).toMatchObject({
        state: 'open',
        queuedUntil: '2030-01-07T10:00:00.000Z',
      });
      const twice = await as('ben').act(id, 'queue');
      expect(twice.status).toBe(409);
      expect(twice.body.error.message).toContain(
        'already queued to merge at 2030-01-07T10:00:00.000Z',
      );

      jest.setSystemTime(monday('09:59:30'));
      await sync();
      expect(await promotion(id)).toMatchObject({
        state: 'open',
        queuedUntil: '2030-01-07T10:00:00.000Z',
      });
      expect(stagingOnMain()).toContain('newTag: "1.1.0"');

      jest.setSystemTime(monday('10:00:30'));
      await sync();
      expect(await promotion(id)).toMatchObject({
        state: 'merged',
        queuedUntil: null,
      });
      expect(stagingOnMain()).toContain('newTag: "1.2.0"');
      const entries = await history();
      expect(
        entries.slice(0, 3).map(e => [e.action, e.actor, e.comment]),
      ).toEqual([
        [
          'merged',
          'user:default/ben',
          expect.stringMatching(/^Merged in [0-9a-f]{12}$/),
        ],
        [
          'queued',
          'user:default/ben',
          'Queued to merge when the change window opens at 2030-01-07T10:00:00.000Z',
        ],
        ['approved', 'user:default/rita', null],
      ]);
    });

    it('takes a queued promotion off the queue when another gate fails meanwhile, and says why', async () => {
      const { as, sync, stagingOnMain, promotion, history, approved } =
        await start();
      const id = await approved();
      expect((await as('ben').act(id, 'queue')).status).toBe(200);
      const frozen = await as('rita').post('/freezes', {
        entityRef: 'component:default/shop',
        environment: 'staging',
        reason: 'Incident 42',
      });
      expect(frozen.status).toBe(201);

      jest.setSystemTime(monday('10:00:30'));
      await sync();
      expect(await promotion(id)).toMatchObject({
        state: 'open',
        queuedUntil: null,
      });
      expect(stagingOnMain()).toContain('newTag: "1.1.0"');
      const unqueued = (await history()).find(e => e.action === 'unqueued');
      expect(unqueued).toMatchObject({ actor: 'system' });
      expect(unqueued!.comment).toMatch(/^Not merged when queued: freeze: /);
      // The next sync leaves it open: nobody queued it anew.
      await sync();
      expect((await promotion(id)).state).toBe('open');
    });

    it('queues only for those who may merge, only behind a window, and unqueues', async () => {
      const { as, sync, promotion, history } = await start();
      const created = await as('ana').promote({ to: 'staging' });
      const id = created.body.id as string;

      // Not approved yet: the window is not all that holds it.
      const early = await as('ben').act(id, 'queue');
      expect(early.status).toBe(409);
      expect(early.body.error.message).toMatch(
        /^Only a change window may hold a queued merge: approvals: /,
      );
      await as('rita').act(id, 'approve');
      // A stranger may not merge the shop's promotions, so may not queue them either.
      expect((await as('sam').act(id, 'queue')).status).toBe(403);
      expect((await as('sam').act(id, 'unqueue')).status).toBe(403);
      for (const [path, body] of [
        [`/promotions/${id}/queue`, { at: '2030-01-07T08:00:00Z' }],
        ['/promotions/not-an-id/queue', {}],
      ] as const) {
        const res = await as('ben').post(path, body);
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
      }
      expect((await promotion(id)).queuedUntil).toBeNull();

      expect((await as('ben').act(id, 'unqueue')).status).toBe(409);
      expect((await as('ben').act(id, 'queue')).status).toBe(200);
      const off = await as('ana').act(id, 'unqueue');
      expect(off.status).toBe(200);
      expect(off.body.queuedUntil).toBeNull();
      expect((await history())[0]).toMatchObject({
        action: 'unqueued',
        actor: 'user:default/ana',
      });

      jest.setSystemTime(monday('10:00:30'));
      await sync();
      expect((await promotion(id)).state).toBe('open');
      // Inside the window every gate passes: there is nothing to queue for.
      const now = await as('ben').act(id, 'queue');
      expect(now.status).toBe(409);
      expect(now.body.error.message).toBe('Every gate passes: merge it now');
    });
  },
);
