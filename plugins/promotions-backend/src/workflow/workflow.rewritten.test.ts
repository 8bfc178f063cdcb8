import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory } from '@internal/promotions-fixtures';
import { bareRepository, git, startWorkflowBackend } from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

describe('a promotion previewed after the branch was rewritten', () => {
  it('lists the upstream’s commits from the head when the stored history names commits gone from the repository', async () => {
    const dir = bareRepository(shopHistory);
    const repositories = [
      {
        id: 'gitops',
        provider: 'git',
        url: dir,
        paths: ['{entity.metadata.name}/**'],
      },
    ];
    const first = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories,
    });
    await first.ready();

    // The same history, one hour later: every commit is another, and the old ones are gone.
    const rewritten = bareRepository(
      shopHistory.map(commit => ({
        ...commit,
        date: new Date(Date.parse(commit.date) + 3_600_000).toISOString(),
      })),
    );
    git(rewritten, 'push', '-q', '--force', dir, 'main');
    git(dir, 'reflog', 'expire', '--expire=now', '--all');
    git(dir, 'gc', '-q', '--prune=now');

    // A new backend over the same database: its clone has only the rewritten history.
    const second = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories,
      knex: first.knex,
    });
    const preview = await second
      .as('ana')
      .post(`${second.entityPath}/promotions/preview`, { to: 'staging' });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ version: '1.2.0' });
    expect(
      preview.body.commits.map((c: { message: string }) => c.message),
    ).toContain('Promote shop 1.2.0 to dev (#7)');
  });
});
