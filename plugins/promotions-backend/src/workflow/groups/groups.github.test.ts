import { TestDatabases } from '@backstage/backend-test-utils';
import { shopOverlay } from '@internal/promotions-fixtures';
import {
  abortHanging,
  bareRepository,
  dieIn,
  git,
  pushToBranch,
  sendAndDie,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../../__testUtils__';
import {
  checkoutEntities,
  checkoutMembers as members,
  twoServices,
} from '../../__testUtils__/checkoutSystem';
import { GroupStore } from './GroupStore';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const BOT = 'bot-token-0123456789';

// Every request the plugin made and every answer given matched GitHub's description.
afterEach(stopGithubSimulators);
afterEach(abortHanging);
afterEach(() => jest.restoreAllMocks());

async function start() {
  const dir = bareRepository(twoServices);
  const simulator = await startGithubSimulator({
    repoDir: dir,
    owner: 'acme',
    repo: 'gitops',
    users: { [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' } },
    defaultBranch: 'main',
    firstPullRequestNumber: 41,
  });
  const options = {
    databases,
    databaseId: 'SQLITE_3' as const,
    repositories: [
      {
        id: 'gitops',
        provider: 'github',
        url: 'https://github.example.com/acme/gitops',
        paths: ['{entity.metadata.name}/**'],
      },
    ],
    integrations: {
      github: [
        {
          host: 'github.example.com',
          apiBaseUrl: simulator.apiBaseUrl,
          token: BOT,
        },
      ],
    },
    entities: checkoutEntities(),
  };
  const backend = await startWorkflowBackend(options);
  await backend.ready();
  /** A new backend over the same database, as after a crash, a few minutes on, synced. */
  const restart = async () => {
    const next = await startWorkflowBackend({ ...options, knex: backend.knex });
    const minutesAgo = new Date(Date.now() - 5 * 60_000).toISOString();
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
  return { ...backend, simulator, dir, restart };
}

const overlay = (dir: string, name: string) =>
  git(dir, 'show', `main:${name}/overlays/staging/kustomization.yaml`);

describe('promoting a system together on GitHub', () => {
  it('opens a pull request per component and merges both only once both are approved', async () => {
    const { as, simulator, dir } = await start();
    const created = await as('ana').post(
      '/systems/default/checkout/promotions',
      { to: 'staging', members },
    );
    expect(created.status).toBe(201);
    const [shop, cart] = created.body.members;
    expect([shop.pullRequest.number, cart.pullRequest.number]).toEqual([
      41, 42,
    ]);
    expect(
      simulator.pullRequests().map((pr: any) => [pr.number, pr.state]),
    ).toEqual([
      [41, 'open'],
      [42, 'open'],
    ]);

    expect((await as('ben').act(cart.id, 'approve')).status).toBe(200);
    const early = await as('ana').post(
      `/promotion-groups/${created.body.id}/merge`,
    );
    expect(early.status).toBe(409);
    expect(early.body.error.message).toContain(
      'component:default/shop: Not every gate passes: approvals',
    );
    expect(simulator.pullRequests().map((pr: any) => pr.state)).toEqual([
      'open',
      'open',
    ]);

    expect((await as('ben').act(shop.id, 'approve')).status).toBe(200);
    const merged = await as('ana').post(
      `/promotion-groups/${created.body.id}/merge`,
    );
    expect(merged.status).toBe(200);
    expect(merged.body.state).toBe('merged');
    expect(
      simulator.pullRequests().map((pr: any) => [pr.number, pr.merged]),
    ).toEqual([
      [41, true],
      [42, true],
    ]);
    expect(overlay(dir, 'shop')).toContain('newTag: "1.2.0"');
    expect(overlay(dir, 'cart')).toContain('newTag: "1.2.0"');
  });

  it("merges no pull request when one member's branch moved after it was approved", async () => {
    const { as, simulator, dir } = await start();
    const created = await as('ana').post(
      '/systems/default/checkout/promotions',
      { to: 'staging', members },
    );
    expect(created.status).toBe(201);
    const [shop, cart] = created.body.members;
    for (const member of [shop, cart]) {
      expect((await as('ben').act(member.id, 'approve')).status).toBe(200);
    }
    // Someone pushes to cart's pull request branch on GitHub after the approvals.
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
    expect(
      simulator.pullRequests().map((pr: any) => [pr.number, pr.state]),
    ).toEqual([
      [41, 'open'],
      [42, 'open'],
    ]);
    expect(simulator.count('pulls/merge')).toBe(0);
    expect(overlay(dir, 'shop')).toContain('newTag: "1.1.0"');

    // Nor may either pull request be merged alone through the portal.
    const alone = await as('ana').act(shop.id, 'merge');
    expect(alone.status).toBe(409);
    expect(alone.body.error.message).toContain(created.body.id);
    expect(simulator.count('pulls/merge')).toBe(0);
  });

  it('closes the pull request already opened when another member cannot be requested', async () => {
    const { as, simulator } = await start();
    const refused = await as('ana').post(
      '/systems/default/checkout/promotions',
      {
        to: 'staging',
        members: [members[0], { ...members[1], version: '9.9.9' }],
      },
    );
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('component:default/cart:');
    expect(simulator.pullRequests().map((pr: any) => pr.state)).toEqual([
      'closed',
    ]);
  });

  describe('fault: merges of a group interrupted or asked for twice', () => {
    async function approved() {
      const world = await start();
      const created = await world
        .as('ana')
        .post('/systems/default/checkout/promotions', {
          to: 'staging',
          members,
        });
      expect(created.status).toBe(201);
      for (const member of created.body.members) {
        expect((await world.as('ben').act(member.id, 'approve')).status).toBe(
          200,
        );
      }
      return { ...world, group: created.body };
    }

    it('merges each pull request once when two people merge the group at once', async () => {
      const { as, simulator, group } = await approved();
      const answers = await Promise.all([
        as('ana').post(`/promotion-groups/${group.id}/merge`),
        as('rita').post(`/promotion-groups/${group.id}/merge`),
      ]);
      expect(answers.map(a => a.status).sort()).toEqual([200, 409]);
      expect(simulator.count('pulls/merge')).toBe(2);
      const after = await as('ana').get(`/promotion-groups/${group.id}`);
      expect(after.body.state).toBe('merged');
      expect(after.body.history.map((e: any) => e.action)).toEqual([
        'requested',
        'member-merged',
        'member-merged',
        'merged',
      ]);
    });

    it('resumes after a restart a merge that died after the first pull request merged', async () => {
      const world = await approved();
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
      expect(
        world.simulator.pullRequests().map((pr: any) => [pr.number, pr.merged]),
      ).toEqual([
        [41, true],
        [42, false],
      ]);

      const next = await world.restart();
      const group = await next
        .as('ana')
        .get(`/promotion-groups/${world.group.id}`);
      expect(group.body.state).toBe('merged');
      expect(group.body.history.map((e: any) => e.action)).toEqual([
        'requested',
        'member-merged',
        'merge-interrupted',
        'member-merged',
        'merged',
      ]);
      expect(
        world.simulator.pullRequests().map((pr: any) => [pr.number, pr.merged]),
      ).toEqual([
        [41, true],
        [42, true],
      ]);
      expect(world.simulator.count('pulls/merge')).toBe(2);
      expect(overlay(world.dir, 'cart')).toContain('newTag: "1.2.0"');
    });
  });
});
