import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory, shopOverlay } from '@internal/promotions-fixtures';
import {
  GithubRepository,
  GitRepository,
} from '@gitops-promotions/plugin-promotions-node';
import { writeFileSync } from 'node:fs';
import { Knex } from 'knex';
import {
  abortHanging,
  bareRepository,
  dieIn,
  git,
  sendAndDie,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../__testUtils__';
import { WorkflowStore } from './WorkflowStore';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const BOT = 'bot-token-0123456789';
const STAGING = 'shop/overlays/staging/kustomization.yaml';

afterEach(stopGithubSimulators);

afterEach(abortHanging);

/** Merges pull request #41 on GitHub, as a person would there; returns the merge commit. */
async function mergeOnGithub(apiBaseUrl: string, sha: string) {
  const res = await fetch(`${apiBaseUrl}/repos/acme/gitops/pulls/41/merge`, {
    method: 'PUT',
    headers: {
      authorization: `token ${BOT}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ sha }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { sha: string }).sha;
}

/** The time the sync waits for a step someone else may still be finishing, passed. */
const minutesLater = (knex: Knex) =>
  knex('promotions_requests').update({
    updated_at: new Date(Date.now() - 5 * 60_000),
  });

/**
 * A repository, the promotions backend over it, and `restart`: a new backend over the same
 * database and repository, as after a crash, which has run its sync.
 */
async function start(provider: 'git' | 'github', databaseId: TestDatabaseId) {
  const dir = bareRepository(shopHistory);
  const paths = ['{entity.metadata.name}/**'];
  const simulator =
    provider === 'github'
      ? await startGithubSimulator({
          repoDir: dir,
          owner: 'acme',
          repo: 'gitops',
          users: { [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' } },
          defaultBranch: 'main',
          firstPullRequestNumber: 41,
        })
      : undefined;
  const options = simulator
    ? {
        repositories: [
          {
            id: 'gitops',
            provider: 'github',
            url: 'https://github.example.com/acme/gitops',
            paths,
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
      }
    : { repositories: [{ id: 'gitops', provider: 'git', url: dir, paths }] };
  const backend = await startWorkflowBackend({
    databases,
    databaseId,
    ...options,
  });
  await backend.ready();
  const restart = async () => {
    const next = await startWorkflowBackend({
      databases,
      databaseId,
      ...options,
      knex: backend.knex,
    });
    await minutesLater(backend.knex);
    await next.sync();
    return next;
  };
  /** The history of one promotion, oldest first, as action and actor. */
  const historyOf = async (id: string) =>
    (
      await backend.as('ana').get('/entities/component/default/shop/history')
    ).body.entries
      .filter((e: any) => e.promotionId === id)
      .map((e: any) => [e.action, e.actor])
      .reverse();
  return {
    ...backend,
    dir,
    simulator,
    restart,
    historyOf,
    /** The class whose instances read and write the repository. */
    repository: (simulator ? GithubRepository : GitRepository).prototype,
    branches: () => git(dir, 'branch', '--list', 'promotions/*'),
    /** The pull requests on GitHub; none with `git`, which keeps promotions in the portal. */
    pullRequests: () => simulator?.pullRequests() ?? [],
    stateOf: async (id: string) =>
      (await backend.knex('promotions_requests').where({ id }).first()).state,
  };
}

const worlds: Array<['git' | 'github', TestDatabaseId]> = [
  ...databases
    .eachSupportedId()
    .map(([id]) => ['git', id] as ['git', TestDatabaseId]),
  ['github', 'SQLITE_3'],
];

describe.each(worlds)(
  'fault: the backend dying mid-promotion, with the %s provider on %s',
  (provider, databaseId) => {
    it('is recorded as merged, by whoever merged it, when the backend died between the merge and its record', async () => {
      const world = await start(provider, databaseId);
      const { id, branch } = (await world.as('ana').promote({ to: 'staging' }))
        .body;
      await world.as('rita').act(id, 'approve');
      const crash = dieIn(
        WorkflowStore.prototype,
        'transition',
        (_id, _from, change) => change?.state === 'merged',
      );
      sendAndDie(world.as('rita').act(id, 'merge'));
      await crash.reached;
      // The repository has the change; the database still says it is being merged.
      expect(git(world.dir, 'show', `main:${STAGING}`)).toContain(
        'newTag: "1.2.0"',
      );
      expect(await world.stateOf(id)).toBe('merging');
      expect(git(world.dir, 'branch', '--list', branch)).not.toBe('');

      const next = await world.restart();
      const merged = (await next.as('ana').get(`/promotions/${id}`)).body;
      expect(merged).toMatchObject({
        state: 'merged',
        mergedCommit: world.simulator
          ? world.simulator.pullRequests()[0].mergeCommitSha
          : git(world.dir, 'rev-parse', 'main'),
      });
      expect(world.branches()).toBe('');
      expect(await world.historyOf(id)).toEqual([
        ['requested', 'user:default/ana'],
        ['approved', 'user:default/rita'],
        ['merged', 'user:default/rita'],
      ]);
      // Merged once: the restart read the pull request, and did not merge it again.
      expect(world.pullRequests().map(pr => pr.merged)).toEqual(
        world.simulator ? [true] : [],
      );
      expect(world.simulator?.count('pulls/merge') ?? 0).toBe(
        world.simulator ? 1 : 0,
      );
    });

    it('loses its branch when the backend died between recording the merge and deleting the branch', async () => {
      const world = await start(provider, databaseId);
      const { id, branch } = (await world.as('ana').promote({ to: 'staging' }))
        .body;
      await world.as('rita').act(id, 'approve');
      const crash = dieIn(world.repository, 'deleteBranch');
      sendAndDie(world.as('rita').act(id, 'merge'));
      await crash.reached;
      expect(await world.stateOf(id)).toBe('merged');
      expect(git(world.dir, 'branch', '--list', branch)).not.toBe('');

      await world.restart();
      expect(world.branches()).toBe('');
      expect(await world.historyOf(id)).toEqual([
        ['requested', 'user:default/ana'],
        ['approved', 'user:default/rita'],
        ['merged', 'user:default/rita'],
      ]);
    });

    it('loses its branch, and its pull request, when the backend died after recording it closed by its requester', async () => {
      const world = await start(provider, databaseId);
      const { id, branch } = (await world.as('ana').promote({ to: 'staging' }))
        .body;
      const crash = dieIn(world.repository, 'deleteBranch');
      sendAndDie(world.as('ana').act(id, 'close', { reason: 'Not needed' }));
      await crash.reached;
      expect(await world.stateOf(id)).toBe('closed');
      expect(git(world.dir, 'branch', '--list', branch)).not.toBe('');

      const next = await world.restart();
      expect(world.branches()).toBe('');
      expect(
        world.pullRequests().map(pr => [pr.state, pr.merged, pr.head]),
      ).toEqual(world.simulator ? [['closed', false, branch]] : []);
      expect(
        (await next.as('ana').get(`/promotions/${id}`)).body,
      ).toMatchObject({ state: 'closed', reason: 'Not needed' });
      expect(await world.historyOf(id)).toEqual([
        ['requested', 'user:default/ana'],
        ['closed', 'user:default/ana'],
      ]);
    });

    it('loses the branch of a promotion that failed to open when the backend died cleaning it up', async () => {
      const world = await start(provider, databaseId);
      if (world.simulator) {
        world.simulator.failNext(4, 503, 'pulls/create');
      } else {
        jest
          .spyOn(GitRepository.prototype, 'commitFiles')
          .mockRejectedValueOnce(new Error('No space left on device'));
      }
      const crash = dieIn(world.repository, 'deleteBranch');
      sendAndDie(world.as('ana').promote({ to: 'staging' }));
      await crash.reached;
      const [failed] = await world.knex('promotions_requests').select();
      expect(failed.state).toBe('failed');
      expect(world.branches()).not.toBe('');

      const next = await world.restart();
      expect(world.branches()).toBe('');
      expect(await world.historyOf(failed.id)).toEqual([
        ['requested', 'user:default/ana'],
        ['failed', 'system'],
      ]);
      expect(world.pullRequests()).toEqual([]);
      // The environment is free for the next attempt.
      expect((await next.as('ana').promote({ to: 'staging' })).status).toBe(
        201,
      );
    });

    it('loses the branch of a superseded promotion when the backend died removing it, and keeps the one superseding it', async () => {
      const world = await start(provider, databaseId);
      const first = (await world.as('ana').promote({ to: 'staging' })).body;
      const crash = dieIn(world.repository, 'deleteBranch');
      sendAndDie(world.as('ben').promote({ to: 'staging', supersede: true }));
      await crash.reached;
      expect(await world.stateOf(first.id)).toBe('closed');
      const [second] = await world
        .knex('promotions_requests')
        .whereNot({ id: first.id });
      expect(second.state).toBe('open');

      const next = await world.restart();
      expect(world.branches()).toBe(second.branch);
      expect(await world.historyOf(first.id)).toEqual([
        ['requested', 'user:default/ana'],
        ['superseded', 'user:default/ben'],
      ]);
      expect(
        world.pullRequests().map(pr => [pr.head, pr.state, pr.merged]),
      ).toEqual(
        world.simulator
          ? [
              [first.branch, 'closed', false],
              [second.branch, 'open', false],
            ]
          : [],
      );
      const again = await next.as('ben').promote({ to: 'staging' });
      expect(again.status).toBe(409);
      expect(again.body.error.openPromotion.id).toBe(second.id);
    });

    it('opens the superseding promotion, and loses the superseded one’s branch, when the backend died just after storing the two', async () => {
      const world = await start(provider, databaseId);
      const first = (await world.as('ana').promote({ to: 'staging' })).body;
      const crash = dieIn(
        WorkflowStore.prototype,
        'supersede',
        () => true,
        true,
      );
      sendAndDie(world.as('ben').promote({ to: 'staging', supersede: true }));
      await crash.reached;
      // Stored together: the first closed, the second being opened; no branch touched yet.
      expect(await world.stateOf(first.id)).toBe('closed');
      const [second] = await world
        .knex('promotions_requests')
        .whereNot({ id: first.id });
      expect(second.state).toBe('opening');
      expect(world.branches()).toBe(first.branch);

      await world.restart();
      expect(await world.stateOf(second.id)).toBe('open');
      expect(world.branches()).toBe(second.branch);
      expect(
        world.pullRequests().map(pr => [pr.head, pr.state, pr.merged]),
      ).toEqual(
        world.simulator
          ? [
              [first.branch, 'closed', false],
              [second.branch, 'open', false],
            ]
          : [],
      );
      expect(await world.historyOf(second.id)).toEqual([
        ['requested', 'user:default/ben'],
      ]);
    });

    it('reopens the superseded promotion, branch and pull request untouched, when the one superseding it still cannot open after the backend died storing the two', async () => {
      const world = await start(provider, databaseId);
      const first = (await world.as('ana').promote({ to: 'staging' })).body;
      const crash = dieIn(
        WorkflowStore.prototype,
        'supersede',
        () => true,
        true,
      );
      sendAndDie(world.as('ben').promote({ to: 'staging', supersede: true }));
      await crash.reached;
      const [second] = await world
        .knex('promotions_requests')
        .whereNot({ id: first.id });
      expect(second.state).toBe('opening');
      const commitFiles = jest
        .spyOn(world.repository as any, 'commitFiles')
        .mockRejectedValue(new Error('No space left on device'));

      // Not given up yet: the first waits, closed, with its branch and pull request.
      await world.restart();
      expect(await world.stateOf(second.id)).toBe('opening');
      expect(await world.stateOf(first.id)).toBe('closed');
      expect(git(world.dir, 'rev-parse', first.branch)).toBe(first.headCommit);
      expect(world.pullRequests().map(pr => [pr.head, pr.state])).toEqual(
        world.simulator ? [[first.branch, 'open']] : [],
      );

      // Given up: the second failed and the first open again, in one write.
      await world
        .knex('promotions_requests')
        .where({ id: second.id })
        .update({ requested_at: new Date(Date.now() - 2 * 60 * 60_000) });
      const next = await world.restart();
      commitFiles.mockRestore();
      expect(await world.stateOf(second.id)).toBe('failed');
      expect(
        (await next.as('ana').get(`/promotions/${first.id}`)).body,
      ).toMatchObject({
        state: 'open',
        reason: null,
        headCommit: first.headCommit,
      });
      expect(world.branches()).toBe(first.branch);
      expect(world.pullRequests().map(pr => [pr.head, pr.state])).toEqual(
        world.simulator ? [[first.branch, 'open']] : [],
      );
      expect(await world.historyOf(first.id)).toEqual([
        ['requested', 'user:default/ana'],
        ['superseded', 'user:default/ben'],
        ['changed', 'system'],
      ]);
      expect(await world.historyOf(second.id)).toEqual([
        ['requested', 'user:default/ben'],
        ['failed', 'system'],
      ]);
      const again = await next.as('ben').promote({ to: 'staging' });
      expect(again.status).toBe(409);
      expect(again.body.error.openPromotion.id).toBe(first.id);
    });

    it('is recorded as merged when its change was merged outside the portal while it was being closed', async () => {
      const world = await start(provider, databaseId);
      const { id, headCommit } = (
        await world.as('ana').promote({ to: 'staging' })
      ).body;
      const crash = dieIn(
        WorkflowStore.prototype,
        'transition',
        (_id, _from, change) => change?.state === 'closed',
        true,
      );
      sendAndDie(world.as('ana').act(id, 'close'));
      await crash.reached;
      expect(await world.stateOf(id)).toBe('closed');
      // Meanwhile someone merged it outside the portal: on GitHub, or by moving main to it.
      let mergedOutside = headCommit;
      if (world.simulator) {
        mergedOutside = await mergeOnGithub(
          world.simulator.apiBaseUrl,
          headCommit,
        );
      } else {
        git(world.dir, 'update-ref', 'refs/heads/main', headCommit);
      }

      const next = await world.restart();
      expect(
        (await next.as('ana').get(`/promotions/${id}`)).body,
      ).toMatchObject({ state: 'merged', mergedCommit: mergedOutside });
      expect(world.branches()).toBe('');
      expect(await world.historyOf(id)).toEqual([
        ['requested', 'user:default/ana'],
        ['closed', 'user:default/ana'],
        ['merged', world.simulator ? 'github' : 'git'],
      ]);
    });

    it('keeps a closed promotion’s branch someone pushed to before the cleanup, and says so in history', async () => {
      const world = await start(provider, databaseId);
      const { id, branch } = (await world.as('ana').promote({ to: 'staging' }))
        .body;
      const crash = dieIn(world.repository, 'deleteBranch');
      sendAndDie(world.as('ana').act(id, 'close'));
      await crash.reached;
      let pushed: string;
      if (world.simulator) {
        pushed = await world.simulator.pushCommit(
          branch,
          { [STAGING]: shopOverlay('staging', '1.2.1') },
          'Try 1.2.1',
        );
      } else {
        const work = `${world.dir}-work`;
        git(world.dir, 'worktree', 'add', '-q', work, branch);
        git(work, 'config', 'user.email', 'ben@acme.example');
        git(work, 'config', 'user.name', 'Ben');
        writeFileSync(`${work}/${STAGING}`, shopOverlay('staging', '1.2.1'));
        git(work, 'commit', '-qam', 'Try 1.2.1');
        pushed = git(world.dir, 'rev-parse', branch);
      }

      await world.restart();
      expect(git(world.dir, 'rev-parse', branch)).toBe(pushed);
      const history = (
        await world.as('ana').get('/entities/component/default/shop/history')
      ).body.entries;
      expect(history[0]).toMatchObject({
        promotionId: id,
        action: 'changed',
        actor: 'system',
        comment: `The branch ${branch} was kept: it moved to ${pushed.slice(
          0,
          12,
        )}, which the promotion did not write`,
      });
    });
  },
);

describe('a promotion on GitHub after a crash', () => {
  it('has its pull request closed by the next sync when GitHub failed to close it', async () => {
    const world = await start('github', 'SQLITE_3');
    const { id } = (await world.as('ana').promote({ to: 'staging' })).body;
    world.simulator!.failNext(4, 503, 'pulls/update');
    const closed = await world.as('ana').act(id, 'close');
    expect(closed.status).toBe(200);
    expect(closed.body.state).toBe('closed');
    expect(world.simulator!.pullRequests()[0].state).toBe('open');

    await world.restart();
    expect(world.simulator!.pullRequests()[0]).toMatchObject({
      state: 'closed',
      merged: false,
    });
    expect(world.branches()).toBe('');
  });
});
