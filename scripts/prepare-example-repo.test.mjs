// Tests of scripts/prepare-example-repo.mjs, with Node's test runner.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(root, 'scripts/prepare-example-repo.mjs');
const history = YAML.parse(fs.readFileSync(path.join(root, 'examples/gitops/history.yaml'), 'utf8'));
const now = '2026-11-25T12:00:00.000Z';

const run = (...args) => execFileSync('node', [script, ...args], { encoding: 'utf8' });
const git = (dir, ...args) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'example-gitops-'));

test('replays every commit with its author and date', () => {
  const dir = path.join(tmp(), 'repo');
  assert.match(run('--dir', dir, '--now', now), /Created example GitOps repository .* with \d+ commits/);
  const log = git(dir, 'log', '--reverse', '--format=%an <%ae>|%aI|%s').split('\n');
  assert.equal(log.length, history.length);
  history.forEach((commit, i) => {
    const [author, date, subject] = log[i].split('|');
    assert.equal(author, commit.author);
    assert.equal(subject, commit.message);
    const expected = new Date(Date.parse(now) - commit.daysAgo * 86_400_000);
    assert.equal(new Date(date).getTime(), expected.getTime());
  });
  assert.ok(new Set(history.map(c => c.author)).size >= 3, 'several authors');
});

test('the final tree is the history replayed', () => {
  const dir = path.join(tmp(), 'repo');
  run('--dir', dir, '--now', now);
  const expected = new Map();
  for (const commit of history) {
    for (const [file, content] of Object.entries(commit.files)) {
      if (content === null) expected.delete(file);
      else expected.set(file, content);
    }
  }
  const tracked = git(dir, 'ls-files').split('\n').sort();
  assert.deepEqual(tracked, [...expected.keys()].sort());
  for (const [file, content] of expected) {
    assert.equal(git(dir, 'show', `HEAD:${file}`), content.trimEnd());
  }
});

test('keeps an up-to-date repository, with commits made since, and rebuilds when the history changed', () => {
  const dir = path.join(tmp(), 'repo');
  run('--dir', dir, '--now', now);
  fs.writeFileSync(path.join(dir, 'extra.txt'), 'made through the portal\n');
  git(dir, 'add', '-A');
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qm', 'extra'], { cwd: dir });
  assert.match(run('--dir', dir, '--now', now), /is up to date/);
  assert.equal(git(dir, 'log', '-1', '--format=%s'), 'extra');

  fs.writeFileSync(path.join(dir, '.git', 'promotions-example-hash'), 'stale\n');
  assert.match(run('--dir', dir, '--now', now), /Created/);
  assert.equal(Number(git(dir, 'rev-list', '--count', 'HEAD')), history.length);
  assert.match(run('--dir', dir, '--force', '--now', now), /Created/);
});

test('refuses bad arguments with a clear message', () => {
  assert.throws(() => execFileSync('node', [script, '--now', 'yesterday'], { stdio: 'pipe' }), /--now is not a date/);
  assert.throws(() => execFileSync('node', [script, '--bogus'], { stdio: 'pipe' }), /unknown argument --bogus/);
});
