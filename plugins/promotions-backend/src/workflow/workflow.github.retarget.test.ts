import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory } from '@internal/promotions-fixtures';
import {
  bareRepository,
  git,
  shopEntity,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../__testUtils__';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const BOT = 'bot-token-0123456789';
const MALLORY = 'mallory-token-0123456789';

// Every request the plugin made and every answer given matched GitHub's description.
afterEach(stopGithubSimulators);

describe('a promotion whose pull request was retargeted on GitHub', () => {
  it('is not merged into the new base, says why, and merges once retargeted back', async () => {
    const dir = bareRepository(shopHistory);
    git(dir, 'branch', 'release', 'main');
    const simulator = await startGithubSimulator({
      repoDir: dir,
      owner: 'acme',
      repo: 'gitops',
      users: {
        [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' },
        [MALLORY]: { login: 'mallory', id: 104 },
      },
      defaultBranch: 'main',
      firstPullRequestNumber: 41,
    });
    const { as, sync } = await startWorkflowBackend({
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
      entities: [shopEntity()],
    }).then(async backend => {
      await backend.ready();
      return backend;
    });
    const retarget = async (base: string) => {
      const res = await fetch(
        `${simulator.apiBaseUrl}/repos/acme/gitops/pulls/41`,
        {
          method: 'PATCH',
          headers: {
            authorization: `token ${MALLORY}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify({ base }),
        },
      );
      expect(res.status).toBe(200);
    };

    const created = await as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await as('ben').act(id, 'approve')).status).toBe(200);
    const main = git(dir, 'rev-parse', 'main');
    const release = git(dir, 'rev-parse', 'release');

    await retarget('release');
    const refused = await as('ben').act(id, 'merge');
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      'The pull request #41 was retargeted to release, not main, the branch the promotion merges into; nothing was merged. Retarget it to main on GitHub to merge it',
    );
    expect(git(dir, 'rev-parse', 'release')).toBe(release);
    expect(git(dir, 'rev-parse', 'main')).toBe(main);
    expect(simulator.pullRequests()[0]).toMatchObject({
      state: 'open',
      base: 'release',
    });

    // The sync says so in the history, once, and leaves the promotion open.
    await sync();
    await sync();
    const history = (
      await as('ana').get(
        `/entities/component/default/shop/history?environment=staging`,
      )
    ).body;
    const entries = (history.entries ?? history).filter(
      (e: any) => e.promotionId === id && /retargeted/.test(e.comment ?? ''),
    );
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'changed',
        actor: 'github',
        comment:
          'The pull request was retargeted to release on GitHub: it is not merged until it is retargeted to main',
      }),
    ]);
    expect((await as('ana').get(`/promotions/${id}`)).body.state).toBe('open');

    await retarget('main');
    expect((await as('ben').act(id, 'merge')).status).toBe(200);
    expect(git(dir, 'rev-parse', 'release')).toBe(release);
    expect(git(dir, 'rev-parse', 'main')).not.toBe(main);
  });
});
