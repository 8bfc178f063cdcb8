import fs from 'node:fs';
import path from 'node:path';
import { git } from './testing/gitFixture';
import { SimulatedGithub, useSimulators } from './testing/setup';

const PROD = 'shop/overlays/prod/kustomization.yaml';

/** What Octokit's RequestError tells of a refused request. */
interface Refusal {
  status: number;
  message: string;
  response?: { data: unknown };
}

/** The error an Octokit call fails with. */
async function failure(promise: Promise<unknown>): Promise<Refusal> {
  try {
    await promise;
  } catch (error) {
    return error as Refusal;
  }
  throw new Error('the request succeeded');
}

describe('pull requests', () => {
  const start = useSimulators();

  /** Commits a promotion on a new branch through the Git database, as the backend will. */
  async function promotionBranch(
    github: SimulatedGithub,
    branch: string,
    content: string,
  ) {
    const { bot, repo } = github;
    const main = await bot.git.getRef({ ...repo, ref: 'heads/main' });
    const base = main.data.object.sha;
    await bot.git.createRef({
      ...repo,
      ref: `refs/heads/${branch}`,
      sha: base,
    });
    const parent = await bot.git.getCommit({ ...repo, commit_sha: base });
    const blob = await bot.git.createBlob({
      ...repo,
      content,
      encoding: 'utf-8',
    });
    const tree = await bot.git.createTree({
      ...repo,
      base_tree: parent.data.tree.sha,
      tree: [
        { path: PROD, mode: '100644', type: 'blob', sha: blob.data.sha },
        {
          path: 'shop/overlays/prod/promotions/history.yaml',
          mode: '100644',
          type: 'blob',
          content: `- ${branch}\n`,
        },
      ],
    });
    const commit = await bot.git.createCommit({
      ...repo,
      message: `Promote shop to prod\n\nBranch ${branch}.`,
      tree: tree.data.sha,
      parents: [base],
      author: {
        name: 'Promotions',
        email: 'promotions@example.com',
        date: '2026-02-01T12:00:00Z',
      },
    });
    await bot.git.updateRef({
      ...repo,
      ref: `heads/${branch}`,
      sha: commit.data.sha,
    });
    return { base, commit: commit.data };
  }

  it('promotes through a branch, a reviewed pull request, gates and a merge', async () => {
    const github = await start();
    const { simulator, bot, alice, repo, repoDir } = github;
    const { base, commit } = await promotionBranch(
      github,
      'promote/shop-prod',
      'images:\n  - newTag: 1.1.0\n',
    );
    expect(commit.parents.map(p => p.sha)).toEqual([base]);
    expect(commit.author).toEqual({
      name: 'Promotions',
      email: 'promotions@example.com',
      date: '2026-02-01T12:00:00Z',
    });

    const created = await bot.pulls.create({
      ...repo,
      title: 'Promote shop 1.1.0 to prod',
      head: 'promote/shop-prod',
      base: 'main',
      body: 'Promotes what dev runs.',
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({
      number: 1,
      state: 'open',
      merged: false,
      user: { login: 'promotions-bot' },
      head: { ref: 'promote/shop-prod', sha: commit.sha },
      base: { ref: 'main', sha: base },
      commits: 1,
      changed_files: 2,
    });
    expect(created.data.html_url).toMatch(/\/acme\/gitops\/pull\/1$/);

    const selfApproval = await failure(
      bot.pulls.createReview({ ...repo, pull_number: 1, event: 'APPROVE' }),
    );
    expect(selfApproval.status).toBe(422);
    expect(selfApproval.response?.data).toMatchObject({
      errors: ['Can not approve your own pull request'],
    });
    const review = await alice.pulls.createReview({
      ...repo,
      pull_number: 1,
      event: 'APPROVE',
      body: 'Looks right.',
    });
    expect(review.data).toMatchObject({
      state: 'APPROVED',
      user: { login: 'alice' },
      commit_id: commit.sha,
    });
    const reviews = await bot.pulls.listReviews({ ...repo, pull_number: 1 });
    expect(reviews.data.map(r => [r.user?.login, r.state])).toEqual([
      ['alice', 'APPROVED'],
    ]);

    await simulator.setCheckRun(commit.sha, 'kustomize build', 'success');
    await simulator.setStatus('promote/shop-prod', 'ci/policy', 'pending');
    const checks = await bot.checks.listForRef({ ...repo, ref: commit.sha });
    expect(checks.data.check_runs).toEqual([
      expect.objectContaining({
        name: 'kustomize build',
        status: 'completed',
        conclusion: 'success',
        head_sha: commit.sha,
      }),
    ]);
    const pending = await bot.pulls.get({ ...repo, pull_number: 1 });
    expect(pending.data).toMatchObject({
      mergeable: true,
      mergeable_state: 'unstable',
    });
    await bot.repos.createCommitStatus({
      ...repo,
      sha: commit.sha,
      state: 'success',
      context: 'ci/policy',
    });
    const combined = await bot.repos.getCombinedStatusForRef({
      ...repo,
      ref: 'promote/shop-prod',
    });
    expect(combined.data).toMatchObject({
      state: 'success',
      sha: commit.sha,
      total_count: 1,
    });
    const ready = await bot.pulls.get({ ...repo, pull_number: 1 });
    expect(ready.data).toMatchObject({
      mergeable: true,
      mergeable_state: 'clean',
      head: { sha: commit.sha },
    });

    const merged = await bot.pulls.merge({
      ...repo,
      pull_number: 1,
      sha: commit.sha,
      merge_method: 'merge',
    });
    expect(merged.data).toMatchObject({ merged: true });
    const main = git(repoDir, ['rev-parse', 'refs/heads/main']);
    expect(merged.data.sha).toBe(main);
    expect(git(repoDir, ['rev-parse', `${main}^1`, `${main}^2`])).toBe(
      `${base}\n${commit.sha}`,
    );
    expect(git(repoDir, ['show', `main:${PROD}`])).toBe(
      'images:\n  - newTag: 1.1.0',
    );
    expect(git(repoDir, ['log', '-1', '--format=%s%n%b', main])).toBe(
      'Merge pull request #1 from acme/promote/shop-prod\nPromote shop 1.1.0 to prod',
    );
    const after = await bot.pulls.get({ ...repo, pull_number: 1 });
    expect(after.data).toMatchObject({
      state: 'closed',
      merged: true,
      merge_commit_sha: main,
      merged_by: { login: 'promotions-bot' },
    });
    expect(
      (await bot.pulls.checkIfMerged({ ...repo, pull_number: 1 })).status,
    ).toBe(204);
    const again = await failure(bot.pulls.merge({ ...repo, pull_number: 1 }));
    expect(again.status).toBe(405);
    expect(again.message).toContain('Pull Request is not mergeable');
    // The work tree of the repository served is left alone.
    expect(fs.readFileSync(path.join(repoDir, PROD), 'utf8')).toBe(
      'images:\n  - newTag: 1.0.0\n',
    );
    expect(
      fs.existsSync(
        path.join(repoDir, 'shop/overlays/prod/promotions/history.yaml'),
      ),
    ).toBe(false);
    expect(simulator.problems).toEqual([]);
  });

  it('refuses a merge with 409 when the head moved after the caller read it', async () => {
    const github = await start();
    const { simulator, bot, repo } = github;
    const { commit } = await promotionBranch(
      github,
      'promote/a',
      'images: a\n',
    );
    await bot.pulls.create({
      ...repo,
      title: 'A',
      head: 'promote/a',
      base: 'main',
    });
    const pushed = await simulator.pushCommit(
      'promote/a',
      { 'shop/overlays/prod/extra.yaml': 'extra: true\n' },
      'Someone pushes under the promotion',
    );
    const stale = await failure(
      bot.pulls.merge({ ...repo, pull_number: 1, sha: commit.sha }),
    );
    expect(stale.status).toBe(409);
    expect(stale.message).toContain(
      'Head branch was modified. Review and try the merge again.',
    );
    const pr = await bot.pulls.get({ ...repo, pull_number: 1 });
    expect(pr.data.head.sha).toBe(pushed);
    const merged = await bot.pulls.merge({
      ...repo,
      pull_number: 1,
      sha: pushed,
    });
    expect(merged.data.merged).toBe(true);
    expect(simulator.problems).toEqual([]);
  });

  it('refuses a merge with 405 when the branches conflict', async () => {
    const github = await start();
    const { simulator, bot, repo } = github;
    await promotionBranch(github, 'promote/b', 'images:\n  - newTag: 2.0.0\n');
    await bot.pulls.create({
      ...repo,
      title: 'B',
      head: 'promote/b',
      base: 'main',
    });
    await simulator.pushCommit(
      'main',
      { [PROD]: 'images:\n  - newTag: 0.9.0\n' },
      'A hotfix on main',
    );
    const pr = await bot.pulls.get({ ...repo, pull_number: 1 });
    expect(pr.data).toMatchObject({
      mergeable: false,
      mergeable_state: 'dirty',
    });
    const conflict = await failure(
      bot.pulls.merge({ ...repo, pull_number: 1 }),
    );
    expect(conflict.status).toBe(405);
    expect(conflict.message).toContain('Pull Request is not mergeable');
    expect(simulator.problems).toEqual([]);
  });

  it('refuses what GitHub refuses: a forced unmergeable state and pull requests without changes', async () => {
    const github = await start();
    const { simulator, bot, repo } = github;
    await promotionBranch(github, 'promote/c', 'images: c\n');
    const same = await failure(
      bot.pulls.create({ ...repo, title: 'Same', head: 'main', base: 'main' }),
    );
    expect(same.status).toBe(422);
    await bot.git.createRef({
      ...repo,
      ref: 'refs/heads/empty',
      sha: git(github.repoDir, ['rev-parse', 'main']),
    });
    const empty = await failure(
      bot.pulls.create({
        ...repo,
        title: 'Empty',
        head: 'empty',
        base: 'main',
      }),
    );
    expect(empty.response?.data).toMatchObject({
      message: 'Validation Failed',
      errors: [
        expect.objectContaining({
          message: 'No commits between main and empty',
        }),
      ],
    });
    await bot.pulls.create({
      ...repo,
      title: 'C',
      head: 'promote/c',
      base: 'main',
    });
    const twice = await failure(
      bot.pulls.create({
        ...repo,
        title: 'C again',
        head: 'acme:promote/c',
        base: 'main',
      }),
    );
    expect(twice.response?.data).toMatchObject({
      errors: [
        expect.objectContaining({
          message: 'A pull request already exists for acme:promote/c.',
        }),
      ],
    });
    simulator.setMergeable(1, false);
    expect(
      (await failure(bot.pulls.merge({ ...repo, pull_number: 1 }))).status,
    ).toBe(405);
    simulator.setMergeable(1, undefined);
    expect((await bot.pulls.merge({ ...repo, pull_number: 1 })).status).toBe(
      200,
    );
    expect(simulator.problems).toEqual([]);
  });

  it('squashes or rebases onto the base branch, keeping what each method keeps', async () => {
    const github = await start();
    const { simulator, bot, repo, repoDir } = github;
    await simulator.pushCommit(
      'promote/squash',
      { 'a.yaml': 'a: 1\n' },
      'Add a',
    );
    await simulator.pushCommit(
      'promote/squash',
      { 'b.yaml': 'b: 1\n' },
      'Add b',
    );
    await simulator.pushCommit(
      'promote/rebase',
      { 'c.yaml': 'c: 1\n' },
      'Add c\n\nWhy c.',
    );
    await simulator.pushCommit(
      'promote/rebase',
      { 'd.yaml': 'd: 1\n' },
      'Add d',
    );
    await simulator.pushCommit('main', { 'e.yaml': 'e: 1\n' }, 'Add e on main');
    await bot.pulls.create({
      ...repo,
      title: 'Squash me',
      head: 'promote/squash',
      base: 'main',
    });
    await bot.pulls.create({
      ...repo,
      title: 'Rebase me',
      head: 'promote/rebase',
      base: 'main',
    });

    const squashed = await bot.pulls.merge({
      ...repo,
      pull_number: 1,
      merge_method: 'squash',
    });
    expect(git(repoDir, ['rev-list', '--parents', '-1', 'main'])).toBe(
      `${squashed.data.sha} ${git(repoDir, ['rev-parse', 'main~1'])}`,
    );
    expect(git(repoDir, ['log', '-1', '--format=%B', 'main'])).toBe(
      'Squash me (#1)\n\n* Add a\n\n* Add b',
    );
    expect(git(repoDir, ['log', '-1', '--format=%an %cn', 'main'])).toBe(
      'promotions-bot GitHub',
    );

    const rebased = await bot.pulls.merge({
      ...repo,
      pull_number: 2,
      merge_method: 'rebase',
    });
    expect(
      git(repoDir, ['log', '--format=%s', '-3', 'main']).split('\n'),
    ).toEqual(['Add d', 'Add c', 'Squash me (#1)']);
    expect(rebased.data.sha).toBe(git(repoDir, ['rev-parse', 'main']));
    expect(
      git(repoDir, ['ls-tree', '--name-only', 'main']).split('\n'),
    ).toEqual(
      expect.arrayContaining([
        'a.yaml',
        'b.yaml',
        'c.yaml',
        'd.yaml',
        'e.yaml',
      ]),
    );
    expect(
      simulator
        .pullRequests()
        .map(pr => [pr.number, pr.merged, pr.mergeCommitSha]),
    ).toEqual([
      [1, true, squashed.data.sha],
      [2, true, rebased.data.sha],
    ]);
    expect(simulator.problems).toEqual([]);
  });

  it('lists pull requests by state, head and base, page by page, and edits, closes and reopens them', async () => {
    const { simulator, bot, alice, repo } = await start({
      firstPullRequestNumber: 40,
    });
    for (const name of ['one', 'two', 'three'])
      await simulator.pushCommit(
        `promote/${name}`,
        { [`${name}.yaml`]: 'x\n' },
        name,
      );
    for (const name of ['one', 'two', 'three'])
      await bot.pulls.create({
        ...repo,
        title: name,
        head: `promote/${name}`,
        base: 'main',
      });
    await bot.pulls.update({
      ...repo,
      pull_number: 41,
      state: 'closed',
      title: 'two, closed',
    });

    const titles = async (params: Record<string, string | number>) =>
      (await bot.pulls.list({ ...repo, ...params })).data.map(pr => [
        pr.number,
        pr.title,
      ]);
    expect(await titles({})).toEqual([
      [42, 'three'],
      [40, 'one'],
    ]);
    expect(await titles({ state: 'all', direction: 'asc' })).toEqual([
      [40, 'one'],
      [41, 'two, closed'],
      [42, 'three'],
    ]);
    expect(await titles({ state: 'closed' })).toEqual([[41, 'two, closed']]);
    expect(await titles({ head: 'acme:promote/three' })).toEqual([
      [42, 'three'],
    ]);
    expect(await titles({ base: 'release' })).toEqual([]);
    const first = await bot.pulls.list({ ...repo, state: 'all', per_page: 2 });
    expect(first.headers.link).toContain('page=2');
    expect(await titles({ state: 'all', per_page: 2, page: 2 })).toEqual([
      [40, 'one'],
    ]);

    const reopened = await bot.pulls.update({
      ...repo,
      pull_number: 41,
      state: 'open',
    });
    expect(reopened.data).toMatchObject({ state: 'open', closed_at: null });
    await alice.issues.createComment({
      ...repo,
      issue_number: 41,
      body: 'Why reopen?',
    });
    const comments = await bot.issues.listComments({
      ...repo,
      issue_number: 41,
    });
    expect(comments.data.map(c => [c.user?.login, c.body])).toEqual([
      ['alice', 'Why reopen?'],
    ]);
    const missing = await failure(
      bot.issues.listComments({ ...repo, issue_number: 7 }),
    );
    expect(missing.status).toBe(404);
    expect(simulator.problems).toEqual([]);
  });

  it("keeps reviews by the user each token maps to, and refuses changes requested on one's own", async () => {
    const { simulator, bot, alice, repo } = await start({
      defaultUser: { login: 'ci', id: 5 },
    });
    await simulator.pushCommit('promote/r', { 'r.yaml': 'r\n' }, 'r');
    await alice.pulls.create({
      ...repo,
      title: 'R',
      head: 'promote/r',
      base: 'main',
      draft: true,
    });
    const own = await failure(
      alice.pulls.createReview({
        ...repo,
        pull_number: 1,
        event: 'REQUEST_CHANGES',
        body: 'No',
      }),
    );
    expect(own.response?.data).toMatchObject({
      errors: ['Can not request changes on your own pull request'],
    });
    await bot.pulls.createReview({
      ...repo,
      pull_number: 1,
      event: 'REQUEST_CHANGES',
      body: 'Not yet',
    });
    await bot.pulls.createReview({
      ...repo,
      pull_number: 1,
      body: 'A draft review',
    });
    const pr = await bot.pulls.get({ ...repo, pull_number: 1 });
    expect(pr.data).toMatchObject({ draft: true, mergeable_state: 'draft' });
    expect(simulator.pullRequests()[0]).toMatchObject({
      user: 'alice',
      draft: true,
      reviews: [
        { user: 'promotions-bot', state: 'CHANGES_REQUESTED' },
        { user: 'promotions-bot', state: 'PENDING' },
      ],
    });
    expect(
      (await failure(bot.pulls.merge({ ...repo, pull_number: 1 }))).status,
    ).toBe(405);
    expect(simulator.problems).toEqual([]);
  });
});
