#!/usr/bin/env node
// Creates the example GitOps repositories (real, bare Git repositories, which the portal writes to
// as it would to remote ones) by replaying a history: one commit per entry, with its author and a
// date relative to now, on branch main or the branch the entry names, tagged when it says so. A
// repository is rebuilt only when its history changed, so promotions merged through the portal are
// kept. Read one with `git -C .example-gitops log --all --decorate`.
//
//   node scripts/prepare-example-repo.mjs [--into <dir>] [--force] [--now <ISO date>]
//   node scripts/prepare-example-repo.mjs [--dir <path>] [--history <file>] [--force] [--now <ISO date>]
//
// Without --dir or --history, it prepares every example repository: .example-gitops from
// examples/gitops/history.yaml, and .example-gitops-env-<env> from each
// examples/gitops/environments/<env>.yaml (one repository per environment).
//
//   --into     where every example repository is created (default: the repository root)
//   --dir      where to create the one repository (default: .example-gitops at the repository root)
//   --history  the history to replay into it (default: examples/gitops/history.yaml)
//   --force    rebuild even when a repository is up to date, or replaces a directory it did not create
//   --now      the moment the history is dated from (default: now)
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
    dir: undefined,
    history: undefined,
    into: root,
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
    else if (arg === '--into')
      options.into = path.resolve(value(i++, '--into', 'a directory'));
    else if (arg === '--now') {
      const text = value(i++, '--now', 'an ISO date');
      options.now = new Date(text);
      if (Number.isNaN(options.now.getTime()))
        fail(`--now is not a date: "${text}"`);
    } else fail(`unknown argument ${arg}`);
  }
  return options;
}

