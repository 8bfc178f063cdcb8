import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A GitOps repository with one commit on main, and a git runner for it; for tests. */
export function testGitRepository() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scaffold-gitops-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, stdio: 'pipe' }).toString().trim();
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'README.md'), '# GitOps\n');
  /** Commits everything in the work tree on the current branch. */
  const commitAll = (message: string) => {
    git('add', '-A');
    git(
      '-c',
      'user.name=A',
      '-c',
      'user.email=a@example.com',
      'commit',
      '-qm',
      message,
    );
  };
  commitAll('init');
  return { dir, git, commitAll };
}
