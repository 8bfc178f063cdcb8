import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { appendCommit, createGitFixture } from '@internal/promotions-fixtures';
import { GitRepository } from './GitRepository';

const logger = mockServices.logger.mock();

function fixture() {
  return createGitFixture([
    {
      author: 'Ana Lima',
      date: '2026-11-01T10:00:00Z',
      message: 'Lay out payment',
      files: {
        'payment/base/deployment.yaml': 'kind: Deployment\n',
        'README.md': '# GitOps\n',
      },
    },
    {
      author: 'Ben Okafor',
      date: '2026-11-02T10:00:00Z',
      message: 'Promote payment 1.1.0 to dev (#12)',
      files: {
        'payment/overlays/dev/kustomization.yaml': 'resources: [../../base]\n',
      },
    },
  ]);
}

/** Runs git in a fixture as its author would. */
const gitIn =
  (dir: string) =>
  (...args: string[]) =>
    execFileSync(
      'git',
      ['-c', 'user.name=Ana', '-c', 'user.email=a@example.com', ...args],
      { cwd: dir, stdio: 'pipe' },
    ).toString();

describe('GitRepository', () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-cache-'));
  const open = (dir: string) =>
    new GitRepository({
      id: 'local',
      url: dir,
      branch: 'main',
      cacheDir,
      logger,
    });

  it('reads the tree and files of the branch head of a local repository', async () => {
    const dir = fixture();
    const repo = new GitRepository({
      id: 'local',
      url: dir,
      branch: 'main',
      cacheDir,
      logger,
    });
    const snapshot = await repo.snapshot();
    expect([...snapshot.files.keys()].sort()).toEqual([
      'README.md',
      'payment/base/deployment.yaml',
      'payment/overlays/dev/kustomization.yaml',
    ]);
    expect(snapshot.files.get('README.md')!.size).toBe(9);
    expect(
      (await snapshot.readFile('payment/base/deployment.yaml'))!.toString(),
    ).toBe('kind: Deployment\n');
    expect(await snapshot.readFile('missing.yaml')).toBeUndefined();
  });

  it('lists the history of paths newest first, with authors and dates', async () => {
    const dir = fixture();
    const repo = new GitRepository({
      id: 'local',
      url: dir,
      branch: 'main',
      cacheDir,
      logger,
    });
    const { commit } = await repo.snapshot();
    const all = await repo.history(commit, ['payment'], 10);
    expect(all.map(c => [c.authorName, c.authoredAt, c.message])).toEqual([
      [
        'Ben Okafor',
        '2026-11-02T10:00:00.000Z',
        'Promote payment 1.1.0 to dev (#12)',
      ],
      ['Ana Lima', '2026-11-01T10:00:00.000Z', 'Lay out payment'],
    ]);
    expect(
      await repo.history(commit, ['payment/base/deployment.yaml'], 10),
    ).toHaveLength(1);
    expect(await repo.history(commit, ['payment'], 1)).toHaveLength(1);
    // Paths are literal, never git pathspec magic or options.
    expect(await repo.history(commit, ['*'], 10)).toHaveLength(0);
    expect(await repo.history(commit, ['--all'], 10)).toHaveLength(0);
  });

  it('counts a renamed file in the history of the path it was renamed from, as git log -- <path> does', async () => {
    const dir = fixture();
    const git = gitIn(dir);
    fs.writeFileSync(
      path.join(dir, 'payment/base/deployment.yaml'),
      Array.from({ length: 40 }, (_, i) => `line: ${i}\n`).join(''),
    );
    git('commit', '-qam', 'Grow');
    git('mv', 'payment/base/deployment.yaml', 'payment/base/workload.yaml');
    git('commit', '-qm', 'Rename');
    const repo = open(dir);
    const { commit } = await repo.snapshot();
    for (const file of [
      'payment/base/deployment.yaml',
      'payment/base/workload.yaml',
    ]) {
      expect((await repo.history(commit, [file], 10)).map(c => c.sha)).toEqual(
        git('log', '--format=%H', commit, '--', file)
          .split('\n')
          .filter(Boolean),
      );
    }
  });

  it('follows only the parent a merge kept, as git log -- <path> does, through merges that equal a parent', async () => {
    const dir = fixture();
    const git = gitIn(dir);
    const write = (file: string, content: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    };
    git('checkout', '-q', '-b', 'dropped');
    write('payment/base/deployment.yaml', 'dropped: 1\n');
    git('commit', '-qam', 'Change the base on a branch the merge drops');
    git('checkout', '-q', 'main');
    write('payment/base/deployment.yaml', 'kept: 1\n');
    git('commit', '-qam', 'Change the base on main');
    git('merge', '-q', '-s', 'ours', '-m', 'Merge, keeping main', 'dropped');
    git('checkout', '-q', '-b', 'current');
    write('payment/overlays/dev/extra.yaml', 'a: 1\n');
    git('add', '-A');
    git('commit', '-qm', 'Add a file on an up-to-date branch');
    git('checkout', '-q', 'main');
    git(
      'merge',
      '-q',
      '--no-ff',
      '-m',
      'Merge the up-to-date branch',
      'current',
    );
    git('checkout', '-q', '-b', 'both');
    write('payment/overlays/dev/kustomization.yaml', 'both: 1\n');
    git('commit', '-qam', 'Change dev on a branch');
    git('checkout', '-q', 'main');
    write('README.md', '# GitOps, again\n');
    git('commit', '-qam', 'Change the readme on main');
    git('merge', '-q', '--no-ff', '-m', 'Merge both sides', 'both');
    const repo = open(dir);
    const { commit } = await repo.snapshot();
    for (const paths of [
      ['payment/base/deployment.yaml'],
      ['payment/base'],
      ['payment/overlays/dev'],
      ['payment/overlays/dev/extra.yaml'],
      ['README.md'],
      ['payment'],
      ['payment/base', 'README.md'],
    ]) {
      expect({
        paths,
        shas: (await repo.history(commit, paths, 30)).map(c => c.sha),
      }).toEqual({
        paths,
        shas: git('log', '--format=%H', commit, '--', ...paths)
          .split('\n')
          .filter(Boolean),
      });
    }
  });

  it('reads commit messages holding any byte git allows', async () => {
    const dir = fixture();
    appendCommit(dir, {
      author: 'Chen Wei',
      date: '2026-11-03T10:00:00Z',
      message: 'Odd\x1e message\n\nwith a body',
      files: { 'payment/overlays/dev/kustomization.yaml': 'resources: []\n' },
    });
    const repo = new GitRepository({
      id: 'local',
      url: dir,
      branch: 'main',
      cacheDir,
      logger,
    });
    const [latest] = await repo.history(
      (
        await repo.snapshot()
      ).commit,
      ['payment'],
      1,
    );
    expect(latest).toMatchObject({
      authorName: 'Chen Wei',
      message: 'Odd\x1e message\n\nwith a body',
    });
  });

  it('reads an older commit as it was', async () => {
    const dir = fixture();
    const repo = new GitRepository({
      id: 'local',
      url: dir,
      branch: 'main',
      cacheDir,
      logger,
    });
    const { commit } = await repo.snapshot();
    const [, first] = await repo.history(commit, ['payment'], 10);
    const old = await repo.snapshotAt(first.sha);
    expect(old.files.has('payment/overlays/dev/kustomization.yaml')).toBe(
      false,
    );
    await expect(repo.snapshotAt('HEAD~1')).rejects.toThrow(
      'is not a commit id',
    );
  });

  it('clones a repository given by URL and fetches new commits on the next snapshot', async () => {
    const dir = fixture();
    const repo = new GitRepository({
      id: 'remote',
      url: `file://${dir}`,
      branch: 'main',
      cacheDir,
      logger,
    });
    const first = await repo.snapshot();
    const next = appendCommit(dir, {
      author: 'Chen Wei',
      date: '2026-11-03T10:00:00Z',
      message: 'Promote payment 1.2.0 to dev',
      files: { 'payment/overlays/dev/version.txt': '1.2.0\n' },
    });
    const second = await repo.snapshot();
    expect(second.commit).toBe(next);
    expect(second.commit).not.toBe(first.commit);
    expect(second.files.has('payment/overlays/dev/version.txt')).toBe(true);
  });

  it('says clearly when the repository or branch does not exist', async () => {
    const missing = new GitRepository({
      id: 'gone',
      url: '/nonexistent/repo',
      branch: 'main',
      cacheDir,
      logger,
    });
    const error = await missing.snapshot().catch(e => e);
    expect(error.message).toBe(
      'Repository gone does not exist or is not readable',
    );
    // Local paths go to the log, never into an answer a user may see.
    expect(error.message).not.toContain('/nonexistent');
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('/nonexistent/repo'),
    );
    const noBranch = new GitRepository({
      id: 'local',
      url: fixture(),
      branch: 'release',
      cacheDir,
      logger,
    });
    await expect(noBranch.snapshot()).rejects.toThrow(
      'branch "release" not found',
    );
    expect(
      () =>
        new GitRepository({
          id: 'x',
          url: fixture(),
          branch: '--upload-pack=evil',
          cacheDir,
          logger,
        }),
    ).toThrow('not a valid branch name');
  });
});
