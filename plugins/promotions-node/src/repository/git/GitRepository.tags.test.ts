import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { appendCommit, createGitFixture } from '@internal/promotions-fixtures';
import { GitRepository } from './GitRepository';

const logger = mockServices.logger.mock();

/** Runs git in a repository as its maintainer would, and returns what it printed. */
const gitIn =
  (dir: string) =>
  (...args: string[]) =>
    execFileSync(
      'git',
      ['-c', 'user.name=Ana', '-c', 'user.email=a@example.com', ...args],
      { cwd: dir, stdio: 'pipe' },
    )
      .toString()
      .trim();

/** A repository with two commits on main, the first tagged lightweight, the second annotated. */
function upstream() {
  const dir = createGitFixture([
    {
      author: 'Ana Lima',
      date: '2026-11-01T10:00:00Z',
      message: 'Lay out shop',
      files: { 'shop/base/kustomization.yaml': 'resources: []\n' },
    },
    {
      author: 'Ben Okafor',
      date: '2026-11-02T10:00:00Z',
      message: 'Deploy shop 1.1.0',
      files: { 'shop/overlays/prod/kustomization.yaml': 'newTag: 1.1.0\n' },
    },
  ]);
  const git = gitIn(dir);
  const [second, first] = git('rev-list', 'main').split('\n');
  git('tag', 'v1.0.0-prod', first);
  git('tag', '-a', '-m', 'Release 1.1.0', 'v1.1.0-prod', second);
  return { dir, git, first, second };
}

const byName = (tags: Array<{ name: string; commit: string }>) =>
  [...tags].sort((a, b) => a.name.localeCompare(b.name));

describe('GitRepository tags', () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-cache-'));
  const clone = (dir: string) =>
    new GitRepository({
      id: 'gitops',
      url: `file://${dir}`,
      branch: 'main',
      cacheDir: fs.mkdtempSync(path.join(cacheDir, 'tags-')),
      logger,
    });

  it('lists lightweight and annotated tags of a remote repository, annotated ones peeled to their commit', async () => {
    const { dir, git, first, second } = upstream();
    // A tag of a tag, and one off the branch, which the clone of main alone would not follow.
    git('tag', '-a', '-m', 'The same release', 'release-1.1.0', 'v1.1.0-prod');
    const side = appendCommit(dir, {
      author: 'Ben Okafor',
      date: '2026-11-03T10:00:00Z',
      message: 'Try a fix',
      files: { 'shop/overlays/stage/kustomization.yaml': 'newTag: 1.1.1\n' },
    });
    git('reset', '-q', '--hard', second);
    git('tag', 'v1.1.1-rc.1-stage', side);
    const annotated = git('rev-parse', 'refs/tags/v1.1.0-prod');
    expect(annotated).not.toBe(second);

    expect(byName(await clone(dir).tags())).toEqual([
      { name: 'release-1.1.0', commit: second },
      { name: 'v1.0.0-prod', commit: first },
      { name: 'v1.1.0-prod', commit: second },
      { name: 'v1.1.1-rc.1-stage', commit: side },
    ]);
  });

  it('sees a tag moved, deleted or created upstream at the next read', async () => {
    const { dir, git, first, second } = upstream();
    const repo = clone(dir);
    expect(byName(await repo.tags())).toEqual([
      { name: 'v1.0.0-prod', commit: first },
      { name: 'v1.1.0-prod', commit: second },
    ]);

    git('tag', '-f', 'v1.0.0-prod', second);
    git('tag', '-d', 'v1.1.0-prod');
    git('tag', '-a', '-m', 'Release 1.2.0', 'v1.2.0-prod', first);
    expect(byName(await repo.tags())).toEqual([
      { name: 'v1.0.0-prod', commit: second },
      { name: 'v1.2.0-prod', commit: first },
    ]);
    // Snapshots fetch only their branch: they neither bring a tag back nor lose one.
    await repo.snapshot();
    expect(byName(await repo.tags()).map(tag => tag.name)).toEqual([
      'v1.0.0-prod',
      'v1.2.0-prod',
    ]);
  });

  it('reads the tags of a local repository in place', async () => {
    const { dir, git, second } = upstream();
    const repo = new GitRepository({
      id: 'local',
      url: dir,
      branch: 'main',
      cacheDir,
      logger,
    });
    expect(await repo.tags()).toHaveLength(2);
    git('tag', 'v2-prod', second);
    expect(byName(await repo.tags()).map(tag => tag.name)).toEqual([
      'v1.0.0-prod',
      'v1.1.0-prod',
      'v2-prod',
    ]);
  });

  it('lists at most the limit asked for', async () => {
    const { dir, first } = upstream();
    execFileSync('git', ['update-ref', '--stdin'], {
      cwd: dir,
      input: Array.from(
        { length: 30 },
        (_, i) => `create refs/tags/build-${i} ${first}\n`,
      ).join(''),
    });
    const repo = clone(dir);
    expect(await repo.tags()).toHaveLength(32);
    expect(await repo.tags({ limit: 5 })).toHaveLength(5);
  });

  it('leaves out tags that name no commit or that a command line could take for an option, and keeps any other name as data', async () => {
    const { dir, git, first } = upstream();
    git('tag', 'tree-1', `${first}^{tree}`);
    git('update-ref', 'refs/tags/--upload-pack=touch', first);
    git('update-ref', 'refs/tags/-rf', first);
    git('update-ref', 'refs/tags/v1;touch${IFS}pwned', first);
    const names = byName(await clone(dir).tags()).map(tag => tag.name);
    expect(names).toEqual([
      'v1;touch${IFS}pwned',
      'v1.0.0-prod',
      'v1.1.0-prod',
    ]);
    expect(fs.existsSync(path.join(dir, 'pwned'))).toBe(false);
  });

  it('fails as a snapshot does when the remote cannot be read', async () => {
    const repo = clone(path.join(os.tmpdir(), 'promotions-no-such-repo'));
    await expect(repo.tags()).rejects.toThrow(
      'Repository gitops could not be fetched',
    );
  });
});
