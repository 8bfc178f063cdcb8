import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { ConflictError } from '@backstage/errors';
import { appendCommit, createGitFixture } from '@internal/promotions-fixtures';
import { GitRepository } from './GitRepository';

const logger = mockServices.logger.mock();
const author = { name: 'Promotions Bot', email: 'promotions@example.com' };
const git = (dir: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: dir }).toString().trim();

/** A bare repository, as a GitOps repository served to the backend is, with one service. */
function bareFixture() {
  const work = createGitFixture([
    {
      author: 'Ana Lima',
      date: '2026-11-01T10:00:00Z',
      message: 'Lay out payment',
      files: {
        'payment/overlays/dev/kustomization.yaml':
          'images:\n  - newTag: "1.0.0"\n',
        'payment/overlays/prod/kustomization.yaml':
          'images:\n  - newTag: "1.0.0"\n',
        'README.md': '# GitOps\n',
      },
    },
  ]);
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-bare-'));
  execFileSync('git', ['clone', '-q', '--bare', work, bare]);
  return { work, bare };
}

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-cache-'));

describe.each([
  ['a local bare repository', (bare: string) => bare],
  [
    'a remote repository (cloned, then pushed to)',
    (bare: string) => `file://${bare}`,
  ],
])('GitRepository writes to %s', (_, urlOf) => {
  function setup() {
    const { bare } = bareFixture();
    const repo = new GitRepository({
      id: 'gitops',
      url: urlOf(bare),
      branch: 'main',
      cacheDir,
      logger,
    });
    return { bare, repo };
  }

  it('commits file changes on a new branch, leaving the base branch as it was', async () => {
    const { bare, repo } = setup();
    const base = await repo.snapshot();
    await repo.createBranch('promote/payment/prod', base.commit);
    const commit = await repo.commitFiles({
      branch: 'promote/payment/prod',
      parent: base.commit,
      message: 'Promote payment 1.1.0 to prod',
      author,
      changes: [
        {
          path: 'payment/overlays/prod/kustomization.yaml',
          content: Buffer.from('images:\n  - newTag: "1.1.0"\n'),
        },
        { path: 'README.md', content: null },
      ],
    });
    expect(git(bare, 'rev-parse', 'refs/heads/promote/payment/prod')).toBe(
      commit,
    );
    expect(git(bare, 'rev-parse', 'refs/heads/main')).toBe(base.commit);
    expect(
      git(bare, 'show', `${commit}:payment/overlays/prod/kustomization.yaml`),
    ).toContain('1.1.0');
    expect(git(bare, 'log', '-1', '--format=%an <%ae>|%s', commit)).toBe(
      'Promotions Bot <promotions@example.com>|Promote payment 1.1.0 to prod',
    );
    expect(await repo.branchHead('promote/payment/prod')).toBe(commit);
    const after = await repo.snapshotAt(commit);
    expect(after.files.has('README.md')).toBe(false);

    const comparison = await repo.compare(base.commit, commit);
    expect(comparison.commits.map(c => c.sha)).toEqual([commit]);
    expect(comparison.behindBy).toBe(0);
    expect(comparison.files.sort()).toEqual([
      'README.md',
      'payment/overlays/prod/kustomization.yaml',
    ]);
  });

  it('refuses to create a branch twice, or to commit on a branch that moved', async () => {
    const { repo } = setup();
    const base = await repo.snapshot();
    await repo.createBranch('promote/x', base.commit);
    await expect(repo.createBranch('promote/x', base.commit)).rejects.toThrow(
      ConflictError,
    );
    const first = await repo.commitFiles({
      branch: 'promote/x',
      parent: base.commit,
      message: 'first',
      author,
      changes: [{ path: 'a.txt', content: Buffer.from('a') }],
    });
    // A second writer that still believes the branch is at the base is refused.
    await expect(
      repo.commitFiles({
        branch: 'promote/x',
        parent: base.commit,
        message: 'second',
        author,
        changes: [{ path: 'b.txt', content: Buffer.from('b') }],
      }),
    ).rejects.toThrow(ConflictError);
    expect(await repo.branchHead('promote/x')).toBe(first);
  });

  it('merges with the expected head only: fast-forward, merge commit, conflict and stale head', async () => {
    const { repo } = setup();
    const base = await repo.snapshot();
    await repo.createBranch('promote/dev', base.commit);
    const dev = await repo.commitFiles({
      branch: 'promote/dev',
      parent: base.commit,
      message: 'dev to 1.1.0',
      author,
      changes: [
        {
          path: 'payment/overlays/dev/kustomization.yaml',
          content: Buffer.from('images:\n  - newTag: "1.1.0"\n'),
        },
      ],
    });
    const stale = repo.merge({
      source: 'promote/dev',
      expectedHead: base.commit,
      target: 'main',
      message: 'm',
      author,
    });
    await expect(stale).rejects.toThrow('changed since it was reviewed');

    // Nothing moved on main: a fast-forward.
    expect(
      await repo.merge({
        source: 'promote/dev',
        expectedHead: dev,
        target: 'main',
        message: 'Merge dev',
        author,
      }),
    ).toBe(dev);
    expect(await repo.branchHead('main')).toBe(dev);

    // main moves under a second request: the merge makes a merge commit with both parents.
    await repo.createBranch('promote/prod', base.commit);
    const prod = await repo.commitFiles({
      branch: 'promote/prod',
      parent: base.commit,
      message: 'prod to 1.1.0',
      author,
      changes: [
        {
          path: 'payment/overlays/prod/kustomization.yaml',
          content: Buffer.from('images:\n  - newTag: "1.1.0"\n'),
        },
      ],
    });
    const merged = await repo.merge({
      source: 'promote/prod',
      expectedHead: prod,
      target: 'main',
      message: 'Merge prod',
      author,
    });
    const snapshot = await repo.snapshot();
    expect(snapshot.commit).toBe(merged);
    expect(
      (await snapshot.readFile(
        'payment/overlays/prod/kustomization.yaml',
      ))!.toString(),
    ).toContain('1.1.0');
    expect(
      (await snapshot.readFile(
        'payment/overlays/dev/kustomization.yaml',
      ))!.toString(),
    ).toContain('1.1.0');

    // A request that edits the same line as what main now holds conflicts, and main stays.
    await repo.createBranch('promote/conflict', base.commit);
    const conflicting = await repo.commitFiles({
      branch: 'promote/conflict',
      parent: base.commit,
      message: 'prod to 0.9.0',
      author,
      changes: [
        {
          path: 'payment/overlays/prod/kustomization.yaml',
          content: Buffer.from('images:\n  - newTag: "0.9.0"\n'),
        },
      ],
    });
    await expect(
      repo.merge({
        source: 'promote/conflict',
        expectedHead: conflicting,
        target: 'main',
        message: 'x',
        author,
      }),
    ).rejects.toThrow('conflicts with main');
    expect(await repo.branchHead('main')).toBe(merged);

    await expect(
      repo.deleteBranch('promote/conflict', base.commit),
    ).rejects.toThrow(ConflictError);
    await repo.deleteBranch('promote/conflict', conflicting);
    expect(await repo.branchHead('promote/conflict')).toBeUndefined();
  });

  it('writes below a directory that has files beside it, and refuses a file or link in the way', async () => {
    const { repo } = setup();
    const base = await repo.snapshot();
    await repo.createBranch('promote/payment/staging', base.commit);
    const commit = await repo.commitFiles({
      branch: 'promote/payment/staging',
      parent: base.commit,
      message: 'Add staging',
      author,
      changes: [
        {
          path: 'payment/overlays/staging/kustomization.yaml',
          content: Buffer.from('images:\n  - newTag: "1.1.0"\n'),
        },
        {
          path: 'payment/argocd.yaml',
          content: Buffer.from('kind: Application\n'),
        },
      ],
    });
    // The next change under payment/overlays/ has payment/argocd.yaml and README.md beside it.
    const next = await repo.commitFiles({
      branch: 'promote/payment/staging',
      parent: commit,
      message: 'Promote payment 1.2.0 to staging',
      author,
      changes: [
        {
          path: 'payment/overlays/staging/kustomization.yaml',
          content: Buffer.from('images:\n  - newTag: "1.2.0"\n'),
        },
      ],
    });
    expect(
      (await repo.snapshotAt(next)).files.has(
        'payment/overlays/staging/kustomization.yaml',
      ),
    ).toBe(true);

    for (const [change, file] of [
      ['README.md/x.yaml', 'README.md'],
      ['payment/argocd.yaml/a/b', 'payment/argocd.yaml'],
    ]) {
      await expect(
        repo.commitFiles({
          branch: 'promote/payment/staging',
          parent: next,
          message: 'm',
          author,
          changes: [{ path: change, content: Buffer.from('x') }],
        }),
      ).rejects.toThrow(
        `has a file or link at ${file}, where the change needs a directory`,
      );
    }
    expect(await repo.branchHead('promote/payment/staging')).toBe(next);
  });

  it('refuses branch names and paths that could reach outside the repository', async () => {
    const { repo } = setup();
    const base = await repo.snapshot();
    await expect(repo.createBranch('../main', base.commit)).rejects.toThrow(
      'not a valid branch name',
    );
    await expect(repo.createBranch('-f', base.commit)).rejects.toThrow(
      'not a valid branch name',
    );
    await repo.createBranch('ok', base.commit);
    for (const bad of [
      '../x',
      '.git/config',
      'a/../../b',
      '/etc/passwd',
      'a\nb',
    ]) {
      await expect(
        repo.commitFiles({
          branch: 'ok',
          parent: base.commit,
          message: 'm',
          author,
          changes: [{ path: bad, content: Buffer.from('x') }],
        }),
      ).rejects.toThrow('is not a path inside the repository');
    }
    await expect(
      repo.commitFiles({
        branch: 'ok',
        parent: base.commit,
        message: 'm',
        author: { name: 'Eve <evil@x>', email: 'e@x' },
        changes: [{ path: 'a', content: Buffer.from('x') }],
      }),
    ).rejects.toThrow('is not a valid commit author');
  });
});

