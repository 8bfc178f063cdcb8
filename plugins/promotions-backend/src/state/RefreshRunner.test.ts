import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { PromotionsStore } from './PromotionsStore';
import { RefreshRunner } from './RefreshRunner';
import { RefreshSummary, RepositoryRefresher } from './RepositoryRefresher';

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** A refresher that counts its runs and takes as long as the test says. */
function countingRefresher(ms: number) {
  const runs: Date[] = [];
  const refresher = {
    refresh: async (repositoryId: string): Promise<RefreshSummary> => {
      const readAt = new Date();
      runs.push(readAt);
      await new Promise(resolve => setTimeout(resolve, ms));
      return {
        repositoryId,
        revision: 'abc',
        entities: 0,
        environments: 0,
        resolved: 0,
        recomputed: 0,
        failed: 0,
        durationMs: ms,
        readAt,
      };
    },
  } as unknown as RepositoryRefresher;
  return { refresher, runs };
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
      expect(runs[1].getTime()).toBeGreaterThanOrEqual(runs[0].getTime() + 300);
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
      expect(await runner.run('gitops')).toMatchObject({ revision: 'abc' });
      expect(runs).toHaveLength(1);
    });
  },
);
