import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory } from '@internal/promotions-fixtures';
import {
  bareRepository,
  git,
  shopEntity,
  startWorkflowBackend,
} from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

describe.each(databases.eachSupportedId())(
  'fault: people acting on one promotion at once, with the git provider on %s',
  databaseId => {
    async function start() {
      const dir = bareRepository(shopHistory);
      const backend = await startWorkflowBackend({
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
        entities: [shopEntity()],
      });
      await backend.ready();
      return { ...backend, dir };
    }

    it('merges exactly once when three people merge the same approved promotion at the same moment; the others get 409', async () => {
      const { as, dir, entityPath } = await start();
      const main = git(dir, 'rev-parse', 'main');
      const created = await as('ana').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      const { id } = created.body;
      expect((await as('rita').act(id, 'approve')).status).toBe(200);

      const answers = await Promise.all(
        ['rita', 'ana', 'ben'].map(user => as(user).act(id, 'merge')),
      );
      expect(answers.map(a => a.status).sort()).toEqual([200, 409, 409]);
      for (const refused of answers.filter(a => a.status === 409)) {
        expect(refused.body.error.message).toMatch(
          /merg(ed|ing)|not open|already/i,
        );
      }
      // main moved by the one promotion: one merge, its single change.
      const merged = answers.find(a => a.status === 200)!.body;
      expect(git(dir, 'rev-parse', 'main')).toBe(merged.mergedCommit);
      expect(git(dir, 'diff', '--name-only', main, 'main')).toBe(
        'shop/overlays/staging/kustomization.yaml',
      );
      expect(
        git(dir, 'rev-list', '--count', `${main}..main`, '--', 'shop'),
      ).toBe('1');
      const history = await as('ana').get(`${entityPath}/history`);
      expect(
        history.body.entries.filter((e: any) => e.action === 'merged'),
      ).toHaveLength(1);
    });

    it('takes one decision of each person when the same approval arrives twice at once', async () => {
      const { as } = await start();
      const created = await as('ana').promote({ to: 'staging' });
      const { id } = created.body;
      const answers = await Promise.all([
        as('rita').act(id, 'approve', { comment: 'one' }),
        as('rita').act(id, 'approve', { comment: 'two' }),
      ]);
      expect(answers.map(a => a.status).sort()).toEqual([200, 409]);
      const promotion = await as('ana').get(`/promotions/${id}`);
      expect(
        promotion.body.decisions.filter((d: any) => d.decision === 'approve'),
      ).toHaveLength(1);
    });
  },
);