describe('GitRepository on a local repository with a work tree', () => {
  it('refuses to move the branch that is checked out, and writes other branches', async () => {
    const { work } = bareFixture();
    const repo = new GitRepository({
      id: 'work',
      url: work,
      branch: 'main',
      cacheDir,
      logger,
    });
    const base = await repo.snapshot();
    await repo.createBranch('side', base.commit);
    await expect(
      repo.merge({
        source: 'side',
        expectedHead: base.commit,
        target: 'main',
        message: 'm',
        author,
      }),
    ).rejects.toThrow('is checked out in a work tree');
    expect(git(work, 'status', '--porcelain')).toBe('');
  });
});

describe('GitRepository history', () => {
  it('answers from its index exactly what git log answers, also below a commit and since one', async () => {
    const dir = createGitFixture([
      {
        author: 'A',
        date: '2026-10-01T00:00:00Z',
        message: 'one',
        files: { 'a/x.yaml': '1', 'b/y.yaml': '1' },
      },
    ]);
    const shas = [git(dir, 'rev-parse', 'HEAD')];
    for (let i = 2; i <= 12; i++) {
      const file = ['a/x.yaml', 'b/y.yaml', 'a/sub/z.yaml'][i % 3];
      const files: Record<string, string> = { [file]: String(i) };
      shas.push(
        appendCommit(dir, {
          author: `Author ${i}`,
          date: `2026-10-${String(i).padStart(2, '0')}T00:00:00Z`,
          message: `commit ${i} (#${i})`,
          files,
        }),
      );
    }
    // A side branch merged back, so that reachability matters for `since`.
    git(dir, 'checkout', '-q', '-b', 'side', shas[5]);
    const side = appendCommit(dir, {
      author: 'Side',
      date: '2026-10-20T00:00:00Z',
      message: 'side',
      files: { 'a/side.yaml': 's' },
    });
    git(dir, 'checkout', '-q', 'main');
    execFileSync(
      'git',
      [
        '-c',
        'user.name=M',
        '-c',
        'user.email=m@x',
        'merge',
        '-q',
        '--no-ff',
        '-m',
        'merge side',
        side,
      ],
      { cwd: dir },
    );

    const repo = new GitRepository({
      id: 'h',
      url: dir,
      branch: 'main',
      cacheDir,
      logger,
    });
    const head = (await repo.snapshot()).commit;
    const direct = (
      commit: string,
      paths: string[],
      limit: number,
      since?: string,
    ) =>
      git(
        dir,
        'log',
        `--max-count=${limit}`,
        '--format=%H',
        since ? `${since}..${commit}` : commit,
        '--',
        ...paths,
      )
        .split('\n')
        .filter(Boolean);
    const cases: Array<[string[], number, string | undefined]> = [
      [['a'], 20, undefined],
      [['a/x.yaml'], 2, undefined],
      [['b/y.yaml', 'a/sub'], 5, undefined],
      [['a/sub/z.yaml'], 1, undefined],
      [['missing'], 5, undefined],
      [['a'], 20, shas[5]],
      [['a', 'b'], 20, shas[8]],
      [['b'], 20, side],
    ];
    for (const [paths, limit, since] of cases) {
      const answer = await repo.history(head, paths, limit, { since });
      expect(answer.map(c => c.sha)).toEqual(direct(head, paths, limit, since));
    }
    // Below an older commit, git log answers directly.
    const older = await repo.history(shas[6], ['a'], 10);
    expect(older.map(c => c.sha)).toEqual(direct(shas[6], ['a'], 10));
    expect(older[0]).toMatchObject({
      authorName: 'Author 6',
      message: 'commit 6 (#6)',
    });
  });
});
