// Tests of scripts/prepare-example-repo.mjs, with Node's test runner:
//   node --test scripts/prepare-example-repo.test.mjs
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(root, 'scripts/prepare-example-repo.mjs');
const historyFile = path.join(root, 'examples/gitops/history.yaml');
const history = YAML.parse(fs.readFileSync(historyFile, 'utf8'));
const now = '2026-11-25T12:00:00.000Z';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'example-gitops-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => path.join(scratch, `repo-${++dirs}`);

/** Runs the script; returns its exit code and output instead of throwing. */
function run(args, env = process.env) {
  const result = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    env,
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}
function runOk(...args) {
  const result = run(args);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}
const git = (dir, ...args) =>
  execFileSync('git', args, { cwd: dir, encoding: 'utf8' });

/** A commit on main made as the portal makes them: without a work tree. */
function portalCommit(dir, message) {
  const tree = git(dir, 'rev-parse', 'HEAD^{tree}').trim();
  const commit = git(
    dir,
    '-c',
    'user.name=Portal',
    '-c',
    'user.email=portal@example.com',
    'commit-tree',
    tree,
    '-p',
    'HEAD',
    '-m',
    message,
  ).trim();
  git(dir, 'update-ref', 'refs/heads/main', commit);
}

/** The tree that replaying the history in memory gives. */
function replayed(commits) {
  const tree = new Map();
  for (const commit of commits) {
    for (const [file, content] of Object.entries(commit.files)) {
      if (content === null) tree.delete(file);
      else tree.set(file, content);
    }
  }
  return tree;
}

// One repository built from the real history, shared by the tests that only read it.
const built = freshDir();
const firstRun = runOk('--dir', built, '--now', now);

test('creates the repository with one commit per history entry, on branch main', () => {
  assert.match(
    firstRun,
    new RegExp(
      `^Created example GitOps repository .* with ${history.length} commits\\n$`,
    ),
  );
  assert.equal(
    Number(git(built, 'rev-list', '--count', 'HEAD').trim()),
    history.length,
  );
  assert.equal(git(built, 'symbolic-ref', '--short', 'HEAD').trim(), 'main');
  // Bare, so that the portal may push to main as to a remote repository.
  assert.equal(git(built, 'rev-parse', '--is-bare-repository').trim(), 'true');
  assert.equal(
    git(built, 'remote').trim(),
    '',
    'no trace of where it was built',
  );
});

test('gives every commit its author, message and a date counted back from --now', () => {
  const log = git(
    built,
    'log',
    '--reverse',
    '--format=%an <%ae>%x1f%aI%x1f%cI%x1f%s',
  )
    .trim()
    .split('\n');
  assert.equal(log.length, history.length);
  history.forEach((commit, i) => {
    const [author, authorDate, committerDate, subject] = log[i].split('\x1f');
    assert.equal(author, commit.author, `author of commit ${i + 1}`);
    assert.equal(subject, commit.message, `message of commit ${i + 1}`);
    const expected = Date.parse(now) - commit.daysAgo * 86_400_000;
    assert.ok(
      Math.abs(Date.parse(authorDate) - expected) <= 500,
      `date of commit ${i + 1}: ${authorDate}`,
    );
    assert.equal(committerDate, authorDate);
    assert.ok(Date.parse(authorDate) < Date.parse(now), 'dated in the past');
  });
  const authors = new Set(git(built, 'log', '--format=%ae').trim().split('\n'));
  assert.ok(
    authors.size >= 4,
    `several authors, got ${[...authors].join(', ')}`,
  );
});

test('ends with exactly the files the history leaves, with their content', () => {
  const expected = replayed(history);
  const tracked = git(built, 'ls-tree', '-r', '--name-only', 'HEAD')
    .trim()
    .split('\n')
    .sort();
  assert.deepEqual(tracked, [...expected.keys()].sort());
  for (const [file, content] of expected) {
    assert.equal(git(built, 'show', `HEAD:${file}`), content, file);
  }
});

test('deletes the files a commit sets to null', () => {
  const file = path.join(scratch, 'history-with-deletion.yaml');
  const author = 'Ana Lima <ana@example.com>';
  fs.writeFileSync(
    file,
    YAML.stringify([
      {
        author,
        daysAgo: 2,
        message: 'Add two',
        files: { 'a/one.yaml': 'one: 1\n', 'a/two.yaml': 'two: 2\n' },
      },
      {
        author,
        daysAgo: 1,
        message: 'Remove one (#2)',
        files: { 'a/one.yaml': null },
      },
    ]),
  );
  const dir = freshDir();
  runOk('--dir', dir, '--history', file, '--now', now);
  assert.deepEqual(
    git(dir, 'ls-tree', '-r', '--name-only', 'HEAD').trim().split('\n'),
    ['a/two.yaml'],
  );
  assert.equal(
    git(dir, 'show', '--format=', '--name-status', 'HEAD').trim(),
    'D\ta/one.yaml',
  );
});

