import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A commit of a fixture repository: new content per path, null to delete a file. */
export interface FixtureCommit {
  author?: string;
  /** ISO 8601 date of the commit. */
  date?: string;
  message: string;
  files: Record<string, string | null>;
}

/** Runs git in a repository and returns what it printed, trimmed. */
export function git(
  dir: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): string {
  return execFileSync('git', args, {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: 'pipe',
  })
    .toString()
    .trim();
}

/** Creates a Git repository (branch main) from a list of commits, in a new temporary directory. */
export function createGitFixture(
  commits: FixtureCommit[],
  options: { bare?: boolean } = {},
): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'github-simulator-'));
  git(work, ['init', '-q', '-b', 'main']);
  for (const commit of commits) appendCommit(work, commit);
  if (!options.bare) return work;
  const bare = `${work}.git`;
  git(os.tmpdir(), ['clone', '-q', '--bare', work, bare]);
  fs.rmSync(work, { recursive: true, force: true });
  return bare;
}

/** Adds one commit to the checked-out branch of a fixture repository; returns its id. */
export function appendCommit(dir: string, commit: FixtureCommit): string {
  for (const [file, content] of Object.entries(commit.files)) {
    const target = path.join(dir, file);
    if (content === null) fs.rmSync(target, { force: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, content);
    }
  }
  const author = commit.author ?? 'Ada Lovelace';
  const email = `${author.toLowerCase().replace(/\W+/g, '.')}@example.com`;
  const date = commit.date ?? '2026-01-01T00:00:00Z';
  const env = {
    GIT_AUTHOR_NAME: author,
    GIT_AUTHOR_EMAIL: email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: author,
    GIT_COMMITTER_EMAIL: email,
    GIT_COMMITTER_DATE: date,
  };
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '--allow-empty', '-m', commit.message], env);
  return git(dir, ['rev-parse', 'HEAD']);
}
