import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGitFixture, FixtureCommit } from '@internal/promotions-fixtures';

/** A bare copy of a fixture history: a repository promotions may write to. */
export function bareRepository(history: FixtureCommit[]): string {
  const work = createGitFixture(history);
  const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-bare-'));
  execFileSync('git', ['clone', '-q', '--bare', work, bare]);
  return bare;
}

/** Runs git in a repository and answers its output. */
export const git = (dir: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: dir, stdio: 'pipe' }).toString().trim();

/** Merges a pull request the way GitHub does: a branch with one commit, merged with --no-ff. */
export function mergePullRequest(
  dir: string,
  number: number,
  files: Record<string, string>,
) {
  const run = (args: string[], date: string) =>
    execFileSync('git', args, {
      cwd: dir,
      stdio: 'pipe',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Dana Ruiz',
        GIT_AUTHOR_EMAIL: 'dana.ruiz@example.com',
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: 'GitHub',
        GIT_COMMITTER_EMAIL: 'noreply@github.com',
        GIT_COMMITTER_DATE: date,
      },
    });
  run(['checkout', '-q', '-b', `pr-${number}`], '2026-11-01T09:00:00Z');
  for (const [file, content] of Object.entries(files))
    fs.writeFileSync(path.join(dir, file), content);
  run(
    ['commit', '-q', '-am', 'Promote shop 1.2.0 to prod'],
    '2026-11-01T09:00:00Z',
  );
  run(['checkout', '-q', 'main'], '2026-11-01T10:00:00Z');
  run(
    [
      'merge',
      '-q',
      '--no-ff',
      '-m',
      `Merge pull request #${number} from acme/pr-${number}`,
      `pr-${number}`,
    ],
    '2026-11-01T10:00:00Z',
  );
}

/**
 * Pushes a commit to a branch of a repository from a clone, as someone outside the portal
 * would; answers the commit.
 */
export function pushToBranch(
  dir: string,
  branch: string,
  files: Record<string, string>,
  message: string,
): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-push-'));
  execFileSync('git', ['clone', '-q', '--branch', branch, dir, work]);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(work, file)), { recursive: true });
    fs.writeFileSync(path.join(work, file), content);
  }
  git(work, 'add', '-A');
  git(
    work,
    '-c',
    'user.name=Ben',
    '-c',
    'user.email=ben@acme.example',
    'commit',
    '-qm',
    message,
  );
  git(work, 'push', '-q', 'origin', branch);
  return git(work, 'rev-parse', 'HEAD');
}
