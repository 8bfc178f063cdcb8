import fs from 'node:fs';
import { TestDatabases } from '@backstage/backend-test-utils';
import { shopOverlay } from '@internal/promotions-fixtures';
import { GitRepository } from '@gitops-promotions/plugin-promotions-node';
import {
  abortHanging,
  bareRepository,
  dieIn,
  git,
  pushToBranch,
  sendAndDie,
  startWorkflowBackend,
} from '../../__testUtils__';
import { PromotionsWorkflow } from '../PromotionsWorkflow';
import {
  checkoutEntities,
  checkoutMembers as members,
  twoServices,
} from '../../__testUtils__/checkoutSystem';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

afterEach(abortHanging);
afterEach(() => jest.restoreAllMocks());

describe.each(databases.eachSupportedId())(
  'promoting a system together with the git provider on %s',
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
        await backend.knex('promotions_requests').update({
          updated_at: new Date(Date.now() - 5 * 60_000),
        });
        await next.sync();
        return next;
      };
      return { ...backend, dir, restart };
    }
    const overlay = (dir: string, ref: string, name: string) =>
      git(dir, 'show', `${ref}:${name}/overlays/staging/kustomization.yaml`);

    it('opens one promotion per component, refuses to merge until every gate passes, then merges both', async () => {
      const { as, dir } = await start();

      const listed = await as('ana').get(
        '/systems/default/checkout/promotions',
      );
      expect(listed.status).toBe(200);
      expect(listed.body.components).toEqual([
        {
          entityRef: 'component:default/cart',
          title: null,
          hidden: false,
          environments: [
            { name: 'dev', version: '1.2.0' },
            { name: 'staging', version: '1.1.0' },
            { name: 'prod', version: '1.0.0' },
          ],
          asOf: expect.any(String),
        },
        {
          entityRef: 'component:default/shop',
          title: null,
          hidden: false,
          environments: [
            { name: 'dev', version: '1.2.0' },
            { name: 'staging', version: '1.1.0' },
            { name: 'prod', version: '1.0.0' },
          ],
          asOf: expect.any(String),
        },
      ]);
      expect(listed.body.groups).toEqual([]);

      const created = await as('ana').post(
        '/systems/default/checkout/promotions',
        { to: 'staging', members },
      );
      expect(created.status).toBe(201);
      const group = created.body;
      expect(group).toMatchObject({
        systemRef: 'system:default/checkout',
        environment: 'staging',
        requestedBy: 'user:default/ana',
        state: 'open',
      });
      expect(group.members.map((m: any) => [m.entityRef, m.version])).toEqual([
        ['component:default/shop', '1.2.0'],
        ['component:default/cart', '1.2.0'],
      ]);
      const [shop, cart] = group.members;
      expect(overlay(dir, shop.branch, 'shop')).toContain('newTag: "1.2.0"');
      expect(overlay(dir, cart.branch, 'cart')).toContain('newTag: "1.2.0"');

      // Only shop is approved: the group waits for cart, and says so.
      expect((await as('ben').act(shop.id, 'approve')).status).toBe(200);
      const early = await as('ana').post(`/promotion-groups/${group.id}/merge`);
      expect(early.status).toBe(409);
      expect(early.body.error.message).toContain(
        'component:default/cart: Not every gate passes: approvals',
      );
      expect(early.body.error.message).not.toContain('component:default/shop');
      expect(
        git(dir, 'show', 'main:shop/overlays/staging/kustomization.yaml'),
      ).toContain('newTag: "1.1.0"');
      const waiting = await as('ana').get(`/promotion-groups/${group.id}`);
      expect(waiting.body.blocking).toEqual([
        expect.objectContaining({ entityRef: 'component:default/cart' }),
      ]);

      // A stranger may not merge it, even once it is ready.
      expect((await as('ben').act(cart.id, 'approve')).status).toBe(200);
      const stranger = await as('sam').post(
        `/promotion-groups/${group.id}/merge`,
      );
      expect(stranger.status).toBe(403);
      expect(stranger.body.error.message).toContain('component:default/shop');

      const merged = await as('ana').post(
        `/promotion-groups/${group.id}/merge`,
      );
      expect(merged.status).toBe(200);
      expect(merged.body.state).toBe('merged');
      expect(merged.body.members.map((m: any) => m.state)).toEqual([
        'merged',
        'merged',
      ]);
      expect(overlay(dir, 'main', 'shop')).toContain('newTag: "1.2.0"');
      expect(overlay(dir, 'main', 'cart')).toContain('newTag: "1.2.0"');
      expect(merged.body.history).toEqual([
        expect.objectContaining({
          action: 'requested',
          actor: 'user:default/ana',
        }),
        expect.objectContaining({
          action: 'member-merged',
          reason: 'component:default/shop',
        }),
        expect.objectContaining({
          action: 'member-merged',
          reason: 'component:default/cart',
        }),
        expect.objectContaining({
          action: 'merged',
          actor: 'user:default/ana',
        }),
      ]);
      const again = await as('ana').post(`/promotion-groups/${group.id}/merge`);
      expect(again.status).toBe(409);

      const after = await as('ana').get('/systems/default/checkout/promotions');
      expect(after.body.groups.map((g: any) => [g.id, g.state])).toEqual([
        [group.id, 'merged'],
      ]);
    });

    describe('fault: a refresh failing, shown on the system tab', () => {
      it('keeps each component’s versions after the repository breaks, with their age and the failed refresh', async () => {
        const { as, dir, refresh } = await start();
        const get = () => as('ana').get('/systems/default/checkout/promotions');
        const known = (await get()).body.components;
        for (const component of known) {
          expect(Date.parse(component.asOf)).not.toBeNaN();
          expect(component).not.toHaveProperty('refreshError');
        }

        fs.renameSync(dir, `${dir}-moved`);
        await refresh();
        const stale = await get();
        expect(stale.status).toBe(200);
        expect(stale.body.components).toEqual(
          known.map((component: any) => ({
            ...component,
            refreshError: {
              message: expect.stringContaining(
                'Repository gitops could not be read',
              ),
              at: expect.any(String),
            },
          })),
        );
      });
    });

    it('refuses the whole group when one member cannot be requested, and closes the others', async () => {
      const { as, dir } = await start();
      const refused = await as('ana').post(
        '/systems/default/checkout/promotions',
        {
          to: 'staging',
          members: [
            { entityRef: 'component:default/shop' },
            { entityRef: 'component:default/cart', version: '9.9.9' },
          ],
        },
      );
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.status).toBeLessThan(500);
      expect(refused.body.error.message).toContain('component:default/cart:');
      expect(refused.body.error.message).toContain('9.9.9');

      const shop = await as('ana').get(
        '/entities/component/default/shop/promotions',
      );
      expect(shop.body.promotions).toEqual([
        expect.objectContaining({
          state: 'closed',
          reason: expect.stringContaining('component:default/cart'),
        }),
      ]);
      const listed = await as('ana').get(
        '/systems/default/checkout/promotions',
      );
      expect(listed.body.groups).toEqual([]);
      expect(overlay(dir, 'main', 'shop')).toContain('newTag: "1.1.0"');
    });

    it('refuses a component of another system, a malformed body, and a stranger', async () => {
      const { as } = await start();
      const other = await as('ana').post(
        '/systems/default/checkout/promotions',
        {
          to: 'staging',
          members: [
            { entityRef: 'component:default/shop' },
            { entityRef: 'component:default/billing' },
          ],
        },
      );
      expect(other.status).toBe(400);
      expect(other.body.error.message).toContain(
        'component:default/billing: is not a component of system:default/checkout',
      );
      for (const body of [
        { to: 'staging', members: [] },
        { to: 'Staging!', members },
        { to: 'staging', members, merge: true },
        { to: 'staging', members: [{ entityRef: 'x', extra: 1 }] },
        {
          to: 'staging',
          members: [members[0], { entityRef: 'component:default/SHOP' }],
        },
        { to: 'staging', members: [{ entityRef: 'component:' }] },
      ]) {
        const res = await as('ana').post(
          '/systems/default/checkout/promotions',
          body,
        );
        expect(res.status).toBe(400);
      }
      expect(
        (await as('ana').get('/systems/default/nowhere/promotions')).status,
      ).toBe(404);

      const stranger = await as('sam').post(
        '/systems/default/checkout/promotions',
        { to: 'staging', members },
      );
      expect(stranger.status).toBe(403);
      expect(stranger.body.error.message).toContain('component:default/shop');
      expect(stranger.body.error.message).toContain('component:default/cart');
      const shop = await as('ana').get(
        '/entities/component/default/shop/promotions',
      );
      expect(shop.body.promotions).toEqual([]);
    });

    it('keeps a member from being merged or queued alone', async () => {
      const { as, dir } = await start();
      const created = await as('ana').post(
        '/systems/default/checkout/promotions',
        { to: 'staging', members },
      );
      expect(created.status).toBe(201);
      const [shop, cart] = created.body.members;
      for (const member of [shop, cart]) {
        expect((await as('ben').act(member.id, 'approve')).status).toBe(200);
      }
      for (const [who, action] of [
        ['rita', 'merge'],
        ['ana', 'merge'],
        ['ana', 'queue'],
      ] as const) {
        const alone = await as(who).act(shop.id, action);
        expect(alone.status).toBe(409);
        expect(alone.body.error.message).toContain(
          `belongs to the group promotion ${created.body.id} of system:default/checkout`,
        );
        expect(alone.body.error.message).toContain(
          'Merge the group from the Promotions tab of system:default/checkout',
        );
      }
      // A body naming a group is no way around it: the route takes none.
      const smuggled = await as('ana').act(shop.id, 'merge', {
        group: created.body.id,
      });
      expect(smuggled.status).toBe(400);
      const shopNow = await as('ana').get(`/promotions/${shop.id}`);
      expect(shopNow.body).toMatchObject({ state: 'open', queuedUntil: null });
      expect(overlay(dir, 'main', 'shop')).toContain('newTag: "1.1.0"');

      // The group merges it; once merged, the group no longer holds anything.
      const merged = await as('ana').post(
        `/promotion-groups/${created.body.id}/merge`,
      );
      expect(merged.status).toBe(200);
      expect(overlay(dir, 'main', 'shop')).toContain('newTag: "1.2.0"');
    });

    it("merges no member when one member's branch moved after it was reviewed", async () => {
      const { as, dir } = await start();
      const created = await as('ana').post(
        '/systems/default/checkout/promotions',
        { to: 'staging', members },
      );
      expect(created.status).toBe(201);
      const [shop, cart] = created.body.members;
      for (const member of [shop, cart]) {
        expect((await as('ben').act(member.id, 'approve')).status).toBe(200);
      }
      // Someone pushes to cart's branch after it was approved: its head moved.
      pushToBranch(
        dir,
        cart.branch,
        {
          'cart/overlays/staging/kustomization.yaml': shopOverlay(
            'staging',
            '6.6.6',
          ).replace(/shop/g, 'cart'),
        },
        'Sneak in 6.6.6',
      );
      const merge = await as('ana').post(
        `/promotion-groups/${created.body.id}/merge`,
      );
      expect(merge.status).toBe(409);
      expect(merge.body.error.message).toContain('no member was merged');
      expect(merge.body.error.message).toContain(
        `component:default/cart: The branch ${cart.branch} moved`,
      );
      expect(merge.body.error.message).not.toContain('component:default/shop');
      const group = await as('ana').get(`/promotion-groups/${created.body.id}`);
      expect(group.body.state).toBe('open');
      expect(group.body.members.map((m: any) => m.state)).toEqual([
        'open',
        'open',
      ]);
      expect(overlay(dir, 'main', 'shop')).toContain('newTag: "1.1.0"');
      expect(overlay(dir, 'main', 'cart')).toContain('newTag: "1.1.0"');
      expect(group.body.history.map((e: any) => e.action)).toEqual([
        'requested',
      ]);
    });

    it("merges no member when one member's gate stopped passing since it was judged", async () => {
      const { as, dir } = await start();
      const created = await as('ana').post(
        '/systems/default/checkout/promotions',
        { to: 'staging', members },
      );
      const [shop, cart] = created.body.members;
      for (const member of [shop, cart]) {
        expect((await as('ben').act(member.id, 'approve')).status).toBe(200);
      }
      // Judged passing when approved; the freeze comes after, and only a fresh judgement sees it.
      const frozen = await as('rita').post('/freezes', {
        entityRef: 'component:default/cart',
        environment: 'staging',
        reason: 'Cart incident',
      });
      expect(frozen.status).toBe(201);
      const merge = await as('ana').post(
        `/promotion-groups/${created.body.id}/merge`,
      );
      expect(merge.status).toBe(409);
      expect(merge.body.error.message).toContain(
        'component:default/cart: Not every gate passes: freeze',
      );
      expect(merge.body.error.message).not.toContain('component:default/shop');
      expect(overlay(dir, 'main', 'shop')).toContain('newTag: "1.1.0"');
      expect(overlay(dir, 'main', 'cart')).toContain('newTag: "1.1.0"');
      const group = await as('ana').get(`/promotion-groups/${created.body.id}`);
      expect(group.body.members.map((m: any) => m.state)).toEqual([
        'open',
        'open',
      ]);
    });

    it('blocks the group when a member fails to merge midway: the members merged before stay merged, the others stay open', async () => {
      const { as, dir } = await start();
      const created = await as('ana').post(
        '/systems/default/checkout/promotions',
        { to: 'staging', members },
      );
      expect(created.status).toBe(201);
      const [shop, cart] = created.body.members;
      for (const member of [shop, cart]) {
        expect((await as('ben').act(member.id, 'approve')).status).toBe(200);
      }
      // Every member passed its checks; the repository then refuses cart's merge.
      const merge = GitRepository.prototype.merge;
      jest
        .spyOn(GitRepository.prototype, 'merge')
        .mockImplementation(function refuseCart(this: GitRepository, input) {
          return input.source === cart.branch
            ? Promise.reject(new Error('the repository refused the merge'))
            : merge.call(this, input);
        });
      const merged = await as('ana').post(
        `/promotion-groups/${created.body.id}/merge`,
      );
      expect(merged.status).toBe(409);
      expect(merged.body.error.message).toContain(
        'component:default/cart could not be merged: the repository refused the merge',
      );
      const group = await as('ana').get(`/promotion-groups/${created.body.id}`);
      expect(group.body).toMatchObject({
        state: 'blocked',
        reason: expect.stringContaining('component:default/cart'),
      });
      expect(group.body.members.map((m: any) => m.state)).toEqual([
        'merged',
        'open',
      ]);
      expect(overlay(dir, 'main', 'shop')).toContain('newTag: "1.2.0"');
      expect(overlay(dir, 'main', 'cart')).toContain('newTag: "1.1.0"');
      expect(group.body.history.map((e: any) => e.action)).toEqual([
        'requested',
        'member-merged',
        'blocked',
      ]);
    });

    it.each([
      ['before the second member was asked for', false],
      ['after the second member opened', true],
    ])(
      'closes a group whose request died %s, with every member it opened',
      async (_when, after) => {
        const world = await start();
        const crash = dieIn(
          PromotionsWorkflow.prototype,
          'request',
          entityRef => entityRef === 'component:default/cart',
          after,
        );
        sendAndDie(
          world.as('ana').post('/systems/default/checkout/promotions', {
            to: 'staging',
            members,
          }),
        );
        await crash.reached;
        const [stored] = await world.knex('promotions_groups');
        expect(stored.state).toBe('opening');
        const opened = await world
          .knex('promotions_requests')
          .orderBy('requested_at');
        expect(opened.map(p => p.entity_ref)).toEqual(
          after
            ? ['component:default/shop', 'component:default/cart']
            : ['component:default/shop'],
        );
        // Not yet a group to show, but already one to merge with: never alone.
        const listed = await world
          .as('ana')
          .get('/systems/default/checkout/promotions');
        expect(listed.body.groups).toEqual([]);
        expect(
          (await world.as('ben').act(opened[0].id, 'approve')).status,
        ).toBe(200);
        const alone = await world.as('ana').act(opened[0].id, 'merge');
        expect(alone.status).toBe(409);
        expect(alone.body.error.message).toContain(stored.id);

        const next = await world.restart();
        const group = await next
          .as('ana')
          .get(`/promotion-groups/${stored.id}`);
        expect(group.status).toBe(200);
        expect(group.body).toMatchObject({
          state: 'closed',
          reason: expect.stringContaining('interrupted'),
        });
        expect(
          group.body.members.map((m: any) => [m.entityRef, m.state]),
        ).toEqual(opened.map(p => [p.entity_ref, 'closed']));
        expect(group.body.members[0].reason).toContain(
          'its group promotion of system:default/checkout to staging was interrupted',
        );
        expect(group.body.history.map((e: any) => e.action)).toEqual([
          'requested',
          'closed',
        ]);
        expect(git(world.dir, 'branch', '--list', 'promotions/*')).toBe('');
        expect(overlay(world.dir, 'main', 'shop')).toContain('newTag: "1.1.0"');
      },
    );

    it('closes a group with its members, and a closed member blocks an open group', async () => {
      const { as } = await start();
      const first = await as('ana').post(
        '/systems/default/checkout/promotions',
        {
          to: 'staging',
          members,
        },
      );
      expect(first.status).toBe(201);
      // A member closed on its own blocks the group, with its reason.
      expect(
        (
          await as('ana').act(first.body.members[1].id, 'close', {
            reason: 'cart is not ready',
          })
        ).status,
      ).toBe(200);
      const blocked = await as('ana').get(`/promotion-groups/${first.body.id}`);
      expect(blocked.body).toMatchObject({
        state: 'blocked',
        reason: expect.stringContaining('cart is not ready'),
      });
      const merge = await as('rita').post(
        `/promotion-groups/${first.body.id}/merge`,
      );
      expect(merge.status).toBe(409);
      expect(merge.body.error.message).toContain('cart is not ready');

      expect(
        (await as('sam').post(`/promotion-groups/${first.body.id}/close`))
          .status,
      ).toBe(403);
      const closed = await as('ana').post(
        `/promotion-groups/${first.body.id}/close`,
        { reason: 'next week' },
      );
      expect(closed.status).toBe(200);
      expect(closed.body).toMatchObject({
        state: 'closed',
        reason: 'next week',
      });
      expect(closed.body.members.map((m: any) => m.state)).toEqual([
        'closed',
        'closed',
      ]);
      // Reading the blocked group wrote nothing: only acting on it is history.
      expect(closed.body.history.map((e: any) => e.action)).toEqual([
        'requested',
        'closed',
      ]);
      expect((await as('ana').get('/promotion-groups/not-a-uuid')).status).toBe(
        400,
      );
    });
  },
);
