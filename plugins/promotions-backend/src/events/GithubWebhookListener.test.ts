import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { RepositoryConfig } from '@gitops-promotions/plugin-promotions-node';
import { PromotionsStore } from '../state/PromotionsStore';
import { RefreshRunner } from '../state/RefreshRunner';
import {
  RefreshSummary,
  RepositoryRefresher,
} from '../state/RepositoryRefresher';
import {
  FollowedPromotion,
  GithubWebhookListener,
} from './GithubWebhookListener';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

const REPOSITORIES: RepositoryConfig[] = [
  {
    id: 'gitops',
    provider: 'github',
    url: 'https://github.com/acme/gitops',
    branch: 'main',
    config: new ConfigReader({}),
  },
];
const repository = {
  full_name: 'acme/gitops',
  html_url: 'https://github.com/acme/gitops',
};
const push = (branch: string) => ({
  topic: 'github.push',
  eventPayload: { ref: `refs/heads/${branch}`, repository },
  metadata: { 'x-github-event': 'push', 'x-github-delivery': 'd-1' },
});
const PROMOTION: FollowedPromotion = {
  id: 'p-1',
  repositoryId: 'gitops',
  branch: 'promotions/shop-staging',
  headCommit: 'b'.repeat(40),
};

function listener(
  options: {
    requestRefresh?: (id: string) => void;
    sync?: (id: string) => Promise<void>;
    unfinished?: () => Promise<FollowedPromotion[]>;
    takeDelivery?: (deliveryId: string) => Promise<boolean>;
  } = {},
) {
  const logger = mockServices.logger.mock();
  const refreshed: string[] = [];
  const synced: string[] = [];
  const webhooks = new GithubWebhookListener({
    repositories: () => REPOSITORIES,
    logger,
    requestRefresh: options.requestRefresh ?? (id => refreshed.push(id)),
    unfinished: options.unfinished ?? (async () => [PROMOTION]),
    sync:
      options.sync ??
      (async id => {
        synced.push(id);
      }),
    takeDelivery: options.takeDelivery,
  });
  return { webhooks, logger, refreshed, synced };
}

