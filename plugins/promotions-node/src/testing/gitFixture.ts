import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** @public */
export interface FixtureCommit {
  author: string;
  email?: string;
  /** ISO 8601 date of the commit. */
  date: string;
  message: string;
  /** New content per path; null deletes the file. */
  files: Record<string, string | null>;
}

/**
 * Creates a real Git repository (branch main) from a list of commits, for tests.
 *
 * @public
 */
export function createGitFixture(
  commits: FixtureCommit[],
  dir?: string,
): string {
  const root =
    dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-fixture-'));
  const git = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    execFileSync('git', args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });
  git(['init', '-q', '-b', 'main']);
  for (const commit of commits) appendCommit(root, commit);
  return root;
}

/**
 * Adds one commit to a fixture repository and returns its id.
 *
 * @public
 */
export function appendCommit(root: string, commit: FixtureCommit): string {
  for (const [file, content] of Object.entries(commit.files)) {
    const target = path.join(root, file);
    if (content === null) fs.rmSync(target, { force: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, content);
    }
  }
  const email =
    commit.email ??
    `${commit.author.toLowerCase().replace(/\W+/g, '.')}@example.com`;
  const env = {
    GIT_AUTHOR_NAME: commit.author,
    GIT_AUTHOR_EMAIL: email,
    GIT_AUTHOR_DATE: commit.date,
    GIT_COMMITTER_NAME: commit.author,
    GIT_COMMITTER_EMAIL: email,
    GIT_COMMITTER_DATE: commit.date,
  };
  const run = (args: string[]) =>
    execFileSync('git', args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: 'pipe',
    });
  run(['add', '-A']);
  run(['commit', '-q', '--allow-empty', '-m', commit.message]);
  return run(['rev-parse', 'HEAD']).toString().trim();
}
