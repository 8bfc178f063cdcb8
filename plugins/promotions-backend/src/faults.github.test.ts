import { createBackendModule } from '@backstage/backend-plugin-api';
import { TestDatabases } from '@backstage/backend-test-utils';
import { ScmIntegrations } from '@backstage/integration';
import { EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import {
  GithubRepository,
  promotionsRepositoryProvidersExtensionPoint,
} from '@gitops-promotions/plugin-promotions-node';
import {
  appendCommit,
  createGitFixture,
  shopHistory,
  shopOverlay,
} from '@internal/promotions-fixtures';
import { GithubSimulator } from '@internal/github-simulator';
import {
  component,
  startGithubSimulator,
  startPromotionsBackend,
  stopGithubSimulators,
} from './__testUtils__';

// Rate limits are waited out for real, a few seconds each.
jest.setTimeout(30_000);
const TOKEN = 'ghs_simulated';
const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

afterEach(stopGithubSimulators);

const shop = component('shop', {
  'gitops-promotions/repository': 'gitops',
  'gitops-promotions/path': 'shop/overlays/{env}',
});

/**
 * The real GitHub provider with a policy an operator might choose for a quick GitHub: one retry,
 * a one-second timeout, and rate limits waited out up to ten seconds.
 */
const quickGithubModule = createBackendModule({
  pluginId: 'promotions',
  moduleId: 'quick-github',
  register(env) {
    env.registerInit({
      deps: { providers: promotionsRepositoryProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProvider({
          type: 'quick-github',
          create: ({ repository, rootConfig, logger, onRequest }) =>
            new GithubRepository({
              id: repository.id,
              url: repository.url,
              branch: repository.branch,
              integrations: ScmIntegrations.fromConfig(rootConfig),
              logger,
              onRequest,
              requestPolicy: {
                retries: 1,
                backoffMs: 50,
                requestTimeoutMs: 1000,
                maxRateLimitWaitMs: 10_000,
              },
            }),
        });
      },
    });
  },
});

/** A backend reading shop's repository from the simulator, refreshed once already. */
async function startShop() {
  const dir = createGitFixture(shopHistory);
  const simulator = await startGithubSimulator({
    repoDir: dir,
    owner: 'acme',
    repo: 'gitops',
    token: TOKEN,
  });
  const backend = await startPromotionsBackend({
    knex: await databases.init('SQLITE_3'),
    entities: [shop],
    features: [quickGithubModule],
    config: {
      integrations: {
        github: [
          {
            host: 'github.example.com',
            apiBaseUrl: simulator.apiBaseUrl,
            token: TOKEN,
          },
        ],
      },
      promotions: {
        repositories: [
          {
            id: 'gitops',
            provider: 'quick-github',
            url: 'https://github.example.com/acme/gitops',
            paths: ['shop/**'],
          },
        ],
      },
    },
  });
  await backend.refresh();
  const page = async (): Promise<EntityPromotions> => {
    const response = await backend.get('shop');
    expect(response.status).toBe(200);
    return response.body;
  };
  const known = await page();
  expect(known.environments.map(env => env.desired.version)).toEqual([
    '1.2.0',
    '1.1.0',
    '1.0.0',
  ]);
  expect(known.error).toBeFalsy();
  // What the next refresh should find: dev moved on, pushed outside the portal.
  appendCommit(dir, {
    author: 'Ben Okafor',
    date: '2026-11-20T09:00:00Z',
    message: 'Promote shop 1.3.0 to dev',
    files: {
      'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '1.3.0'),
    },
  });
  return { simulator, refresh: backend.refresh, page, known };
}

const devVersion = (page: EntityPromotions) =>
  page.environments.find(env => env.name === 'dev')?.desired.version;

/** The page still shows the last state stored, as old as it was, with why it is not newer. */
async function expectLastKnown(
  page: () => Promise<EntityPromotions>,
  known: EntityPromotions,
  reason: RegExp,
) {
  const stale = await page();
  expect(stale.environments).toEqual(known.environments);
  expect(stale.asOf).toBe(known.asOf);
  expect(stale.error?.message).toMatch(reason);
}

/** After the fault, the next refresh stores the new state and the error goes. */
async function expectRecovered(
  refresh: () => Promise<void>,
  page: () => Promise<EntityPromotions>,
  known: EntityPromotions,
) {
  await refresh();
  const fresh = await page();
  expect(devVersion(fresh)).toBe('1.3.0');
  expect(Date.parse(fresh.asOf!)).toBeGreaterThan(Date.parse(known.asOf!));
  expect(fresh.error).toBeFalsy();
}

/**
 * Watches the simulator's requests while a refresh waits out a rate limit: page views are made
 * meanwhile, and the count of requests is sampled until `until`.
 */
async function whileRateLimited(
  simulator: GithubSimulator,
  refreshing: Promise<void>,
  page: () => Promise<EntityPromotions>,
  known: EntityPromotions,
  until: number,
) {
  const start = Date.now();
  while (
    simulator.count(undefined, 403) + simulator.count(undefined, 429) ===
    0
  ) {
    expect(Date.now() - start).toBeLessThan(5000);
    await new Promise(resolve => setTimeout(resolve, 10));
  }
  // Requests already in flight when the first refusal came back may still land.
  await new Promise(resolve => setTimeout(resolve, 200));
  const sentBeforeWaiting = simulator.requests.length;
  let settled = false;
  refreshing.then(() => {
    settled = true;
  });
  const views: number[] = [];
  while (Date.now() < until - 150) {
    const asked = Date.now();
    const shown = await page();
    views.push(Date.now() - asked);
    expect(shown.asOf).toBe(known.asOf);
    expect(devVersion(shown)).toBe('1.2.0');
    expect(simulator.requests.length).toBe(sentBeforeWaiting);
    expect(settled).toBe(false);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  // Page views were answered while the refresh waited, not after it.
  expect(views.length).toBeGreaterThan(5);
  expect(Math.max(...views)).toBeLessThan(1000);
  await refreshing;
  expect(simulator.requests.length).toBeGreaterThan(sentBeforeWaiting);
  expect(
    simulator.requests.slice(sentBeforeWaiting).map(r => r.status),
  ).not.toContain(403);
}

describe('fault: GitHub failing during a refresh, through the backend', () => {
  it('serves the last known state, its age and "answered 500" while GitHub answers 500, and the new state once it stops', async () => {
    const { simulator, refresh, page, known } = await startShop();
    simulator.resetCounts();
    // The first request and its one retry both fail.
    simulator.failNext(2, 500);
    await refresh();
    expect(simulator.count(undefined, 500)).toBe(2);
    await expectLastKnown(
      page,
      known,
      /^Repository gitops could not be read: .*reading branch "main" failed: github\.example\.com answered 500 after 2 attempts$/,
    );
    await expectRecovered(refresh, page, known);
  });

  it('serves the last known state, its age and "could not reach" while GitHub hangs past the timeout, and the new state once it answers', async () => {
    const { simulator, refresh, page, known } = await startShop();
    simulator.resetCounts();
    simulator.hangNext(2);
    const started = Date.now();
    await refresh();
    // Each of the two attempts was abandoned after the policy's one second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(simulator.requests.filter(r => r.status === undefined)).toHaveLength(
      2,
    );
    await expectLastKnown(
      page,
      known,
      /^Repository gitops could not be read: .*reading branch "main" failed: could not reach github\.example\.com$/,
    );
    await expectRecovered(refresh, page, known);
  });

  it('waits out a primary rate limit that resets in a few seconds without asking GitHub, serving the last known state meanwhile', async () => {
    const { simulator, refresh, page, known } = await startShop();
    simulator.resetCounts();
    const limitedAt = Date.now();
    simulator.limitRate('primary', 3);
    // The simulator's reset is a whole second at least three seconds ahead.
    const reset = Math.ceil((limitedAt + 3000) / 1000) * 1000;
    const refreshing = refresh();
    await whileRateLimited(simulator, refreshing, page, known, reset);
    const fresh = await page();
    expect(devVersion(fresh)).toBe('1.3.0');
    expect(fresh.error).toBeFalsy();
  });

  it('waits out a secondary rate limit as its retry-after says without asking GitHub, serving the last known state meanwhile', async () => {
    const { simulator, refresh, page, known } = await startShop();
    simulator.resetCounts();
    const limitedAt = Date.now();
    simulator.limitRate('secondary', 3, 429);
    const refreshing = refresh();
    await whileRateLimited(
      simulator,
      refreshing,
      page,
      known,
      limitedAt + 2800,
    );
    const fresh = await page();
    expect(devVersion(fresh)).toBe('1.3.0');
    expect(fresh.error).toBeFalsy();
  });

  it('serves the last known state with "rate limited until" when a 429 asks for longer than the policy waits', async () => {
    const { simulator, refresh, page, known } = await startShop();
    simulator.limitRate('secondary', 3600, 429);
    await refresh();
    // Told to wait an hour, the client asked once and gave up rather than ask again.
    expect(simulator.count(undefined, 429)).toBe(1);
    await expectLastKnown(
      page,
      known,
      /^Repository gitops could not be read: GitHub at github\.example\.com is rate limited until \d{4}-.*not waiting 3600 s \(at most 10 s\)$/,
    );
  });
});