describe('GithubWebhookListener', () => {
  it('runs one refresh and at most one more for a burst of pushes to the read branch', async () => {
    const knex = await databases.init('SQLITE_3');
    const store = await PromotionsStore.create(
      mockServices.database({ knex, migrations: { skip: false } }),
    );
    const runs: Date[] = [];
    const refresher = {
      refresh: async (repositoryId: string): Promise<RefreshSummary> => {
        const readAt = new Date();
        runs.push(readAt);
        await sleep(300);
        return {
          repositoryId,
          revision: String(runs.length),
          entities: 0,
          environments: 0,
          resolved: 0,
          recomputed: 0,
          failed: 0,
          durationMs: 300,
          readAt,
          dependents: [],
        };
      },
    } as unknown as RepositoryRefresher;
    const runner = new RefreshRunner({
      refresher,
      store,
      logger: mockServices.logger.mock(),
    });
    const { webhooks } = listener({
      requestRefresh: id => runner.request(id),
      unfinished: async () => [],
    });
    await webhooks.onEvent(push('main'));
    await sleep(50);
    for (let i = 0; i < 20; i++) await webhooks.onEvent(push('main'));
    await sleep(1000);
    expect(runs).toHaveLength(2);
  });

  it('syncs the promotion a pull request, review, check or status names, coalescing a burst, and nothing else', async () => {
    let running = 0;
    let most = 0;
    const synced: string[] = [];
    const { webhooks, refreshed } = listener({
      sync: async id => {
        running++;
        most = Math.max(most, running);
        synced.push(id);
        await sleep(100);
        running--;
      },
    });
    const events = [
      {
        topic: 'github.pull_request',
        eventPayload: {
          action: 'synchronize',
          repository,
          pull_request: {
            head: { ref: PROMOTION.branch, sha: 'c'.repeat(40) },
          },
        },
      },
      {
        topic: 'github.check_run',
        eventPayload: {
          repository,
          check_run: { head_sha: PROMOTION.headCommit, pull_requests: [] },
        },
      },
      {
        topic: 'github.status',
        eventPayload: { repository, sha: PROMOTION.headCommit, branches: [] },
      },
      {
        topic: 'github.pull_request_review',
        eventPayload: {
          repository,
          pull_request: { head: { ref: PROMOTION.branch } },
        },
      },
    ];
    for (const event of events) await webhooks.onEvent(event);
    await webhooks.idle();
    expect(synced).toEqual(['p-1', 'p-1']);
    expect(most).toBe(1);
    // A check of another branch concerns no promotion.
    await webhooks.onEvent({
      topic: 'github.check_suite',
      eventPayload: {
        repository,
        check_suite: { head_branch: 'feature/x', head_sha: 'd'.repeat(40) },
      },
    });
    await webhooks.idle();
    expect(synced).toHaveLength(2);
    expect(refreshed).toEqual([]);
  });

  it("syncs a promotion whose branch was pushed to, and refreshes for any other branch, which may be an environment's", async () => {
    const { webhooks, refreshed, synced } = listener();
    await webhooks.onEvent(push(PROMOTION.branch));
    await webhooks.idle();
    expect(synced).toEqual(['p-1']);
    expect(refreshed).toEqual([]);
    await webhooks.onEvent(push('staging'));
    expect(refreshed).toEqual(['gitops']);
    await webhooks.onEvent(push('main'));
    expect(refreshed).toEqual(['gitops', 'gitops']);
  });

  it('logs and ignores what it cannot use, and never throws', async () => {
    const { webhooks, logger, refreshed, synced } = listener({
      unfinished: async () => {
        throw new Error('database down');
      },
    });
    const hostile = Object.defineProperty({}, 'repository', {
      get() {
        throw new Error('boom');
      },
    });
    await expect(
      webhooks.onEvent({ topic: 'github.push', eventPayload: hostile }),
    ).resolves.toBeUndefined();
    await webhooks.onEvent({ topic: 'github.push', eventPayload: 'nonsense' });
    await webhooks.onEvent({
      topic: 'github.pull_request',
      eventPayload: { repository, pull_request: { head: { ref: 'x' } } },
    });
    await webhooks.onEvent({
      ...push('main'),
      eventPayload: {
        ref: 'refs/heads/main',
        repository: { full_name: 'acme/unknown' },
      },
    });
    expect(refreshed).toEqual([]);
    expect(synced).toEqual([]);
    expect(logger.warn).toHaveBeenCalledWith(
      'Could not handle GitHub webhook github.push: Error: boom',
    );
    expect(logger.warn).toHaveBeenCalledWith(
      'Ignored GitHub webhook github.push: the payload is not an object',
    );
    expect(logger.warn).toHaveBeenCalledWith(
      'Could not handle GitHub webhook github.pull_request: Error: database down',
    );
    expect(logger.debug).toHaveBeenCalledWith(
      'Ignored GitHub webhook github.push (delivery d-1): repository acme/unknown is not configured',
    );
  });

  it('acts on a delivery only when it takes it, and acts anyway when taking it cannot be recorded', async () => {
    const taken = new Set<string>();
    const { webhooks, refreshed, logger } = listener({
      unfinished: async () => [],
      takeDelivery: async id => {
        if (id === 'd-broken') throw new Error('the database is away');
        if (taken.has(id)) return false;
        taken.add(id);
        return true;
      },
    });
    await webhooks.onEvent(push('main'));
    await webhooks.onEvent(push('main'));
    expect(refreshed).toEqual(['gitops']);
    expect(logger.debug).toHaveBeenCalledWith(
      'Ignored GitHub webhook github.push (delivery d-1): it was handled already',
    );
    await webhooks.onEvent({
      ...push('main'),
      metadata: { 'x-github-event': 'push', 'x-github-delivery': 'd-broken' },
    });
    expect(refreshed).toEqual(['gitops', 'gitops']);
    expect(logger.warn).toHaveBeenCalledWith(
      'Could not record GitHub webhook github.push (delivery d-broken) as handled, handling it anyway: Error: the database is away',
    );
    // A delivery without an id cannot be told from another: it is acted on.
    await webhooks.onEvent({ ...push('main'), metadata: {} });
    expect(refreshed).toEqual(['gitops', 'gitops', 'gitops']);
  });
});