/** The repositories to prepare: the one --dir or --history names, else every example one. */
function targets(options) {
  const main = path.join(root, 'examples/gitops/history.yaml');
  if (options.dir || options.history) {
    return [
      {
        dir: options.dir ?? path.join(root, '.example-gitops'),
        history: options.history ?? main,
      },
    ];
  }
  const environments = path.join(root, 'examples/gitops/environments');
  const perEnvironment = fs.existsSync(environments)
    ? fs
        .readdirSync(environments)
        .filter(file => file.endsWith('.yaml'))
        .sort()
        .map(file => ({
          dir: path.join(
            options.into,
            `.example-gitops-env-${path.basename(file, '.yaml')}`,
          ),
          history: path.join(environments, file),
        }))
    : [];
  return [
    { dir: path.join(options.into, '.example-gitops'), history: main },
    ...perEnvironment,
  ];
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
 * A branch or tag name that Git takes as it is and no command line mistakes for an option:
 * names of letters, digits, ".", "_" and "-" joined by "/", none starting with "-" or ".".
 */
function checkRefName(name, what, where) {
  const segments = typeof name === 'string' ? name.split('/') : [];
  if (
    typeof name !== 'string' ||
    !/^[A-Za-z0-9._/-]+$/.test(name) ||
    name.includes('..') ||
    name === 'HEAD' ||
    segments.some(
      segment =>
        segment === '' ||
        segment.startsWith('-') ||
        segment.startsWith('.') ||
        segment.endsWith('.') ||
        segment.endsWith('.lock'),
    )
  ) {
    fail(
      `${where}: ${what} ${JSON.stringify(
        name,
      )} is not a plain Git name (letters, digits, ".", "_", "-" and "/"; no "..", no name starting with "-" or ".")`,
    );
  }
}

/** A commit's tags: a name (lightweight), `{ name, message }` (annotated), or a list of them. */
function readTags(tag, where) {
  if (tag === undefined) return [];
  return (Array.isArray(tag) ? tag : [tag]).map(one => {
    if (typeof one === 'string') {
      checkRefName(one, 'tag', where);
      return { name: one };
    }
    if (!one || typeof one !== 'object' || Array.isArray(one))
      fail(`${where}: a tag must be a name or { name, message }`);
    checkRefName(one.name, 'tag', where);
    if (typeof one.message !== 'string' || !one.message.trim())
      fail(`${where}: the annotated tag "${one.name}" has no message`);
    return { name: one.name, message: one.message };
  });
}

/**
 * Reads and checks the whole history before anything is written: every commit has an author,
 * a date no earlier than the previous commit's, a message, and files that change its branch's
 * tree; a new branch starts from one that exists, and each tag name is used once.
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

  const trees = new Map();
  const tagNames = new Set();
  let previousDaysAgo = Infinity;
  const commits = history.map((commit, index) => {
    const where = `${source}, commit ${index + 1}`;
    if (!commit || typeof commit !== 'object' || Array.isArray(commit))
      fail(`${where}: must be a mapping`);
    const branch = commit.branch ?? 'main';
    checkRefName(branch, 'branch', where);
    let from;
    if (commit.from !== undefined) {
      checkRefName(commit.from, 'from', where);
      if (trees.has(branch))
        fail(
          `${where}: from applies only when a branch is created, and "${branch}" exists`,
        );
      from = commit.from;
    }
    if (!trees.has(branch)) {
      if (index === 0 && branch !== 'main')
        fail(`${where}: the first commit must be on main`);
      if (index > 0) {
        from ??= 'main';
        if (!trees.has(from))
          fail(
            `${where}: branch "${branch}" starts from "${from}", which has no commit yet`,
          );
        trees.set(branch, new Map(trees.get(from)));
      } else trees.set(branch, new Map());
    }
    const tree = trees.get(branch);
    const tags = readTags(commit.tag, where);
    for (const tag of tags) {
      if (tagNames.has(tag.name))
        fail(`${where}: the tag "${tag.name}" is already taken`);
      tagNames.add(tag.name);
    }
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
      branch,
      from,
      tags,
      files,
    };
  });
  const clash = commits.find(commit => tagNames.has(commit.branch));
  if (clash) fail(`${source}: "${clash.branch}" names both a branch and a tag`);
  return commits;
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
  git(dir, ['config', 'tag.gpgsign', 'false']);
  const branches = new Set(['main']);
  let current = 'main';
  for (const commit of history) {
    if (commit.branch !== current) {
      if (branches.has(commit.branch))
        git(dir, ['checkout', '-q', commit.branch]);
      else {
        git(dir, [
          'checkout',
          '-q',
          '-b',
          commit.branch,
          commit.from ?? 'main',
        ]);
        branches.add(commit.branch);
      }
      current = commit.branch;
    }
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
    const identity = {
      GIT_AUTHOR_NAME: commit.authorName,
      GIT_AUTHOR_EMAIL: commit.authorEmail,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: commit.authorName,
      GIT_COMMITTER_EMAIL: commit.authorEmail,
      GIT_COMMITTER_DATE: date,
    };
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '--no-verify', '-m', commit.message], identity);
    // An annotated tag is made by the commit's author, at the commit's date.
    for (const tag of commit.tags) {
      if (tag.message === undefined) git(dir, ['tag', tag.name]);
      else git(dir, ['tag', '-a', '-m', tag.message, tag.name], identity);
    }
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
for (const { dir, history } of targets(options)) prepare(dir, history);

function prepare(dir, historyFile) {
  if (!fs.existsSync(historyFile)) fail(`${historyFile} not found`);
  const text = fs.readFileSync(historyFile, 'utf8');
  const source = path.relative(process.cwd(), historyFile) || historyFile;
  const hash = crypto.createHash('sha256').update(text).digest('hex');
  const hashFile = path.join(dir, HASH_FILE);
  const target = path.relative(process.cwd(), dir) || '.';
  const existing = inspect(dir, hashFile);

  if (
    !options.force &&
    existing.state === 'example' &&
    existing.hash === hash
  ) {
    console.log(
      `Example GitOps repository ${target} is up to date with ${source}; left as it is`,
    );
    return;
  }
  if (!options.force && existing.state === 'other') {
    fail(
      `${target} exists and was not created by this script; remove it or pass --force to replace it`,
    );
  }
  const history = readHistory(text, source);
  try {
    build(dir, hashFile, history, options.now);
  } catch (error) {
    fail(
      `could not build ${target}: ${
        error.stderr?.toString().trim() || error.message
      }`,
    );
  }
  fs.writeFileSync(hashFile, `${hash}\n`);
  const branches = new Set(history.map(commit => commit.branch)).size;
  const tags = history.reduce((count, commit) => count + commit.tags.length, 0);
  const refs =
    branches > 1 || tags > 0 ? `, ${branches} branches and ${tags} tags` : '';
  const summary = `example GitOps repository ${target} with ${history.length} commits${refs}`;
  if (existing.state !== 'example') console.log(`Created ${summary}`);
  else if (options.force) console.log(`Rebuilt ${summary} (--force)`);
  else if (existing.hash === BUILDING) {
    console.log(`Rebuilt ${summary} (the previous build was interrupted)`);
  } else console.log(`Rebuilt ${summary}, because ${source} changed`);
}