test('names a pull request in most commit messages', () => {
  const subjects = git(built, 'log', '--format=%s').trim().split('\n');
  const withPullRequest = subjects.filter(s =>
    /Merge pull request #\d+ |\(#\d+\)$/.test(s),
  );
  assert.ok(
    withPullRequest.length >= subjects.length * 0.75,
    `${withPullRequest.length} of ${subjects.length}`,
  );
});

test('leaves each example environment at the version the demo shows', () => {
  const read = file => YAML.parse(git(built, 'show', `HEAD:${file}`));
  const kustomizeTag = (file, image) =>
    read(file).images.find(i => i.name === image).newTag;
  const patchedImage = file =>
    read(file).spec.template.spec.containers.find(c => c.name === 'checkout')
      .image;

  assert.equal(
    kustomizeTag(
      'payment/overlays/dev/kustomization.yaml',
      'ghcr.io/acme/payment',
    ),
    '1.5.0',
  );
  assert.equal(
    kustomizeTag(
      'payment/overlays/staging/kustomization.yaml',
      'ghcr.io/acme/payment',
    ),
    '1.5.0',
  );
  const prod = read('payment/overlays/prod/kustomization.yaml').images[0];
  assert.equal(prod.newTag, '1.4.2');
  assert.match(prod.digest, /^sha256:[0-9a-f]{64}$/);

  const checkout = {
    qa: '2.8.0',
    'staging-us': '2.8.0',
    'staging-eu': '2.7.1',
    'prod-us': '2.7.1',
    'prod-eu': '2.7.1',
  };
  for (const [env, version] of Object.entries(checkout)) {
    assert.equal(
      patchedImage(`checkout/envs/${env}/version.yml`),
      `ghcr.io/acme/checkout:${version}`,
      env,
    );
  }

  const catalogApi = { dev: '3.2.0', staging: '3.1.0', prod: '3.1.0' };
  for (const [env, version] of Object.entries(catalogApi)) {
    assert.equal(
      read(`charts/catalog-api/values-${env}.yaml`).image.tag,
      version,
      env,
    );
  }

  const orders = { dev: '4.2.0', staging: '4.2.0', prod: '3.9.0' };
  for (const [env, version] of Object.entries(orders)) {
    assert.equal(
      kustomizeTag(
        `orders/overlays/${env}/kustomization.yaml`,
        'ghcr.io/acme/orders',
      ),
      version,
      env,
    );
  }
  const stagingTags = git(
    built,
    'log',
    '--reverse',
    '-p',
    '--format=',
    '--',
    'orders/overlays/staging/kustomization.yaml',
  )
    .split('\n')
    .filter(line => line.startsWith('+') && line.includes('newTag'))
    .map(line => line.match(/"([^"]+)"/)[1]);
  assert.deepEqual(
    [...new Set(stagingTags)],
    ['3.9.0', '4.0.0', '4.1.0', '4.2.0'],
  );
});

test('leaves an up-to-date repository as it is, keeping commits made since', () => {
  const dir = freshDir();
  runOk('--dir', dir, '--now', now);
  portalCommit(dir, 'Promote from the portal');

  assert.match(runOk('--dir', dir), /is up to date/);
  assert.equal(
    git(dir, 'log', '-1', '--format=%s').trim(),
    'Promote from the portal',
  );
  assert.equal(
    Number(git(dir, 'rev-list', '--count', 'HEAD').trim()),
    history.length + 1,
  );
});

test('rebuilds when the history changed, when a build was interrupted, and with --force', () => {
  const dir = freshDir();
  const hashFile = path.join(dir, 'promotions-example-hash');
  runOk('--dir', dir, '--now', now);
  const head = git(dir, 'rev-parse', 'HEAD');
  portalCommit(dir, 'extra');

  fs.writeFileSync(hashFile, 'a hash of an older history\n');
  assert.match(
    runOk('--dir', dir, '--now', now),
    /^Rebuilt example GitOps repository .* with \d+ commits, because .*history\.yaml changed\n$/,
  );
  assert.equal(
    Number(git(dir, 'rev-list', '--count', 'HEAD').trim()),
    history.length,
  );
  assert.equal(
    git(dir, 'rev-parse', 'HEAD'),
    head,
    'the same history and clock give the same commits',
  );

  fs.writeFileSync(hashFile, 'building\n');
  assert.match(
    runOk('--dir', dir, '--now', now),
    /^Rebuilt .* \(the previous build was interrupted\)\n$/,
  );
  assert.match(
    runOk('--dir', dir, '--now', now, '--force'),
    /^Rebuilt .* \(--force\)\n$/,
  );
  assert.match(runOk('--dir', dir), /is up to date/);
});

