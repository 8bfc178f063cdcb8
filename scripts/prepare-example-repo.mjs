#!/usr/bin/env node
// Creates the example GitOps repository (a real, bare Git repository, which the portal writes to
// as it would to a remote one) by replaying examples/gitops/history.yaml: one commit per entry,
// with its author and a date relative to now. It is rebuilt only when history.yaml changed, so
// promotions merged through the portal are kept. Read it with `git -C .example-gitops log main`.
//
//   node scripts/prepare-example-repo.mjs [--dir <path>] [--force] [--now <ISO date>] [--history <file>]
//
//   --dir      where to create the repository (default: .example-gitops at the repository root)
//   --force    rebuild even when the repository is up to date, or replaces a directory it did not create
//   --now      the moment the history is dated from (default: now)
//   --history  the history to replay (default: examples/gitops/history.yaml)
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HASH_FILE = 'promotions-example-hash';
// Written while a build is under way, so an interrupted build is rebuilt on the next run.
const BUILDING = 'building';
const DAY_MS = 24 * 60 * 60 * 1000;

function fail(message) {
  console.error(`prepare-example-repo: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = {
    dir: path.join(root, '.example-gitops'),
    history: path.join(root, 'examples/gitops/history.yaml'),
    force: false,
    now: new Date(),
  };
  const value = (i, name, what) => {
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--'))
      fail(`${name} needs ${what}`);
    return next;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--force') options.force = true;
    else if (arg === '--dir')
      options.dir = path.resolve(value(i++, '--dir', 'a path'));
    else if (arg === '--history')
      options.history = path.resolve(value(i++, '--history', 'a file'));
    else if (arg === '--now') {
      const text = value(i++, '--now', 'an ISO date');
      options.now = new Date(text);
      if (Number.isNaN(options.now.getTime()))
        fail(`--now is not a date: "${text}"`);
    } else fail(`unknown argument ${arg}`);
  }
  return options;
}

/** A path the history may write: relative, inside the repository, and not into `.git`. */
function checkPath(file, where) {
  const segments = file.split('/');
  if (
    !file ||
    file.includes('\\') ||
    path.posix.isAbsolute(file) ||
    /^[a-zA-Z]:/.test(file) ||
    segments.some(
      segment =>
        segment === '' ||
        segment === '.' ||
        segment === '..' ||
        segment === '.git',
    )
  ) {
    fail(
      `${where}: "${file}" must be a relative path inside the repository (no "..", no ".git")`,
    );
  }
}

/**
 * Reads and checks the whole history before anything is written: every commit has an author,
 * a date no earlier than the previous commit's, a message, and files that change the tree.
 */
function readHistory(text, source) {
  let history;
  try {
    history = YAML.parse(text, { maxAliasCount: 100 });
  } catch (error) {
    fail(`${source} is not valid YAML: ${error.message}`);
  }
  if (!Array.isArray(history) || history.length === 0)
    fail(`${source} must be a non-empty list of commits`);

  const tree = new Map();
  let previousDaysAgo = Infinity;
  return history.map((commit, index) => {
    const where = `${source}, commit ${index + 1}`;
    if (!commit || typeof commit !== 'object' || Array.isArray(commit))
      fail(`${where}: must be a mapping`);
    const author = /^([^<>]+?) <([^<>\s]+@[^<>\s]+)>$/.exec(
      typeof commit.author === 'string' ? commit.author : '',
    );
    if (!author) fail(`${where}: author must be "Name <email>"`);
    if (
      typeof commit.daysAgo !== 'number' ||
      !Number.isFinite(commit.daysAgo) ||
      commit.daysAgo < 0
    ) {
      fail(`${where}: daysAgo must be a number >= 0`);
    }
    if (commit.daysAgo > previousDaysAgo) {
      fail(
        `${where}: daysAgo ${commit.daysAgo} is earlier than the previous commit's ${previousDaysAgo}`,
      );
    }
    previousDaysAgo = commit.daysAgo;
    if (typeof commit.message !== 'string' || !commit.message.trim())
      fail(`${where}: message is missing`);
    const files = commit.files;
    if (
      !files ||
      typeof files !== 'object' ||
      Array.isArray(files) ||
      Object.keys(files).length === 0
    ) {
      fail(`${where}: it changes no files`);
    }
    for (const [file, content] of Object.entries(files)) {
      checkPath(file, where);
      if (content === null) {
        if (!tree.has(file))
          fail(`${where}: deletes "${file}", which does not exist`);
        tree.delete(file);
      } else if (typeof content !== 'string') {
        fail(`${where}: "${file}" must be text, or null to delete it`);
      } else {
        if (tree.get(file) === content)
          fail(`${where}: "${file}" is written unchanged`);
        const clash = [...tree.keys()].find(
          other => file.startsWith(`${other}/`) || other.startsWith(`${file}/`),
        );
        if (clash)
          fail(`${where}: "${file}" and "${clash}" cannot both be files`);
        tree.set(file, content);
      }
    }
    return {
      authorName: author[1],
      authorEmail: author[2],
      daysAgo: commit.daysAgo,
      message: commit.message,
      files,
    };
  });
}

