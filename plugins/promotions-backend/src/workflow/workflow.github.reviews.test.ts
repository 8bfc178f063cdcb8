import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory } from '@internal/promotions-fixtures';
import {
  bareRepository,
  shopEntity,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../__testUtils__';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const BOT = 'bot-token-0123456789';
const BEN = 'ben-token-0123456789';

// Every request the plugin made and every answer given matched GitHub's description.
afterEach(stopGithubSimulators);

async function start(approvals: number | object) {
  const dir = bareRepository(shopHistory);
  const simulator = await startGithubSimulator({
    repoDir: dir,
    owner: 'acme',
    repo: 'gitops',
    users: {
      [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' },
      [BEN]: { login: 'ben', id: 105 },
    },
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
    // staging is a production environment here, so that its promotion is one step away.
    pipeline: [
      { name: 'dev', requires: [] },
      { name: 'staging', requires: ['dev'], production: true, approvals },
      { name: 'prod', requires: ['staging'], production: true, approvals },
    ],
    entities: [shopEntity()],
  });
  await backend.ready();
  const review = async (token: string, number: number, event: string) => {
    const res = await fetch(
      `${simulator.apiBaseUrl}/repos/acme/gitops/pulls/${number}/reviews`,
      {
        method: 'POST',
        headers: {
          authorization: `token ${token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ event, body: 'lgtm' }),
      },
    );
    expect(res.status).toBe(200);
  };
  return { ...backend, review };
}

describe('GitHub reviews of a promotion to a production environment', () => {
  it.each([
    [
      1,
      '0 of 1 approval; in production GitHub reviews do not count: approve in the portal',
    ],
    [
      { count: 1, groups: ['release-managers'] },
      '0 of 1 approval from release-managers; in production a GitHub review counts only from a member of release-managers',
    ],
  ])(
    'count only from the approval groups, not from the service’s owners (approvals: %j)',
    async (approvals, summary) => {
      const { as, review, sync } = await start(approvals);
      const created = await as('rita').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      // ben owns the service, but the permission policy could not judge him on GitHub.
      await review(BEN, 41, 'APPROVE');
      await sync();
      const now = (await as('rita').get(`/promotions/${created.body.id}`)).body;
      expect(now.decisions).toEqual([]);
      expect(now.gates.find((g: any) => g.gate === 'approvals')).toEqual({
        gate: 'approvals',
        state: 'pending',
        summary,
      });
      expect((await as('rita').act(created.body.id, 'merge')).status).toBe(409);
    },
  );
});
