import { TestDatabases } from '@backstage/backend-test-utils';
import { GitRepository } from '@gitops-promotions/plugin-promotions-node';
import {
  abortHanging,
  bareRepository,
  dieIn,
  git,
  sendAndDie,
  startWorkflowBackend,
} from '../../__testUtils__';
import {
  checkoutEntities,
  checkoutMembers as members,
  twoServices,
} from '../../__testUtils__/checkoutSystem';
import { GroupStore } from './GroupStore';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** Merges a test held, let go after it whatever it found, so that its backend can stop. */
const holds: Array<() => void> = [];

afterEach(abortHanging);
afterEach(() => holds.splice(0).forEach(release => release()));
afterEach(() => jest.restoreAllMocks());

/**
 * Holds the repository's merge of one branch until the test lets it go: the group stays
 * `merging` meanwhile, with its other members still open.
 */
function holdMergeOf(branch: string) {
  let release!: () => void;
  const released = new Promise<void>(resolve => {
    release = resolve;
  });
  holds.push(release);
  let reached!: () => void;
  const held = new Promise<void>(resolve => {
    reached = resolve;
  });
  const merge = GitRepository.prototype.merge;
  jest
    .spyOn(GitRepository.prototype, 'merge')
    .mockImplementation(async function hold(this: GitRepository, input) {
      if (input.source === branch) {
        reached();
        await released;
      }
      return merge.call(this, input);
    });
  return { held, release };
}

