import { TestDatabases } from '@backstage/backend-test-utils';
import { shopOverlay } from '@internal/promotions-fixtures';
import {
  bareRepository,
  git,
  pushToBranch,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../../__testUtils__';
import {
  checkoutEntities,
  checkoutMembers as members,
  twoServices,
} from '../../__testUtils__/checkoutSystem';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const BOT = 'bot-token-0123456789';

// Every request the plugin made and every answer given matched GitHub's description.
afterEach(stopGithubSimulators);

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
  const backend = await startWorkflowBackend({
    databases,
    databaseId: 'SQLITE_3',
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
  });
  await backend.ready();
  return { ...backend, simulator, dir };
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
});