test('refuses to replace a directory it did not create, unless forced', () => {
  const dir = freshDir();
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
  const refused = run(['--dir', dir, '--now', now]);
  assert.notEqual(refused.status, 0);
  assert.match(
    refused.stderr,
    /was not created by this script; remove it or pass --force/,
  );
  assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine\n');

  assert.match(
    runOk('--dir', dir, '--now', now, '--force'),
    /with \d+ commits/,
  );
  assert.equal(fs.existsSync(path.join(dir, 'notes.txt')), false);
});

test('refuses an invalid history with a clear message and creates nothing', () => {
  const base = {
    author: 'Ana Lima <ana@example.com>',
    daysAgo: 3,
    message: 'Lay out',
    files: { 'a.yaml': 'a: 1\n' },
  };
  const cases = [
    ['not YAML', 'foo: [unclosed', /is not valid YAML/],
    ['not a list', { a: 1 }, /must be a non-empty list of commits/],
    [
      'a commit with no files',
      [{ ...base, files: {} }],
      /commit 1: it changes no files/,
    ],
    [
      'an absolute path',
      [{ ...base, files: { '/etc/passwd': 'x\n' } }],
      /"\/etc\/passwd" must be a relative path/,
    ],
    [
      'a path with ..',
      [{ ...base, files: { 'payment/../../x.yaml': 'x\n' } }],
      /"payment\/\.\.\/\.\.\/x\.yaml" must be a relative path/,
    ],
    [
      'a path into .git',
      [{ ...base, files: { '.git/hooks/post-commit': 'x\n' } }],
      /must be a relative path/,
    ],
    [
      'an author without email',
      [{ ...base, author: 'Ana Lima' }],
      /author must be "Name <email>"/,
    ],
    [
      'a negative daysAgo',
      [{ ...base, daysAgo: -1 }],
      /daysAgo must be a number >= 0/,
    ],
    [
      'dates going backwards',
      [base, { ...base, daysAgo: 5, files: { 'a.yaml': 'a: 2\n' } }],
      /commit 2: daysAgo 5 is earlier/,
    ],
    [
      'a commit that changes nothing',
      [base, { ...base, daysAgo: 2 }],
      /commit 2: "a\.yaml" is written unchanged/,
    ],
    [
      'deleting a missing file',
      [{ ...base, files: { 'b.yaml': null } }],
      /deletes "b\.yaml", which does not exist/,
    ],
    ['no message', [{ ...base, message: ' ' }], /message is missing/],
    [
      'a file where a directory is',
      [{ ...base, files: { 'a.yaml': 'a: 1\n', 'a.yaml/b.yaml': 'b: 1\n' } }],
      /"a\.yaml\/b\.yaml" and "a\.yaml" cannot both be files/,
    ],
  ];
  for (const [name, content, message] of cases) {
    const file = path.join(scratch, `history-${dirs}.yaml`);
    fs.writeFileSync(
      file,
      typeof content === 'string' ? content : YAML.stringify(content),
    );
    const dir = freshDir();
    const result = run(['--dir', dir, '--history', file, '--now', now]);
    assert.notEqual(result.status, 0, name);
    assert.match(result.stderr, message, name);
    assert.equal(fs.existsSync(dir), false, `${name}: nothing created`);
  }
});

test('says so when git is missing', () => {
  const emptyPath = fs.mkdtempSync(path.join(scratch, 'no-git-'));
  const result = run(['--dir', freshDir()], {
    ...process.env,
    PATH: emptyPath,
  });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /git was not found on PATH/);
});

test('refuses bad arguments with a clear message', () => {
  assert.match(
    run(['--now', 'yesterday']).stderr,
    /--now is not a date: "yesterday"/,
  );
  assert.match(run(['--bogus']).stderr, /unknown argument --bogus/);
  assert.match(run(['--dir']).stderr, /--dir needs a path/);
  assert.match(
    run(['--history', path.join(scratch, 'missing.yaml')]).stderr,
    /missing\.yaml not found/,
  );
});

test('rebuilds, bare, a repository an earlier version made with a work tree', () => {
  const dir = freshDir();
  fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
  git(dir, 'init', '-q');
  fs.writeFileSync(path.join(dir, '.git', 'promotions-example-hash'), 'old\n');
  assert.match(
    runOk('--dir', dir, '--now', now),
    /^Rebuilt example GitOps repository/,
  );
  assert.equal(git(dir, 'rev-parse', '--is-bare-repository').trim(), 'true');
  assert.equal(fs.existsSync(path.join(dir, '.git')), false);
});