function git(dir, args, env = {}) {
  return execFileSync('git', args, {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .toString()
    .trim();
}

/** What is at `dir` now: nothing, a repository this script made, or something else. */
function inspect(dir, hashFile) {
  if (!fs.existsSync(dir)) return { state: 'missing' };
  if (fs.existsSync(hashFile))
    return { state: 'example', hash: fs.readFileSync(hashFile, 'utf8').trim() };
  // Made by an earlier version of this script, with a work tree: rebuilt bare.
  if (fs.existsSync(path.join(dir, '.git', HASH_FILE)))
    return { state: 'example', hash: 'a work tree' };
  if (fs.statSync(dir).isDirectory() && fs.readdirSync(dir).length === 0)
    return { state: 'missing' };
  return { state: 'other' };
}

function build(dir, hashFile, history, now) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(hashFile, `${BUILDING}\n`);
  // Replayed in a work tree of its own, then cloned bare: no branch is checked out where the
  // portal pushes.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'example-gitops-work-'));
  try {
    replay(work, history, now);
    fs.rmSync(dir, { recursive: true, force: true });
    git(path.dirname(dir), ['clone', '-q', '--bare', '--no-local', work, dir]);
    git(dir, ['remote', 'remove', 'origin']);
    git(dir, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
    fs.writeFileSync(hashFile, `${BUILDING}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function replay(dir, history, now) {
  git(dir, ['init', '-q']);
  git(dir, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
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
    const seconds = Math.round(
      (now.getTime() - commit.daysAgo * DAY_MS) / 1000,
    );
    const date = new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '--no-verify', '-m', commit.message], {
      GIT_AUTHOR_NAME: commit.authorName,
      GIT_AUTHOR_EMAIL: commit.authorEmail,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: commit.authorName,
      GIT_COMMITTER_EMAIL: commit.authorEmail,
      GIT_COMMITTER_DATE: date,
    });
  }
}

const options = parseArgs(process.argv.slice(2));
try {
  execFileSync('git', ['--version'], { stdio: 'ignore' });
} catch {
  fail(
    'git was not found on PATH; the example GitOps repository is a Git repository, so install Git first',
  );
}
if (!fs.existsSync(options.history)) fail(`${options.history} not found`);
const text = fs.readFileSync(options.history, 'utf8');
const source = path.relative(process.cwd(), options.history) || options.history;
const hash = crypto.createHash('sha256').update(text).digest('hex');
const hashFile = path.join(options.dir, HASH_FILE);
const target = path.relative(process.cwd(), options.dir) || '.';
const existing = inspect(options.dir, hashFile);

if (!options.force && existing.state === 'example' && existing.hash === hash) {
  console.log(
    `Example GitOps repository ${target} is up to date with ${source}; left as it is`,
  );
} else {
  if (!options.force && existing.state === 'other') {
    fail(
      `${target} exists and was not created by this script; remove it or pass --force to replace it`,
    );
  }
  const history = readHistory(text, source);
  try {
    build(options.dir, hashFile, history, options.now);
  } catch (error) {
    fail(
      `could not build ${target}: ${
        error.stderr?.toString().trim() || error.message
      }`,
    );
  }
  fs.writeFileSync(hashFile, `${hash}\n`);
  const summary = `example GitOps repository ${target} with ${history.length} commits`;
  if (existing.state !== 'example') console.log(`Created ${summary}`);
  else if (options.force) console.log(`Rebuilt ${summary} (--force)`);
  else if (existing.hash === BUILDING) {
    console.log(`Rebuilt ${summary} (the previous build was interrupted)`);
  } else console.log(`Rebuilt ${summary}, because ${source} changed`);
}
