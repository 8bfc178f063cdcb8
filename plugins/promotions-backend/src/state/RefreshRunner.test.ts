import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { LiveStateSource } from '@gitops-promotions/plugin-promotions-node';
import { refresherFixture } from '../__testUtils__';
import { LeaseLostError, PromotionsStore } from './PromotionsStore';
import { RefreshRunner } from './RefreshRunner';
import { RefreshSummary, RepositoryRefresher } from './RepositoryRefresher';

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** A refresher that counts its runs and takes as long as the test says. */
function countingRefresher(
  ms: number,
  dependents: Record<string, string[]> = {},
) {
  const runs: Date[] = [];
  const ids: string[] = [];
  const refresher = {
    refresh: async (repositoryId: string): Promise<RefreshSummary> => {
      const readAt = new Date();
      runs.push(readAt);
      ids.push(repositoryId);
      await new Promise(resolve => setTimeout(resolve, ms));
      return {
        repositoryId,
        // Each run reads a new head.
        revision: String(runs.length),
        entities: 0,
        environments: 0,
        resolved: 0,
        recomputed: 0,
        failed: 0,
        durationMs: ms,
        readAt,
        dependents: dependents[repositoryId] ?? [],
      };
    },
  } as unknown as RepositoryRefresher;
  return { refresher, runs, ids };
}

describe.each(databases.eachSupportedId())(
  'RefreshRunner on %s',
  databaseId => {
    async function store() {
      const knex = await databases.init(databaseId);
      return PromotionsStore.create(
        mockServices.database({ knex, migrations: { skip: false } }),
      );
    }

    it('refreshes the repositories of entities that read an environment from the one refreshed, when its head moved', async () => {
      const { refresher, ids } = countingRefresher(10, {
        'environment-prod': ['environment-dev'],
        'environment-dev': ['environment-prod'],
      });
      const runner = new RefreshRunner({
        refresher,
        store: await store(),
        logger: mockServices.logger.mock(),
      });
      // The first head seen is every start's: nothing more is asked for.
      await runner.run('environment-prod');
      await sleep(100);
      expect(ids).toEqual(['environment-prod']);
      // A new head asks for the dependent's refresh, whose own first head asks for nothing more.
      await runner.run('environment-prod');
      for (let i = 0; i < 100 && ids.length < 3; i++) await sleep(20);
      await sleep(100);
      expect(ids).toEqual([
        'environment-prod',
        'environment-prod',
        'environment-dev',
      ]);
    });

    describe('fault: replicas refreshing the same repository', () => {
      it('runs one refresh of a repository at a time across replicas sharing a database', async () => {
        const shared = await store();
        const { refresher, runs } = countingRefresher(300);
        const logger = mockServices.logger.mock();
        const first = new RefreshRunner({ refresher, store: shared, logger });
        const second = new RefreshRunner({ refresher, store: shared, logger });
        const [a, b] = await Promise.all([
          first.run('gitops'),
          new Promise(resolve => setTimeout(resolve, 50)).then(() =>
            second.run('gitops'),
          ),
        ]);
        // The second asked while the first held the repository: the first ran once more for it.
        expect([a, b].filter(Boolean)).toHaveLength(1);
        expect(runs).toHaveLength(2);
        expect(runs[1].getTime()).toBeGreaterThanOrEqual(
          runs[0].getTime() + 300,
        );
      });
    });

    it('lets another replica take over once a refresh holding the repository died', async () => {
      const shared = await store();
      // A replica that took the lease and died: it is never given back.
      expect(await shared.acquireLease('gitops', 'dead-replica', 200)).toBe(
        true,
      );
      const { refresher, runs } = countingRefresher(10);
      const runner = new RefreshRunner({
        refresher,
        store: shared,
        logger: mockServices.logger.mock(),
      });
      expect(await runner.run('gitops')).toBeUndefined();
      expect(runs).toHaveLength(0);
      await new Promise(resolve => setTimeout(resolve, 250));
      expect(await runner.run('gitops')).toMatchObject({ revision: '1' });
      expect(runs).toHaveLength(1);
    });

    it('refuses to write a refresh once its lease passed to another replica', async () => {
      const shared = await store();
      const refresh = (leaseOwner: string) =>
        shared.saveRefresh({
          repositoryId: 'gitops',
          leaseOwner,
          revision: leaseOwner,
          at: new Date(),
          entities: [],
          environments: [],
          entityRefs: [],
          failures: [],
        });
      expect(await shared.acquireLease('gitops', 'slow-replica', 50)).toBe(
        true,
      );
      await refresh('slow-replica');
      await sleep(100);
      expect(await shared.acquireLease('gitops', 'other-replica', 60_000)).toBe(
        true,
      );
      await expect(refresh('slow-replica')).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      await expect(
        shared.saveRepositoryError({
          repositoryId: 'gitops',
          leaseOwner: 'slow-replica',
          entityRefs: ['component:default/shop'],
          message: 'unreadable',
          at: new Date(),
        }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      expect(await shared.get('component:default/shop')).toBeUndefined();
      await refresh('other-replica');
      const row = await shared
        .client('promotions_repository_state')
        .where({ repository_id: 'gitops' })
        .first('revision');
      expect(row.revision).toBe('other-replica');
    });

    it('stops a refresh whose lease another replica took over, and writes none of it', async () => {
      const {
        refresherOf,
        entities,
        store: shared,
      } = await refresherFixture(databases, databaseId);
      // The slow replica's refresh waits on its live-state source until it is stopped.
      let asked = 0;
      const hanging: LiveStateSource = {
        id: 'hanging',
        read: ({ signal }) => {
          asked++;
          return new Promise((_, reject) =>
            signal?.addEventListener('abort', () => reject(signal.reason)),
          );
        },
      };
      const logger = mockServices.logger.mock();
      // Its lease lapses long before it tries to renew it: the other replica takes it meanwhile.
      const slow = new RefreshRunner({
        refresher: refresherOf(entities, { liveStateSources: [hanging] }),
        store: shared,
        logger,
        leaseMs: 100,
        renewMs: 1_000,
      });
      // The other replica's catalog no longer holds cart.
      const other = new RefreshRunner({
        refresher: refresherOf([entities[0]]),
        store: shared,
        logger,
      });
      const slowRun = slow.run('gitops');
      await sleep(300);
      expect(await other.run('gitops')).toMatchObject({ entities: 1 });
      await expect(slowRun).resolves.toBeUndefined();
      expect(asked).toBe(2);
      expect(await shared.get('component:default/shop')).toMatchObject({
        error: null,
      });
      expect(await shared.get('component:default/cart')).toBeUndefined();
      expect(logger.warn).toHaveBeenCalledWith(
        expect.stringMatching(/another replica took over its lease/),
      );
    });
  },
);
