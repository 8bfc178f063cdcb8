// Tests of scripts/check-changesets.mjs, with Node's test runner, on small repositories of their own:
//   node --test scripts/check-changesets.test.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  changesetProblems,
  EMPTY_TREE,
  findMergeBase,
  lastRelease,
  isUserFacing,
  parseChangeset,
} from './check-changesets.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(
  fs.readFileSync(path.join(root, '.changeset/config.json'), 'utf8'),
);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'check-changesets-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let repos = 0;

const git = (dir, ...args) =>
  execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
    },
  }).trim();

function write(dir, files) {
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
}

/** A repository on main with one public and one private package and this repository's config, and a branch off it. */
function repository() {
  const dir = path.join(scratch, `repo-${++repos}`);
  fs.mkdirSync(dir);
  write(dir, {
    'package.json': JSON.stringify({
      private: true,
      workspaces: ['plugins/*', 'test/*'],
    }),
    '.changeset/config.json': JSON.stringify(config),
    '.changeset/README.md': '# Changesets\n',
    'plugins/tab/package.json': JSON.stringify({
      name: '@gitops-promotions/plugin-tab',
      version: '0.1.0',
    }),
    'plugins/tab/src/index.ts': 'export const tab = 1;\n',
    'test/fixtures/package.json': JSON.stringify({
      name: '@internal/fixtures',
      private: true,
    }),
    'test/fixtures/src/index.ts': 'export const shop = 1;\n',
  });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'First');
  git(dir, 'checkout', '-q', '-b', 'feature');
  return dir;
}

function commit(dir, files) {
  write(dir, files);
  git(dir, 'add', '.');
  git(dir, 'commit', '-q', '-m', 'Change');
}

const baseOf = dir => findMergeBase(dir, 'main').base;

test('on main, as in a clean clone, there is no merge base', () => {
  const dir = repository();
  git(dir, 'checkout', '-q', 'main');
  assert.deepEqual(findMergeBase(dir, 'main'), {
    ref: 'main',
    base: undefined,
  });
  assert.deepEqual(findMergeBase(dir, 'trunk'), {
    ref: undefined,
    base: undefined,
  });
});

test('on main, the pending changesets must name every package changed since the last release', () => {
  const dir = repository();
  git(dir, 'checkout', '-q', 'main');
  assert.equal(lastRelease(dir), undefined);
  // Nothing released yet: every public package needs a pending changeset.
  assert.deepEqual(changesetProblems(dir, EMPTY_TREE), [
    '@gitops-promotions/plugin-tab changed (plugins/tab: package.json, src/index.ts), but no pending changeset names it: run yarn changeset',
  ]);
  commit(dir, {
    '.changeset/first.md':
      "---\n'@gitops-promotions/plugin-tab': minor\n---\n\nThe first tab.\n",
  });
  assert.deepEqual(changesetProblems(dir, EMPTY_TREE), []);
  // A release consumes the changesets; a later source change needs a new one.
  fs.rmSync(path.join(dir, '.changeset/first.md'));
  commit(dir, { 'plugins/tab/CHANGELOG.md': '# 0.2.0\n' });
  const release = lastRelease(dir);
  assert.equal(release, git(dir, 'rev-parse', 'HEAD'));
  assert.deepEqual(changesetProblems(dir, release), []);
  commit(dir, { 'plugins/tab/src/index.ts': 'export const tab = 3;\n' });
  assert.deepEqual(changesetProblems(dir, lastRelease(dir)), [
    '@gitops-promotions/plugin-tab changed (plugins/tab: src/index.ts), but no pending changeset names it: run yarn changeset',
  ]);
});

test('a public package changed without a changeset is named', () => {
  const dir = repository();
  commit(dir, { 'plugins/tab/src/index.ts': 'export const tab = 2;\n' });
  assert.deepEqual(changesetProblems(dir, baseOf(dir)), [
    '@gitops-promotions/plugin-tab changed (plugins/tab: src/index.ts), but no pending changeset names it: run yarn changeset',
  ]);
});

