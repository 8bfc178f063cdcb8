// The install test's own checks, proven without creating an app (a second each):
//   node --test test/install/checks.test.mjs
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  checkTarball,
  fixtureNames,
  propsPattern,
  readInstallLines,
  routeProps,
  unaddedImports,
} from './run-install-test.mjs';

const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);
const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'install-checks-'));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Packs `files` the way `yarn pack` does: under package/, gzipped. */
function tarball(name, files) {
  const dir = fs.mkdtempSync(path.join(scratch, `${name}-`));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'package', file)), {
      recursive: true,
    });
    fs.writeFileSync(path.join(dir, 'package', file), content);
  }
  const out = path.join(dir, `${name}.tgz`);
  execFileSync('tar', ['-czf', out, '-C', dir, 'package']);
  return out;
}

test("the README's add lines add every package its code lines import", () => {
  const lines = readInstallLines(readme);
  assert.deepEqual(unaddedImports(lines), []);
  assert.deepEqual(
    lines.add.map(({ workspace, packages }) => [workspace, packages]),
    [
      ['packages/backend', ['@gitops-promotions/plugin-promotions-backend']],
      ['packages/app', ['@gitops-promotions/plugin-promotions']],
      [
        'packages/backend',
        [
          '@gitops-promotions/plugin-scaffolder-backend-module-promotions',
          '@gitops-promotions/plugin-catalog-backend-module-promotions',
        ],
      ],
    ],
  );
});

test('a package the code lines import but no add line adds is named', () => {
  const withoutApp = readme.replace(/^yarn --cwd packages\/app add .*\n/m, '');
  assert.notEqual(withoutApp, readme);
  assert.deepEqual(unaddedImports(readInstallLines(withoutApp)), [
    'README.md imports @gitops-promotions/plugin-promotions in packages/app, but no "yarn --cwd packages/app add" line adds it',
  ]);
});

test('a line of an install block that is not a yarn add line is refused', () => {
  const npm = readme.replace(
    'yarn --cwd packages/app add @gitops-promotions/plugin-promotions',
    'npm install @gitops-promotions/plugin-promotions',
  );
  assert.throws(
    () => readInstallLines(npm),
    /"npm install @gitops-promotions\/plugin-promotions" is not a "yarn --cwd <workspace> add <package>\.\.\." line/,
  );
});

test("a tarball whose built code carries the suite's test data is refused", () => {
  const manifest = {
    name: '@gitops-promotions/plugin-example-node',
    version: '0.1.0',
    main: 'dist/index.cjs.js',
  };
  const files = {
    'package.json': JSON.stringify(manifest),
    'dist/index.cjs.js': 'exports.answer = 42;\n',
  };
  assert.deepEqual(
    checkTarball(tarball('clean', files), manifest, scratch).problems,
    [],
  );
  // What the node library's testUtils entry point once compiled into its tarball.
  const testUtils = {
    ...files,
    'dist/testUtils.cjs.js':
      'function createGitFixture(commits, dir) {}\nconst shopHistory = [];\nexports.createGitFixture = createGitFixture;\n',
  };
  assert.deepEqual(
    checkTarball(tarball('fixtures', testUtils), manifest, scratch).problems,
    [
      'dist/testUtils.cjs.js carries createGitFixture, test data of test/fixtures (@internal/promotions-fixtures)',
    ],
  );
  assert.ok(fixtureNames().includes('shopHistory'));
});

test('a tarball with sources, tests, test helpers or simulators, or a backend plugin without its config schema and migrations, is refused', () => {
  const manifest = {
    name: '@gitops-promotions/plugin-example-backend',
    version: '0.1.0',
    main: 'dist/index.cjs.js',
    backstage: { role: 'backend-plugin' },
  };
  const files = {
    'package.json': JSON.stringify(manifest),
    'dist/index.cjs.js': 'exports.answer = 42;\n',
    'config.d.ts': 'export interface Config {}\n',
    'migrations/20260101_init.js': 'exports.up = async () => {};\n',
  };
  assert.deepEqual(
    checkTarball(tarball('backend', files), manifest, scratch).problems,
    [],
  );
  const {
    'config.d.ts': _,
    'migrations/20260101_init.js': __,
    ...bare
  } = files;
  assert.deepEqual(
    checkTarball(
      tarball('extra', {
        ...bare,
        'src/index.ts': 'export const answer = 42;\n',
        'dist/router.test.cjs.js': '\n',
        'dist/__testUtils__/backend.cjs.js': '\n',
        'dist/setupTests.cjs.js': '\n',
        'dist/githubSimulator.cjs.js': '\n',
      }),
      manifest,
      scratch,
    ).problems,
    [
      'dist/__testUtils__/backend.cjs.js is a test file',
      'dist/githubSimulator.cjs.js is a test file',
      'dist/router.test.cjs.js is a test file',
      'dist/setupTests.cjs.js is a test file',
      'src/index.ts is not needed at run time',
      'config.d.ts is missing',
      'migrations/ is missing',
    ],
  );
});

test("the legacy route's path and title are found in a minified bundle, not the plugin alone", () => {
  const { legacyFrontend } = readInstallLines(readme);
  const route = propsPattern(routeProps(legacyFrontend));
  assert.match(
    'children:[(0,r.jsx)(d.Route,{path:"/promotions",title:"Promotions",if:p,children:(0,r.jsx)(m,{})})]',
    route,
  );
  assert.doesNotMatch(
    '(0,r.jsx)(u,{title:"Promotions"});const h={path:"/promotions"}',
    route,
  );
  assert.match(
    'e.make({name:"promotions",params:{path:"promotions",title:"Promotions",filter:n',
    propsPattern({ path: 'promotions', title: 'Promotions' }),
  );
});
