#!/usr/bin/env node
// Creates the example GitOps repository (a real Git repository) by replaying
// examples/gitops/history.yaml: one commit per entry, with its author and a date relative to now.
// It is rebuilt only when history.yaml changed, so commits made through the portal are kept.
//
//   node scripts/prepare-example-repo.mjs [--dir <path>] [--force] [--now <ISO date>]
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HASH_FILE = 'promotions-example-hash';

function fail(message) {
  console.error(`prepare-example-repo: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { dir: path.join(root, '.example-gitops'), force: false, now: new Date() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--force') options.force = true;
    else if (arg === '--dir') options.dir = path.resolve(argv[++i] ?? fail('--dir needs a path'));
    else if (arg === '--now') {
      options.now = new Date(argv[++i] ?? fail('--now needs an ISO date'));
      if (Number.isNaN(options.now.getTime())) fail('--now is not a date');
    } else fail(`unknown argument ${arg}`);
  }
  return options;
}

/** Reads and checks the history: every commit has an author, a date, a message and files. */
function readHistory(text) {
  let history;
  try {
    history = YAML.parse(text, { maxAliasCount: 100 });
  } catch (error) {
    fail(`examples/gitops/history.yaml is not valid YAML: ${error.message}`);
  }
  if (!Array.isArray(history) || history.length === 0) fail('history.yaml must be a non-empty list of commits');
  history.forEach((commit, index) => {
    const where = `commit ${index + 1} of history.yaml`;
    const author = /^(.+?) <([^>]+)>$/.exec(commit?.author ?? '');
    if (!author) fail(`${where}: author must be "Name <email>"`);
    if (typeof commit.daysAgo !== 'number' || commit.daysAgo < 0) fail(`${where}: daysAgo must be a number >= 0`);
    if (typeof commit.message !== 'string' || !commit.message.trim()) fail(`${where}: message is missing`);
    const files = commit.files;
    if (!files || typeof files !== 'object' || Object.keys(files).length === 0) fail(`${where}: it changes no files`);
    for (const [file, content] of Object.entries(files)) {
      if (path.isAbsolute(file) || file.split('/').includes('..') || file.split('/').includes('.git')) {
        fail(`${where}: "${file}" must be a relative path inside the repository`);
      }
      if (content !== null && typeof content !== 'string') fail(`${where}: "${file}" must be text or null`);
    }
    commit.authorName = author[1];
    commit.authorEmail = author[2];
  });
  return history;
}

function git(dir, args, env = {}) {
  return execFileSync('git', args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

function build(dir, history, now) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['config', 'commit.gpgsign', 'false']);
  for (const commit of history) {
    for (const [file, content] of Object.entries(commit.files)) {
      const target = path.join(dir, file);
      if (content === null) fs.rmSync(target, { force: true });
      else {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, content);
      }
    }
    const date = new Date(now.getTime() - commit.daysAgo * 24 * 60 * 60 * 1000).toISOString();
    const identity = {
      GIT_AUTHOR_NAME: commit.authorName,
      GIT_AUTHOR_EMAIL: commit.authorEmail,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: commit.authorName,
      GIT_COMMITTER_EMAIL: commit.authorEmail,
      GIT_COMMITTER_DATE: date,
    };
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', commit.message], identity);
  }
}

const options = parseArgs(process.argv.slice(2));
try {
  execFileSync('git', ['--version'], { stdio: 'ignore' });
} catch {
  fail('git is not installed; the example repository is a Git repository');
}
const text = fs.readFileSync(path.join(root, 'examples/gitops/history.yaml'), 'utf8');
const hash = crypto.createHash('sha256').update(text).digest('hex');
const hashFile = path.join(options.dir, '.git', HASH_FILE);
const current = fs.existsSync(hashFile) ? fs.readFileSync(hashFile, 'utf8').trim() : undefined;
const relative = path.relative(process.cwd(), options.dir) || '.';

if (!options.force && current === hash) {
  console.log(`Example GitOps repository ${relative} is up to date`);
} else {
  const history = readHistory(text);
  build(options.dir, history, options.now);
  fs.writeFileSync(hashFile, `${hash}\n`);
  console.log(`Created example GitOps repository ${relative} with ${history.length} commits`);
}