test('a changeset naming the package, committed or only added, answers for it', () => {
  const dir = repository();
  commit(dir, { 'plugins/tab/src/index.ts': 'export const tab = 2;\n' });
  write(dir, {
    '.changeset/tab-two.md':
      "---\n'@gitops-promotions/plugin-tab': patch\n---\n\nThe tab counts to two.\n",
  });
  git(dir, 'add', '.changeset/tab-two.md');
  assert.deepEqual(changesetProblems(dir, baseOf(dir)), []);
});

test('a changeset naming another package does not answer for this one', () => {
  const dir = repository();
  commit(dir, {
    'plugins/tab/src/index.ts': 'export const tab = 2;\n',
    'plugins/card/package.json': JSON.stringify({
      name: '@gitops-promotions/plugin-card',
      version: '0.1.0',
    }),
    '.changeset/card.md':
      "---\n'@gitops-promotions/plugin-card': minor\n---\n\nA card.\n",
  });
  assert.deepEqual(changesetProblems(dir, baseOf(dir)), [
    '@gitops-promotions/plugin-tab changed (plugins/tab: src/index.ts), but no pending changeset names it: run yarn changeset',
  ]);
});

test('tests, API reports and private packages need no changeset', () => {
  const dir = repository();
  commit(dir, {
    'plugins/tab/src/index.test.ts': 'it("works", () => {});\n',
    'plugins/tab/report.api.md': '# report\n',
    'test/fixtures/src/index.ts': 'export const shop = 2;\n',
  });
  assert.deepEqual(changesetProblems(dir, baseOf(dir)), []);
});

test('an empty changeset says the branch releases nothing', () => {
  const dir = repository();
  commit(dir, {
    'plugins/tab/src/index.ts': 'export const tab = 2;\n',
    '.changeset/nothing.md': '---\n---\n',
  });
  assert.deepEqual(changesetProblems(dir, baseOf(dir)), []);
});

test('a changeset naming an unknown package or bump, or saying nothing, is refused', () => {
  const dir = repository();
  commit(dir, {
    'plugins/tab/src/index.ts': 'export const tab = 2;\n',
    '.changeset/wrong.md':
      "---\n'@gitops-promotions/plugin-tabs': minor\n'@gitops-promotions/plugin-tab': huge\n---\n\nText.\n",
    '.changeset/silent.md':
      "---\n'@gitops-promotions/plugin-tab': patch\n---\n",
  });
  assert.deepEqual(changesetProblems(dir, baseOf(dir)), [
    '.changeset/silent.md does not say what the change means for users',
    '.changeset/wrong.md names @gitops-promotions/plugin-tabs, not a public package',
    '.changeset/wrong.md bumps @gitops-promotions/plugin-tab by huge, not major, minor, patch, none',
  ]);
});

test("this repository's changesets parse and its patterns tell source from tests", () => {
  for (const file of fs.readdirSync(path.join(root, '.changeset'))) {
    if (!file.endsWith('.md') || file === 'README.md') continue;
    const changeset = parseChangeset(
      fs.readFileSync(path.join(root, '.changeset', file), 'utf8'),
    );
    assert.ok(changeset?.releases.length, `${file} names no package`);
    assert.ok(changeset.summary, `${file} says nothing`);
  }
  const patterns = config.changedFilePatterns;
  assert.ok(isUserFacing('src/service/router.ts', patterns));
  assert.ok(isUserFacing('migrations/20260101_init.js', patterns));
  assert.ok(isUserFacing('config.d.ts', patterns));
  assert.ok(!isUserFacing('src/service/router.test.ts', patterns));
  assert.ok(!isUserFacing('src/workflow/__testUtils__/backend.ts', patterns));
  assert.ok(!isUserFacing('report-alpha.api.md', patterns));
});