describe.each(databases.eachSupportedId())(
  'merging a system’s group promotion with the git provider on %s',
  databaseId => {
    async function start() {
      const dir = bareRepository(twoServices);
      const options = {
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
        entities: checkoutEntities(),
      };
      const backend = await startWorkflowBackend(options);
      await backend.ready();
      /** A new backend over the same database, as after a crash, a few minutes on, synced. */
      const restart = async () => {
        const next = await startWorkflowBackend({
          ...options,
          knex: backend.knex,
        });
        const minutesAgo = new Date(Date.now() - 5 * 60_000).toISOString();
        await backend.knex('promotions_groups').update({
          updated_at: minutesAgo,
        });
        await backend
          .knex('promotions_groups')
          .whereNotNull('merging_since')
          .update({ merging_since: minutesAgo });
        await backend.knex('promotions_requests').update({
          updated_at: new Date(Date.now() - 5 * 60_000),
        });
        await next.sync();
        return next;
      };
      const created = await backend
        .as('ana')
        .post('/systems/default/checkout/promotions', {
          to: 'staging',
          members,
        });
      expect(created.status).toBe(201);
      const [shop, cart] = created.body.members;
      for (const member of [shop, cart]) {
        expect((await backend.as('ben').act(member.id, 'approve')).status).toBe(
          200,
        );
      }
      return { ...backend, dir, restart, group: created.body, shop, cart };
    }
    const overlay = (dir: string, name: string) =>
      git(dir, 'show', `main:${name}/overlays/staging/kustomization.yaml`);
    /** How many commits on main merged the promotion: one, never two. */
    const mergesOf = (dir: string, promotionId: string) =>
      git(
        dir,
        'log',
        'main',
        '--first-parent',
        '--format=%H',
        `--grep=Promotion-Id: ${promotionId}`,
      )
        .split('\n')
        .filter(Boolean).length;

    describe('fault: two merges of one group at once', () => {
      it('merges every member once for one of them, refuses the other with 409, and records nothing for it', async () => {
        const { as, dir, group, shop, cart } = await start();
        const { held, release } = holdMergeOf(shop.branch);
        const first = as('ana')
          .post(`/promotion-groups/${group.id}/merge`)
          .then(res => res);
        const second = as('rita')
          .post(`/promotion-groups/${group.id}/merge`)
          .then(res => res);
        await held;
        // One of them holds the group; the other is answered while it does.
        const loser = await Promise.race([first, second]);
        expect(loser.status).toBe(409);
        expect(loser.body.error.message).toContain('already being merged');
        const during = await as('ana').get(`/promotion-groups/${group.id}`);
        expect(during.body.state).toBe('merging');
        release();
        const answers = await Promise.all([first, second]);
        expect(answers.map(a => a.status).sort()).toEqual([200, 409]);
        const winner = answers.find(a => a.status === 200)!;
        expect(winner.body.state).toBe('merged');
        expect(winner.body.members.map((m: any) => m.state)).toEqual([
          'merged',
          'merged',
        ]);
        expect(winner.body.history.map((e: any) => e.action)).toEqual([
          'requested',
          'member-merged',
          'member-merged',
          'merged',
        ]);
        expect(mergesOf(dir, shop.id)).toBe(1);
        expect(mergesOf(dir, cart.id)).toBe(1);
        expect(overlay(dir, 'cart')).toContain('newTag: "1.2.0"');
      });
    });

    describe('fault: closing a group while it merges', () => {
      it('refuses to close it with 409, and the group ends merged with every member', async () => {
        const { as, dir, group, shop, cart } = await start();
        const { held, release } = holdMergeOf(shop.branch);
        const merge = as('ana')
          .post(`/promotion-groups/${group.id}/merge`)
          .then(res => res);
        await held;
        const close = await as('ana').post(
          `/promotion-groups/${group.id}/close`,
          {
            reason: 'not today',
          },
        );
        expect(close.status).toBe(409);
        expect(close.body.error.message).toContain('being merged');
        // Cart, not yet merged, was left open for the merge.
        const cartNow = await as('ana').get(`/promotions/${cart.id}`);
        expect(cartNow.body.state).toBe('open');
        release();
        const merged = await merge;
        expect(merged.status).toBe(200);
        expect(merged.body.state).toBe('merged');
        expect(merged.body.members.map((m: any) => m.state)).toEqual([
          'merged',
          'merged',
        ]);
        expect(merged.body.history.map((e: any) => e.action)).not.toContain(
          'closed',
        );
        expect(mergesOf(dir, shop.id)).toBe(1);
        expect(mergesOf(dir, cart.id)).toBe(1);
      });
    });

    describe('fault: closing or rejecting a member while its group merges', () => {
      it('refuses with 409 naming the group, and the group ends merged with every member', async () => {
        const { as, dir, group, shop, cart } = await start();
        const { held, release } = holdMergeOf(shop.branch);
        const merge = as('ana')
          .post(`/promotion-groups/${group.id}/merge`)
          .then(res => res);
        await held;
        for (const [who, action, body] of [
          ['ana', 'close', { reason: 'not ready' }],
          ['rita', 'close', {}],
          ['ben', 'reject', { comment: 'not ready' }],
        ] as const) {
          const alone = await as(who).act(cart.id, action, body);
          expect(alone.status).toBe(409);
          expect(alone.body.error.message).toContain(
            `its group promotion ${group.id} of system:default/checkout to staging is being merged`,
          );
        }
        release();
        const merged = await merge;
        expect(merged.status).toBe(200);
        expect(merged.body.members.map((m: any) => m.state)).toEqual([
          'merged',
          'merged',
        ]);
        expect(mergesOf(dir, cart.id)).toBe(1);
        expect(overlay(dir, 'cart')).toContain('newTag: "1.2.0"');
        // Once the group is merged, closing it is refused as before.
        expect(
          (await as('ana').post(`/promotion-groups/${group.id}/close`)).status,
        ).toBe(409);
      });
    });

    describe('fault: the backend dies while merging a group', () => {
      /** Dies just after the group recorded its first member merged. */
      async function dieAfterFirstMember(
        world: Awaited<ReturnType<typeof start>>,
      ) {
        const crash = dieIn(
          GroupStore.prototype,
          'record',
          (_id, event) => event.action === 'member-merged',
          true,
        );
        sendAndDie(
          world.as('rita').post(`/promotion-groups/${world.group.id}/merge`),
        );
        await crash.reached;
        const [stored] = await world.knex('promotions_groups');
        expect(stored.state).toBe('merging');
        expect(mergesOf(world.dir, world.shop.id)).toBe(1);
        expect(overlay(world.dir, 'cart')).toContain('newTag: "1.1.0"');
      }

      it('resumes the merge after a restart: every member merged once', async () => {
        const world = await start();
        await dieAfterFirstMember(world);
        // Meanwhile the group can be neither closed nor merged again.
        expect(
          (
            await world
              .as('ana')
              .post(`/promotion-groups/${world.group.id}/close`)
          ).status,
        ).toBe(409);

        const next = await world.restart();
        const group = await next
          .as('ana')
          .get(`/promotion-groups/${world.group.id}`);
        expect(group.body.state).toBe('merged');
        expect(group.body.members.map((m: any) => m.state)).toEqual([
          'merged',
          'merged',
        ]);
        expect(group.body.history).toEqual([
          expect.objectContaining({ action: 'requested' }),
          expect.objectContaining({
            action: 'member-merged',
            reason: 'component:default/shop',
          }),
          expect.objectContaining({
            action: 'merge-interrupted',
            actor: 'promotions',
            reason:
              'The merge by user:default/rita was interrupted after component:default/shop merged',
          }),
          expect.objectContaining({
            action: 'member-merged',
            actor: 'user:default/rita',
            reason: 'component:default/cart',
          }),
          expect.objectContaining({
            action: 'merged',
            actor: 'user:default/rita',
          }),
        ]);
        expect(mergesOf(world.dir, world.shop.id)).toBe(1);
        expect(mergesOf(world.dir, world.cart.id)).toBe(1);
        expect(overlay(world.dir, 'cart')).toContain('newTag: "1.2.0"');
        // Merged as whoever asked for the group's merge, not as the backend.
        expect(
          git(
            world.dir,
            'log',
            'main',
            '--first-parent',
            '--format=%ae',
            `--grep=Promotion-Id: ${world.cart.id}`,
          ),
        ).toBe('rita@acme.example');
        const stored = await world.knex('promotions_groups').first();
        expect(stored.merging_lease).toBeNull();

        // A second sync finds nothing more to do.
        await next.sync();
        expect(mergesOf(world.dir, world.cart.id)).toBe(1);
      });

      it('finishes after a restart a merge that died inside a member’s own merge, merging it once', async () => {
        const world = await start();
        // The repository merged cart; the backend died before it recorded so.
        const crash = dieIn(
          GitRepository.prototype,
          'merge',
          input => input.source === world.cart.branch,
          true,
        );
        sendAndDie(
          world.as('rita').post(`/promotion-groups/${world.group.id}/merge`),
        );
        await crash.reached;
        const cartRow = await world
          .knex('promotions_requests')
          .where({ id: world.cart.id })
          .first();
        expect(cartRow.state).toBe('merging');

        const next = await world.restart();
        const group = await next
          .as('ana')
          .get(`/promotion-groups/${world.group.id}`);
        expect(group.body.state).toBe('merged');
        expect(group.body.members.map((m: any) => m.state)).toEqual([
          'merged',
          'merged',
        ]);
        expect(group.body.history.map((e: any) => e.action)).toEqual([
          'requested',
          'member-merged',
          'merge-interrupted',
          'merged',
        ]);
        expect(group.body.history[2].reason).toBe(
          'The merge by user:default/rita was interrupted after component:default/shop, component:default/cart merged',
        );
        expect(mergesOf(world.dir, world.shop.id)).toBe(1);
        expect(mergesOf(world.dir, world.cart.id)).toBe(1);
      });

      it('blocks the group after a restart when a remaining member no longer passes, naming what merged', async () => {
        const world = await start();
        await dieAfterFirstMember(world);
        // Cart is frozen while the backend is down: it no longer passes.
        const frozen = await world.as('rita').post('/freezes', {
          entityRef: 'component:default/cart',
          environment: 'staging',
          reason: 'Cart incident',
        });
        expect(frozen.status).toBe(201);

        const next = await world.restart();
        const group = await next
          .as('ana')
          .get(`/promotion-groups/${world.group.id}`);
        expect(group.body).toMatchObject({
          state: 'blocked',
          reason: expect.stringContaining(
            'The merge by user:default/rita was interrupted after component:default/shop merged; the others were not merged, since component:default/cart: Not every gate passes: freeze',
          ),
        });
        expect(group.body.members.map((m: any) => m.state)).toEqual([
          'merged',
          'open',
        ]);
        expect(group.body.history.map((e: any) => e.action)).toEqual([
          'requested',
          'member-merged',
          'merge-interrupted',
          'blocked',
        ]);
        expect(mergesOf(world.dir, world.cart.id)).toBe(0);
        expect(overlay(world.dir, 'cart')).toContain('newTag: "1.1.0"');
        // Blocked, it may be closed again: its open member with it.
        const closed = await next
          .as('ana')
          .post(`/promotion-groups/${world.group.id}/close`);
        expect(closed.status).toBe(200);
        expect(closed.body.members.map((m: any) => m.state)).toEqual([
          'merged',
          'closed',
        ]);
      });
    });
  },
);
