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
// The commits of main: the entries that name no other branch.
const onMain = history.filter(commit => (commit.branch ?? 'main') === 'main');
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

test('creates the repository with one commit per history entry, those of main on branch main', () => {
  assert.match(
    firstRun,
    new RegExp(
      `^Created example GitOps repository .* with ${history.length} commits, 4 branches and \\d+ tags\\n$`,
    ),
  );
  assert.equal(
    Number(git(built, 'rev-list', '--count', '--all').trim()),
    history.length,
  );
  assert.equal(
    Number(git(built, 'rev-list', '--count', 'HEAD').trim()),
    onMain.length,
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
  assert.equal(log.length, onMain.length);
  onMain.forEach((commit, i) => {
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

test('ends with exactly the files the history leaves on main, with their content', () => {
  const expected = replayed(onMain);
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

test('leaves the branch, tag and Argo CD examples at the versions the demo shows', () => {
  const read = (ref, file) => YAML.parse(git(built, 'show', `${ref}:${file}`));
  const newTag = (ref, file) => read(ref, file).images[0].newTag;

  // inventory: one branch per environment, each started from the one before.
  assert.deepEqual(
    git(built, 'branch', '--format=%(refname:short)').trim().split('\n'),
    ['env/dev', 'env/prod', 'env/staging', 'main'],
  );
  const inventory = { dev: '2.3.0', staging: '2.2.0', prod: '2.1.0' };
  for (const [env, version] of Object.entries(inventory)) {
    assert.equal(
      newTag(`env/${env}`, 'inventory/deploy/kustomization.yaml'),
      version,
      env,
    );
  }
  assert.equal(newTag('main', 'inventory/deploy/kustomization.yaml'), '2.0.0');
  const forkOf = (a, b) => git(built, 'merge-base', a, b).trim();
  assert.equal(
    git(built, 'log', '-1', '--format=%s', forkOf('env/dev', 'env/staging')),
    'Deploy inventory to dev from its branch env/dev\n',
  );

  // search: the newest tag of each environment names the commit it runs.
  const newest = env =>
    git(built, 'tag', '--list', `v*-${env}`, '--sort=-version:refname')
      .split('\n')[0]
      .trim();
  const search = { dev: '1.4.0', staging: '1.3.0', prod: '1.2.0' };
  for (const [env, version] of Object.entries(search)) {
    assert.equal(newest(env), `v${version}-${env}`);
    assert.equal(
      newTag(newest(env), 'search/deploy/kustomization.yaml'),
      version,
      env,
    );
  }
  // CI's dev tags are lightweight; a promotion's tag is annotated by who promoted.
  assert.equal(git(built, 'cat-file', '-t', 'v1.4.0-dev').trim(), 'commit');
  assert.equal(git(built, 'cat-file', '-t', 'v1.3.0-staging').trim(), 'tag');
  assert.equal(
    git(built, 'tag', '-l', '--format=%(contents:subject)', 'v1.2.0-prod'),
    'Promote search 1.2.0 to prod\n',
  );

  // billing: staging's version from the ApplicationSet, dev's from its values, prod's from the chart.
  const elements = read('main', 'argocd/billing-applicationset.yaml').spec
    .generators[0].list.elements;
  assert.deepEqual(
    elements.map(element => [element.env, element.version]),
    [
      ['dev', ''],
      ['staging', '2.4.1'],
      ['prod', ''],
    ],
  );
  assert.equal(read('main', 'billing/envs/dev/values.yaml').image.tag, '2.5.0');
  assert.equal(read('main', 'billing/envs/prod/values.yaml').image, undefined);
  assert.equal(read('main', 'billing/chart/values.yaml').image.tag, '');
  assert.equal(read('main', 'billing/chart/Chart.yaml').appVersion, '2.4.0');
});

test('prepares every example repository without --dir, one per environment history too', () => {
  const into = freshDir();
  fs.mkdirSync(into);
  const output = runOk('--into', into, '--now', now);
  const environments = { dev: '1.8.0', staging: '1.8.0', prod: '1.7.0' };
  for (const env of Object.keys(environments).sort()) {
    assert.match(
      output,
      new RegExp(
        `^Created example GitOps repository .*\\.example-gitops-env-${env} with \\d+ commits$`,
        'm',
      ),
    );
  }
  assert.match(
    output,
    /^Created example GitOps repository .*\.example-gitops with/m,
  );
  for (const [env, version] of Object.entries(environments)) {
    const dir = path.join(into, `.example-gitops-env-${env}`);
    assert.equal(git(dir, 'rev-parse', '--is-bare-repository').trim(), 'true');
    const kustomization = YAML.parse(
      git(dir, 'show', 'main:notifications/deploy/kustomization.yaml'),
    );
    assert.equal(kustomization.images[0].newTag, version, env);
  }
  assert.equal(
    runOk('--into', into).match(/is up to date/g).length,
    1 + Object.keys(environments).length,
  );
});

test('commits on the branch an entry names, from the branch it names, and tags the commit', () => {
  const author = 'Ana Lima <ana@example.com>';
  const file = path.join(scratch, 'history-with-branches.yaml');
  fs.writeFileSync(
    file,
    YAML.stringify([
      {
        author,
        daysAgo: 5,
        message: 'Lay out',
        files: { 'app.yaml': 'v: 1\n' },
      },
      {
        author,
        daysAgo: 4,
        branch: 'env/staging',
        message: 'Staging (#2)',
        files: { 'app.yaml': 'v: 2\n' },
        tag: 'v2-staging',
      },
      {
        author: 'Chen Wei <chen@example.com>',
        daysAgo: 3,
        branch: 'env/prod',
        from: 'env/staging',
        message: 'Prod (#3)',
        files: { 'prod.yaml': 'p: 1\n' },
        tag: [{ name: 'v2-prod', message: 'Promote 2 to prod' }, 'deployed'],
      },
      {
        author,
        daysAgo: 2,
        message: 'Main again',
        files: { 'app.yaml': 'v: 3\n' },
      },
      {
        author,
        daysAgo: 1,
        branch: 'env/staging',
        message: 'Staging again',
        files: { 'app.yaml': 'v: 4\n' },
      },
    ]),
  );
  const dir = freshDir();
  assert.match(
    runOk('--dir', dir, '--history', file, '--now', now),
    /with 5 commits, 3 branches and 3 tags\n$/,
  );
  const show = (ref, path) => git(dir, 'show', `${ref}:${path}`);
  assert.equal(show('main', 'app.yaml'), 'v: 3\n');
  assert.equal(show('env/staging', 'app.yaml'), 'v: 4\n');
  assert.equal(show('env/prod', 'app.yaml'), 'v: 2\n');
  assert.equal(show('env/prod', 'prod.yaml'), 'p: 1\n');
  assert.deepEqual(
    git(dir, 'log', '--format=%s', 'env/prod').trim().split('\n'),
    ['Prod (#3)', 'Staging (#2)', 'Lay out'],
  );
  assert.equal(git(dir, 'symbolic-ref', '--short', 'HEAD').trim(), 'main');

  assert.equal(
    git(dir, 'rev-parse', 'v2-staging^{commit}'),
    git(dir, 'rev-parse', 'env/staging~1'),
  );
  assert.equal(git(dir, 'cat-file', '-t', 'v2-staging').trim(), 'commit');
  assert.equal(git(dir, 'cat-file', '-t', 'deployed').trim(), 'commit');
  assert.equal(
    git(dir, 'rev-parse', 'deployed'),
    git(dir, 'rev-parse', 'env/prod'),
  );
  const [tagger, taggerDate, subject] = git(
    dir,
    'tag',
    '-l',
    '--format=%(taggername) %(taggeremail)%1f%(taggerdate:iso-strict)%1f%(contents:subject)',
    'v2-prod',
  )
    .trim()
    .split('\x1f');
  assert.equal(tagger, 'Chen Wei <chen@example.com>');
  assert.equal(Date.parse(taggerDate), Date.parse(now) - 3 * 86_400_000);
  assert.equal(subject, 'Promote 2 to prod');

  // The same history and clock give the same branches and tags.
  const refs = () =>
    git(dir, 'for-each-ref', '--format=%(refname) %(objectname)');
  const before = refs();
  runOk('--dir', dir, '--history', file, '--now', now, '--force');
  assert.equal(refs(), before);
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
    onMain.length + 1,
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
    /^Rebuilt example GitOps repository .* with \d+ commits, \d+ branches and \d+ tags, because .*history\.yaml changed\n$/,
  );
  assert.equal(
    Number(git(dir, 'rev-list', '--count', 'HEAD').trim()),
    onMain.length,
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
    ...[
      ['branch', 'env/../main'],
      ['branch', '-f'],
      ['branch', 'env/-x'],
      ['branch', 'env staging'],
      ['branch', '.hidden'],
      ['branch', 'main.lock'],
      ['branch', 'env//dev'],
      ['branch', 'HEAD'],
      ['branch', 'env/dev/'],
      ['branch', 'env/dev\nx'],
      ['from', '--orphan'],
      ['tag', '..'],
      ['tag', '--delete'],
      ['tag', 'v1 2'],
      ['tag', 'v1.0.0-prod~1'],
      ['tag', 'v1:x'],
      ['tag', { name: '-m', message: 'x' }],
    ].map(([key, name]) => [
      `a hostile ${key} name ${JSON.stringify(name)}`,
      [
        base,
        {
          ...base,
          daysAgo: 2,
          branch: 'env/dev',
          [key]: name,
          files: { 'b.yaml': 'b: 1\n' },
        },
      ],
      new RegExp(
        `commit 2: ${key === 'from' ? 'from' : key} .* is not a plain Git name`,
      ),
    ]),
    [
      'a first commit on another branch',
      [{ ...base, branch: 'env/dev' }],
      /commit 1: the first commit must be on main/,
    ],
    [
      'a branch from one with no commit',
      [base, { ...base, daysAgo: 2, branch: 'env/prod', from: 'env/staging' }],
      /commit 2: branch "env\/prod" starts from "env\/staging", which has no commit yet/,
    ],
    [
      'from on a branch that exists',
      [
        base,
        { ...base, daysAgo: 2, branch: 'b', files: { 'a.yaml': 'a: 2\n' } },
        {
          ...base,
          daysAgo: 1,
          branch: 'b',
          from: 'main',
          files: { 'a.yaml': 'a: 3\n' },
        },
      ],
      /commit 3: from applies only when a branch is created, and "b" exists/,
    ],
    [
      'a tag taken twice',
      [
        { ...base, tag: 'v1' },
        { ...base, daysAgo: 2, tag: 'v1', files: { 'a.yaml': 'a: 2\n' } },
      ],
      /commit 2: the tag "v1" is already taken/,
    ],
    [
      'an annotated tag without a message',
      [{ ...base, tag: { name: 'v1', message: '' } }],
      /the annotated tag "v1" has no message/,
    ],
    [
      'a name both a branch and a tag',
      [
        { ...base, tag: 'env/dev' },
        {
          ...base,
          daysAgo: 2,
          branch: 'env/dev',
          files: { 'a.yaml': 'a: 2\n' },
        },
      ],
      /"env\/dev" names both a branch and a tag/,
    ],
    [
      'a branch writing what it started from, unchanged',
      [base, { ...base, daysAgo: 2, branch: 'b' }],
      /commit 2: "a\.yaml" is written unchanged/,
    ],
    [
      'deleting a file only another branch has',
      [
        base,
        { ...base, daysAgo: 2, branch: 'b', files: { 'b.yaml': 'b: 1\n' } },
        { ...base, daysAgo: 1, files: { 'b.yaml': null } },
      ],
      /commit 3: deletes "b\.yaml", which does not exist/,
    ],
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
