// The install test: packs the public plugins the way they are published, creates a fresh
// Backstage app of this repository's release with @backstage/create-app, installs the tarballs,
// applies the install lines of the README's "Install into your Backstage app" section, and proves
// that the backend serves an annotated entity and that both kinds of frontend build with the tab.
//
//   yarn test:install                            every step in order, with its timing
//   node --test test/install/install.test.mjs    the same steps as tests (yarn test:all)
//
// KEEP_INSTALL_TEST_DIR=1 keeps the temporary directory for a look after the run. The output of
// every command is copied to test-results/install-test-logs/.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);
const readJson = file => JSON.parse(fs.readFileSync(file, 'utf8'));
const writeJson = (file, value) =>
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
const seconds = ms => `${(ms / 1000).toFixed(1)} s`;

const rootManifest = readJson(path.join(repoRoot, 'package.json'));
const backstageRelease = readJson(
  path.join(repoRoot, 'backstage.json'),
).version;
/** The create-app release of this repository's Backstage release, pinned with the others. */
const createAppVersion = rootManifest.resolutions['@backstage/create-app'];
/** This repository's Yarn release: the app is installed and built with it too. */
const yarnRelease = path.join(
  repoRoot,
  YAML.parse(fs.readFileSync(path.join(repoRoot, '.yarnrc.yml'), 'utf8'))
    .yarnPath,
);

const ENTITY = 'install-test-service';
const REPOSITORY_ID = 'install-test-gitops';
/**
 * The Promotions tab's entity-content extension (plugins/promotions/src/alpha.tsx): only a bundle
 * with the tab in it holds its path and title side by side.
 */
const TAB_EXTENSION = { path: 'promotions', title: 'Promotions' };
/** The private package of the suite's test data, whose code no tarball may carry. */
const FIXTURES_DIR = path.join(repoRoot, 'test/fixtures');

/** The workspaces that are published: every package of the repository not marked private. */
export function publicPackages() {
  return rootManifest.workspaces
    .flatMap(pattern => {
      assert.match(
        pattern,
        /^[\w-]+\/\*$/,
        `unsupported workspace pattern ${pattern}`,
      );
      const parent = path.join(repoRoot, pattern.slice(0, -2));
      return fs.readdirSync(parent).map(name => path.join(parent, name));
    })
    .filter(dir => fs.existsSync(path.join(dir, 'package.json')))
    .map(dir => ({ dir, manifest: readJson(path.join(dir, 'package.json')) }))
    .filter(({ manifest }) => !manifest.private)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

/** The fenced code blocks of one `## ` section of the README, each with the prose before it. */
export function readmeSection(readme, title) {
  const lines = readme.split('\n');
  const start = lines.findIndex(line => line.trim() === `## ${title}`);
  assert.ok(start >= 0, `README.md has no section "## ${title}"`);
  let end = lines.findIndex((line, i) => i > start && /^## /.test(line));
  if (end < 0) end = lines.length;
  const blocks = [];
  let prose = [];
  for (let i = start + 1; i < end; i++) {
    const fence = lines[i].match(/^```(\w*)\s*$/);
    if (!fence) {
      prose.push(lines[i]);
      continue;
    }
    const code = [];
    for (i++; i < end && !/^```\s*$/.test(lines[i]); i++) code.push(lines[i]);
    blocks.push({
      lang: fence[1],
      code: code.join('\n'),
      before: prose.join('\n'),
    });
    prose = [];
  }
  return blocks;
}

/**
 * The `yarn --cwd <workspace> add <package>...` lines of a README `sh` block, each with the
 * workspace it names and the packages it adds.
 */
export function parseAddLines(code, section) {
  return code
    .replace(/\s*\\\n\s*/g, ' ')
    .split('\n')
    .map(line => line.trim())
    .filter(line => line && !line.startsWith('#'))
    .map(line => {
      const match = line.match(/^yarn --cwd (\S+) add((?: +[@\w][\w./-]*)+)$/);
      assert.ok(
        match,
        `README.md, "${section}": "${line}" is not a "yarn --cwd <workspace> add <package>..." line`,
      );
      return {
        line,
        workspace: match[1],
        packages: match[2].trim().split(/\s+/),
      };
    });
}

/** The README's install lines: the packages each workspace adds, and the code by the file it goes into. */
export function readInstallLines(readme) {
  const install = 'Install into your Backstage app';
  const scaffold = 'Scaffold a new service';
  const blocks = readmeSection(readme, install);
  const code = blocks.filter(block => block.lang !== 'sh');
  const pick = (what, test) => {
    const found = code.filter(block => test(block.before));
    assert.equal(
      found.length,
      1,
      `README.md, "${install}": expected one code block after the words naming ${what}, found ${found.length}`,
    );
    return found[0].code;
  };
  const scaffoldBlocks = readmeSection(readme, scaffold);
  return {
    add: [
      ...blocks
        .filter(block => block.lang === 'sh')
        .flatMap(block => parseAddLines(block.code, install)),
      // The scaffolder and catalog modules are added and installed by the lines of "Scaffold a new service".
      ...scaffoldBlocks
        .filter(
          block => block.lang === 'sh' && /^yarn --cwd /m.test(block.code),
        )
        .flatMap(block => parseAddLines(block.code, scaffold)),
    ],
    backend: pick('packages/backend/src/index.ts', prose =>
      prose.includes('packages/backend/src/index.ts'),
    ),
    newFrontend: pick(
      'the new frontend system and App.tsx',
      prose => /new frontend system/i.test(prose) && prose.includes('App.tsx'),
    ),
    legacyFrontend: pick('EntityPage.tsx', prose =>
      prose.includes('EntityPage.tsx'),
    ),
    modules: scaffoldBlocks
      .filter(
        block => block.lang === 'ts' && block.code.includes('backend.add('),
      )
      .map(block => block.code),
  };
}

/**
 * The packages the README's code lines import that neither its add lines add to the workspace
 * the code goes into nor that workspace already depends on.
 */
export function unaddedImports(lines, dependenciesOf = () => []) {
  const code = {
    'packages/backend': [lines.backend, ...lines.modules],
    'packages/app': [lines.newFrontend, lines.legacyFrontend],
  };
  return Object.entries(code).flatMap(([workspace, blocks]) => {
    const added = new Set([
      ...dependenciesOf(workspace),
      ...lines.add
        .filter(add => add.workspace === workspace)
        .flatMap(add => add.packages),
    ]);
    return importedPackages(blocks.join('\n'))
      .filter(name => !added.has(name))
      .map(
        name =>
          `README.md imports ${name} in ${workspace}, but no "yarn --cwd ${workspace} add" line adds it`,
      );
  });
}

/**
 * The promotions configuration of the README's "Configure" section, with its first `git`
 * repository pointed at a local repository: every other key (path rules, pipelines, drift,
 * resolution limits) as the README gives it.
 */
export function readmeConfiguration(readme, { id, url }) {
  const block = readmeSection(readme, 'Configure').find(b => b.lang === 'yaml');
  assert.ok(block, 'README.md, "Configure": no yaml block');
  const { promotions } = YAML.parse(block.code);
  const repository = promotions?.repositories?.find(r => r.provider === 'git');
  assert.ok(
    repository,
    'README.md, "Configure": no repository with provider: git',
  );
  assert.ok(
    promotions.pipelines?.default?.length,
    'README.md, "Configure": no default pipeline',
  );
  return { ...promotions, repositories: [{ ...repository, id, url }] };
}

const IMPORT = /^import\s[^;]*?\sfrom\s+['"][^'"]+['"];?[ \t]*$/gm;

/** Adds import statements after the last import of a source file. */
function addImports(source, imports, file) {
  const existing = [...source.matchAll(IMPORT)];
  assert.ok(existing.length > 0, `${file} has no import statements`);
  const last = existing[existing.length - 1];
  const at = last.index + last[0].length;
  const missing = imports.filter(statement => !source.includes(statement));
  if (missing.length === 0) return source;
  return `${source.slice(0, at)}\n${missing.join('\n')}${source.slice(at)}`;
}

/** The README's backend lines go before `backend.start()`. */
export function applyBackendLines(source, blocks) {
  assert.match(
    source,
    /^backend\.start\(\);$/m,
    "the app's backend has no backend.start()",
  );
  return source.replace(
    /^backend\.start\(\);$/m,
    `${blocks.map(block => block.trim()).join('\n')}\n\nbackend.start();`,
  );
}

/** The README's new-frontend-system lines: their imports, and their features added to the app's. */
export function applyNewFrontendLines(source, block) {
  const imports = block.match(IMPORT) ?? [];
  const rest = block.replace(IMPORT, '').trim();
  const wanted = rest.match(
    /^export default createApp\(\{\s*features:\s*\[([^\]]*)\],?\s*\}\);?$/,
  );
  assert.ok(
    wanted,
    `README.md's new-frontend-system block should end with "export default createApp({ features: [...] })", not:\n${rest}`,
  );
  const names = list =>
    list
      .split(',')
      .map(name => name.trim())
      .filter(Boolean);
  const current = source.match(/createApp\(\{\s*features:\s*\[([^\]]*)\]/);
  assert.ok(current, "the app's App.tsx has no createApp({ features: [...] })");
  const present = names(current[1]);
  const features = [
    ...present,
    ...names(wanted[1]).filter(name => !present.includes(name)),
  ];
  const updated = source.replace(
    current[0],
    `createApp({\n  features: [${features.join(', ')}]`,
  );
  return addImports(updated, imports, 'App.tsx');
}

/** The README's legacy lines: their imports, and the route as the last tab of a service's page. */
export function applyLegacyFrontendLines(source, block) {
  const imports = block.match(IMPORT) ?? [];
  const route = block.replace(IMPORT, '').trim().replace(/;$/, '');
  assert.match(
    route,
    /^<EntityLayout\.Route[\s\S]*<\/EntityLayout\.Route>$/,
    "README.md's legacy block should hold one <EntityLayout.Route> element",
  );
  const page = source.indexOf('const serviceEntityPage = (');
  assert.ok(
    page >= 0,
    "the legacy app's EntityPage.tsx has no serviceEntityPage",
  );
  const close = source.indexOf('</EntityLayout>', page);
  assert.ok(close >= 0, 'serviceEntityPage has no </EntityLayout>');
  const lineStart = source.lastIndexOf('\n', close) + 1;
  const indented = route
    .split('\n')
    .map(line => `    ${line}`)
    .join('\n');
  const updated = `${source.slice(0, lineStart)}${indented}\n${source.slice(
    lineStart,
  )}`;
  return addImports(updated, imports, 'EntityPage.tsx');
}

/** The packages a built file imports: import and export statements, require() and import(). */
function importedPackages(code) {
  const specifiers = [
    ...code.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm),
    ...code.matchAll(/^import\s*['"]([^'"]+)['"]/gm),
    ...code.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map(match => match[1]);
  const names = specifiers
    .filter(s => !s.startsWith('.') && !s.startsWith('/'))
    .map(s =>
      s
        .split('/')
        .slice(0, s.startsWith('@') ? 2 : 1)
        .join('/'),
    );
  return [...new Set(names)];
}

/** The names of the values the suite's test data package exports (its functions and constants). */
export function fixtureNames(dir = FIXTURES_DIR) {
  const src = path.join(dir, 'src');
  const names = fs
    .readdirSync(src, { recursive: true })
    .filter(file => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .flatMap(file =>
      [
        ...fs
          .readFileSync(path.join(src, file), 'utf8')
          .matchAll(/^export (?:async )?(?:function|const|let|class) (\w+)/gm),
      ].map(match => match[1]),
    );
  assert.ok(names.length > 0, `${src} exports no functions or constants`);
  return [...new Set(names)].sort();
}

/**
 * Checks a packed tarball: only what runs (built dist/, and a backend plugin's config schema and
 * migrations), entry points that exist in it and match the source's, no import of a package it
 * does not depend on (a dev dependency, a simulator), and none of the suite's test data compiled
 * into its code (a `testUtils` entry point that re-exports the fixtures).
 */
export function checkTarball(
  tarball,
  source,
  scratch,
  fixtures = fixtureNames(),
) {
  const dir = fs.mkdtempSync(path.join(scratch, 'unpacked-'));
  execFileSync('tar', ['-xzf', tarball, '-C', dir]);
  const root = path.join(dir, 'package');
  const files = execFileSync('find', ['.', '-type', 'f'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
    .map(file => file.replace(/^\.\//, ''))
    .sort();
  const packed = readJson(path.join(root, 'package.json'));
  const backendPlugin = source.backstage?.role === 'backend-plugin';
  const problems = [];
  const warnings = [];

  const allowedTop = [
    'package.json',
    'README.md',
    'CHANGELOG.md',
    'LICENSE',
    'dist',
  ];
  if (backendPlugin) allowedTop.push('config.d.ts', 'migrations');
  for (const file of files) {
    if (!allowedTop.includes(file.split('/')[0])) {
      problems.push(`${file} is not needed at run time`);
    }
    if (
      /\.(test|spec)\.|__fixtures__|__mocks__|__testUtils__|setupTests|[Ss]imulator|(^|\/)fixtures\//.test(
        file,
      )
    ) {
      problems.push(`${file} is a test file`);
    }
  }
  if (!files.some(file => file.startsWith('dist/')))
    problems.push('dist/ is missing');
  if (backendPlugin) {
    if (!files.includes('config.d.ts')) problems.push('config.d.ts is missing');
    if (!files.some(file => file.startsWith('migrations/'))) {
      problems.push('migrations/ is missing');
    }
  }
  if (packed.configSchema && !files.includes(packed.configSchema)) {
    problems.push(`configSchema ${packed.configSchema} is missing`);
  }

  // Every entry point of the published manifest is a file in the tarball...
  const entries = ['main', 'module', 'types', 'browser']
    .filter(field => packed[field])
    .map(field => [field, packed[field]]);
  const walk = (value, at) => {
    if (typeof value === 'string') entries.push([at, value]);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value))
        walk(inner, `${at}["${key}"]`);
    }
  };
  walk(packed.exports, 'exports');
  for (const [field, file] of entries) {
    if (!files.includes(path.posix.normalize(file))) {
      problems.push(`${field} is ${file}, which is not in the tarball`);
    }
  }
  // ...and the published entry points are the source's.
  const keys = value =>
    value && typeof value === 'object' ? Object.keys(value).sort() : [];
  if (keys(packed.exports).join() !== keys(source.exports).join()) {
    problems.push(
      `the published exports (${
        keys(packed.exports).join(', ') || 'none'
      }) are not the source's (${
        keys(source.exports).join(', ') || 'none'
      }): update publishConfig.exports`,
    );
  }
  for (const [name, range] of Object.entries(packed.dependencies ?? {})) {
    if (/^(workspace|link|portal|file):/.test(range)) {
      problems.push(
        `the dependency ${name}@${range} cannot be installed from a registry`,
      );
    }
  }

  // Built code imports only what the package depends on. Type declarations that name another
  // package still work where it is installed anyway (as in every Backstage app): warnings.
  const allowed = new Set([
    packed.name,
    ...Object.keys(packed.dependencies ?? {}),
    ...Object.keys(packed.peerDependencies ?? {}),
    ...builtinModules,
  ]);
  const fixture = new RegExp(`\\b(${fixtures.join('|')})\\b`);
  for (const file of files.filter(f =>
    /^dist\/.*\.(c?js|mjs|d\.ts)$/.test(f),
  )) {
    const code = fs.readFileSync(path.join(root, file), 'utf8');
    const carried = code.match(fixture);
    if (carried) {
      problems.push(
        `${file} carries ${carried[1]}, test data of test/fixtures (@internal/promotions-fixtures)`,
      );
    }
    for (const name of importedPackages(code)) {
      if (name.startsWith('node:') || allowed.has(name)) continue;
      if (!file.endsWith('.d.ts')) {
        problems.push(`${file} imports ${name}, which is not a dependency`);
      } else if (!allowed.has(`@types/${name}`)) {
        warnings.push(
          `${file} refers to types of ${name}, which is not a dependency`,
        );
      }
    }
  }
  return { files, packed, problems, warnings };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The registry the app installs from: the one scripts/env.sh gives Yarn, or npm's. */
function registry() {
  if (process.env.YARN_NPM_REGISTRY_SERVER)
    return process.env.YARN_NPM_REGISTRY_SERVER;
  try {
    const npmRegistry = execFileSync('npm', ['config', 'get', 'registry'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return npmRegistry.trim().replace(/\/$/, '') || undefined;
  } catch {
    return undefined;
  }
}

/** A GitOps repository with one Kustomize service, in a directory of its name: a version per environment. */
function createGitopsRepository(dir, service, versions, env) {
  const write = (file, content) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  };
  const kustomization = lines =>
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      ...lines,
      '',
    ].join('\n');
  write(
    `${service}/base/kustomization.yaml`,
    kustomization(['resources:', '  - deployment.yaml']),
  );
  write(
    `${service}/base/deployment.yaml`,
    [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: shop',
      'spec:',
      '  template:',
      '    spec:',
      '      containers:',
      '        - name: shop',
      '          image: ghcr.io/acme/shop:1.0.0',
      '',
    ].join('\n'),
  );
  const overlay = tag =>
    kustomization([
      'resources:',
      '  - ../../base',
      'images:',
      '  - name: ghcr.io/acme/shop',
      `    newTag: ${tag}`,
    ]);
  for (const [environment, version] of Object.entries(versions)) {
    write(
      `${service}/overlays/${environment}/kustomization.yaml`,
      overlay(version),
    );
  }
  const git = (...args) =>
    execFileSync('git', args, { cwd: dir, env, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git(
    'commit',
    '-q',
    '-m',
    `${service} in ${Object.keys(versions).join(', ')}`,
  );
}

function bundleMatches(dir, pattern) {
  return fs
    .readdirSync(dir, { recursive: true })
    .filter(file => file.endsWith('.js'))
    .some(file => pattern.test(fs.readFileSync(path.join(dir, file), 'utf8')));
}

const escapeRegExp = text => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** String properties side by side in an object literal, as a minified bundle writes them. */
export function propsPattern(props) {
  return new RegExp(
    Object.entries(props)
      .map(([key, value]) => `${key}:\\s*["'\`]${escapeRegExp(value)}["'\`]`)
      .join(',\\s*'),
  );
}

/** The string attributes of the README's legacy route element, in their order. */
export function routeProps(block) {
  const element = block.match(/<EntityLayout\.Route\b([^>]*)>/);
  assert.ok(element, "README.md's legacy block has no <EntityLayout.Route>");
  const props = Object.fromEntries(
    [...element[1].matchAll(/(\w+)="([^"]*)"/g)].map(m => [m[1], m[2]]),
  );
  assert.ok(props.path && props.title, 'the route has no path and title');
  return { path: props.path, title: props.title };
}

/** Feature discovery wrote no module of detected plugins for a frontend package's build. */
function assertNoDiscovery(dir) {
  const detected = path.join(
    dir,
    'node_modules/__backstage-autodetected-plugins__.js',
  );
  assert.ok(
    !fs.existsSync(detected) ||
      !fs.readFileSync(detected, 'utf8').includes('@gitops-promotions/'),
    `feature discovery picked up the plugin (${detected}): the build does not show the README's lines work`,
  );
}

/**
 * What the steps share: a temporary directory, the environment commands run in (this
 * repository's Yarn release and registry, no settings inherited from the calling Yarn), and a
 * runner that logs each command's output to a file and shows its end when the command fails.
 */
export function createContext({ log = console.log } = {}) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-install-'));
  const ctx = {
    log,
    scratch,
    logs: path.join(scratch, 'logs'),
    tarballs: new Map(),
    app: path.join(scratch, 'app'),
    builtDirs: [],
    backend: undefined,
  };
  const shims = path.join(scratch, 'bin');
  fs.mkdirSync(ctx.logs);
  fs.mkdirSync(shims);
  // `yarn` for create-app's prerequisite check: this repository's release.
  fs.writeFileSync(
    path.join(shims, 'yarn'),
    `#!/bin/sh\nexec "${process.execPath}" "${yarnRelease}" "$@"\n`,
    { mode: 0o755 },
  );
  ctx.env = {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) =>
          !/^(npm_(?!config_nodedir$)|YARN_|BERRY_|PROJECT_CWD$|INIT_CWD$)/.test(
            key,
          ),
      ),
    ),
    PATH: [shims, path.dirname(process.execPath), process.env.PATH].join(
      path.delimiter,
    ),
    // The app is new: its lockfile is written by this install, also under CI=true.
    YARN_ENABLE_IMMUTABLE_INSTALLS: 'false',
    YARN_ENABLE_PROGRESS_BARS: 'false',
    YARN_ENABLE_TELEMETRY: '0',
    BACKSTAGE_APP_NAME: 'promotions-install-test',
    GIT_AUTHOR_NAME: 'Install Test',
    GIT_AUTHOR_EMAIL: 'install-test@example.com',
    GIT_COMMITTER_NAME: 'Install Test',
    GIT_COMMITTER_EMAIL: 'install-test@example.com',
    FORCE_COLOR: '0',
  };
  const registryServer = registry();
  if (registryServer) ctx.env.YARN_NPM_REGISTRY_SERVER = registryServer;

  let commands = 0;
  /** Runs a command with its output in a log file; throws with the log's end when it fails. */
  ctx.run = (
    label,
    cmd,
    args,
    { cwd = ctx.app, timeoutMs = 15 * 60_000 } = {},
  ) => {
    const logFile = path.join(
      ctx.logs,
      `${String(++commands).padStart(2, '0')}-${label.replace(
        /[^\w.-]+/g,
        '-',
      )}.log`,
    );
    const where = path.relative(scratch, cwd).startsWith('..')
      ? path.relative(repoRoot, cwd) || '.'
      : path.relative(scratch, cwd) || path.basename(scratch);
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const out = fs.openSync(logFile, 'w');
      const child = spawn(cmd, args, {
        cwd,
        env: ctx.env,
        stdio: ['ignore', out, out],
      });
      fs.closeSync(out);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', error => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const took = seconds(Date.now() - started);
        log(
          `  ${code === 0 ? 'ok  ' : 'FAIL'} ${label} (${took}, in ${where})`,
        );
        if (code === 0) {
          resolve();
          return;
        }
        const tail = fs
          .readFileSync(logFile, 'utf8')
          .split('\n')
          .slice(-80)
          .join('\n');
        const how = signal
          ? `was stopped after ${took}`
          : `exited with ${code}`;
        reject(new Error(`${label} ${how} in ${cwd}:\n${tail}`));
      });
    });
  };
  ctx.yarn = (args, options) =>
    ctx.run(
      `yarn ${args.join(' ')}`,
      process.execPath,
      [yarnRelease, ...args],
      options,
    );

  ctx.cleanup = async () => {
    await stopBackend(ctx);
    for (const dir of ctx.builtDirs) {
      fs.rmSync(path.join(dir, 'dist'), { recursive: true, force: true });
    }
    const kept = path.join(repoRoot, 'test-results/install-test-logs');
    fs.rmSync(kept, { recursive: true, force: true });
    fs.cpSync(ctx.logs, kept, { recursive: true });
    if (process.env.KEEP_INSTALL_TEST_DIR === '1') log(`  kept ${scratch}`);
    else fs.rmSync(scratch, { recursive: true, force: true });
  };
  return ctx;
}

/** Stops the backend as Ctrl-C would: SIGINT to its process group, SIGKILL if it lingers. */
async function stopBackend(ctx) {
  const child = ctx.backend;
  ctx.backend = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  const signal = name => {
    try {
      process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGINT');
  const timer = setTimeout(() => signal('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

export const steps = [
  {
    name: 'builds and packs every public package with only what it needs at run time',
    async run(ctx) {
      const packages = publicPackages();
      assert.ok(packages.length > 0, 'no public packages');
      const tarballs = path.join(ctx.scratch, 'tarballs');
      fs.mkdirSync(tarballs);
      await ctx.yarn(['tsc'], { cwd: repoRoot });
      for (const { dir, manifest } of packages) {
        if (!fs.existsSync(path.join(dir, 'dist'))) ctx.builtDirs.push(dir);
        await ctx.yarn(['backstage-cli', 'package', 'build'], { cwd: dir });
        const tarball = path.join(
          tarballs,
          `${manifest.name.replace(/^@/, '').replace('/', '-')}-${
            manifest.version
          }.tgz`,
        );
        await ctx.yarn(['pack', '--out', tarball], { cwd: dir });
        const { files, problems, warnings } = checkTarball(
          tarball,
          manifest,
          ctx.scratch,
        );
        const top = [...new Set(files.map(f => f.replace(/\/.*/, '/')))];
        ctx.log(`  ${manifest.name}: ${files.length} files: ${top.join(', ')}`);
        for (const warning of warnings) ctx.log(`  warning: ${warning}`);
        assert.deepEqual(
          problems,
          [],
          `${manifest.name} packs what it should not`,
        );
        ctx.tarballs.set(manifest.name, { tarball, version: manifest.version });
      }
    },
  },
  {
    name: `creates a Backstage ${backstageRelease} app with @backstage/create-app ${createAppVersion}, feature discovery off`,
    async run(ctx) {
      assert.ok(ctx.tarballs.size > 0, 'nothing was packed');
      const { app } = ctx;
      const createApp = [
        '--yes',
        `@backstage/create-app@${createAppVersion}`,
        '--skip-install',
      ];
      const legacyTemplate = path.join(ctx.scratch, 'legacy-template');
      await ctx.run('create-app', 'npx', [...createApp, '--path', app], {
        cwd: ctx.scratch,
      });
      await ctx.run(
        'create-app --legacy',
        'npx',
        [...createApp, '--legacy', '--path', legacyTemplate],
        {
          cwd: ctx.scratch,
        },
      );
      assert.equal(
        readJson(path.join(app, 'backstage.json')).version,
        backstageRelease,
        `@backstage/create-app ${createAppVersion} creates an app of another Backstage release than this repository's backstage.json`,
      );
      // create-app generates a new-frontend-system app; its legacy template becomes a second
      // frontend package of the same app, so that one install serves both.
      assert.match(
        fs.readFileSync(path.join(app, 'packages/app/src/App.tsx'), 'utf8'),
        /@backstage\/frontend-defaults/,
        'create-app no longer generates a new-frontend-system app',
      );
      fs.cpSync(
        path.join(legacyTemplate, 'packages/app'),
        path.join(app, 'packages/app-legacy'),
        {
          recursive: true,
        },
      );
      const legacyManifest = path.join(app, 'packages/app-legacy/package.json');
      writeJson(legacyManifest, {
        ...readJson(legacyManifest),
        name: 'app-legacy',
      });
      fs.rmSync(legacyTemplate, { recursive: true, force: true });

      // Feature discovery would bundle every frontend plugin the app depends on: off, so that
      // only the README's lines put the Promotions tab into the app.
      const appConfigFile = path.join(app, 'app-config.yaml');
      const appConfig = YAML.parseDocument(
        fs.readFileSync(appConfigFile, 'utf8'),
      );
      if (appConfig.hasIn(['app', 'packages'])) {
        ctx.log(
          `  feature discovery off: app.packages (${JSON.stringify(
            appConfig.getIn(['app', 'packages'])?.toJSON?.() ??
              appConfig.getIn(['app', 'packages']),
          )}) removed from app-config.yaml`,
        );
        appConfig.deleteIn(['app', 'packages']);
        fs.writeFileSync(appConfigFile, appConfig.toString());
      }

      // This repository's Yarn release.
      fs.copyFileSync(
        yarnRelease,
        path.join(app, '.yarn/releases', path.basename(yarnRelease)),
      );
      const yarnrcFile = path.join(app, '.yarnrc.yml');
      const yarnrc = YAML.parse(fs.readFileSync(yarnrcFile, 'utf8'));
      yarnrc.yarnPath = `.yarn/releases/${path.basename(yarnRelease)}`;
      fs.writeFileSync(yarnrcFile, YAML.stringify(yarnrc));

      // @backstage/* pinned as this repository pins them: its resolutions, then the release's
      // version of every other @backstage/* package the app names (create-app wrote them).
      const manifestFile = path.join(app, 'package.json');
      const manifest = readJson(manifestFile);
      const resolutions = {
        ...manifest.resolutions,
        ...rootManifest.resolutions,
      };
      for (const workspace of ['app', 'app-legacy', 'backend']) {
        const pkg = readJson(
          path.join(app, 'packages', workspace, 'package.json'),
        );
        for (const [name, range] of Object.entries({
          ...pkg.dependencies,
          ...pkg.devDependencies,
        })) {
          const version = range.replace(/^[\^~]/, '');
          if (
            name.startsWith('@backstage/') &&
            !resolutions[name] &&
            /^\d+\.\d+\.\d+$/.test(version)
          ) {
            resolutions[name] = version;
          }
        }
      }
      // The tarballs stand in for the registry: every @gitops-promotions/* package, wherever
      // it is depended on, comes from its tarball.
      fs.mkdirSync(path.join(app, 'tarballs'));
      for (const [name, { tarball }] of ctx.tarballs) {
        fs.copyFileSync(
          tarball,
          path.join(app, 'tarballs', path.basename(tarball)),
        );
        resolutions[name] = `file:./tarballs/${path.basename(tarball)}`;
      }
      writeJson(manifestFile, { ...manifest, resolutions });
    },
  },
  {
    name: "installs the packed plugins with the README's yarn add lines",
    async run(ctx) {
      const lines = readInstallLines(
        fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'),
      );
      const manifestOf = workspace =>
        readJson(path.join(ctx.app, workspace, 'package.json'));
      assert.deepEqual(
        unaddedImports(lines, workspace =>
          Object.keys(manifestOf(workspace).dependencies ?? {}),
        ),
        [],
        "the README's add lines do not add every package its code lines import",
      );
      // The legacy frontend is the app's second frontend package: it gets the lines for packages/app too.
      const workspacesOf = workspace =>
        workspace === 'packages/app'
          ? ['packages/app', 'packages/app-legacy']
          : [workspace];
      for (const { line, workspace, packages } of lines.add) {
        assert.ok(
          ['packages/backend', 'packages/app'].includes(workspace),
          `README.md: "${line}" adds to ${workspace}, which a new Backstage app does not have`,
        );
        for (const name of packages) {
          assert.ok(
            ctx.tarballs.has(name),
            `README.md: "${line}" adds ${name}, which is not a public package of this repository`,
          );
        }
        // As the registry would answer: the packed version, which the resolutions take from its tarball.
        const descriptors = packages.map(
          name => `${name}@^${ctx.tarballs.get(name).version}`,
        );
        for (const target of workspacesOf(workspace)) {
          await ctx.yarn(['--cwd', target, 'add', ...descriptors], {
            timeoutMs: 30 * 60_000,
          });
          const dependencies = manifestOf(target).dependencies ?? {};
          for (const name of packages) {
            assert.ok(
              dependencies[name],
              `"${line}" did not add ${name} to ${target}/package.json`,
            );
          }
        }
        ctx.log(`  ${line}`);
      }
      for (const name of new Set(lines.add.flatMap(add => add.packages))) {
        const installed = path.join(ctx.app, 'node_modules', name);
        assert.ok(fs.existsSync(installed), `${name} is not installed`);
        assert.ok(
          !fs.lstatSync(installed).isSymbolicLink(),
          `${name} is linked, not unpacked`,
        );
        assert.ok(
          !fs.existsSync(path.join(installed, 'src')),
          `${name} came with its sources`,
        );
      }
    },
  },
  {
    name: "installs every @backstage/* package at the version this repository's resolutions pin",
    async run(ctx) {
      const lockfile = YAML.parse(
        fs.readFileSync(path.join(ctx.app, 'yarn.lock'), 'utf8'),
      );
      const installed = new Map();
      for (const entry of Object.values(lockfile)) {
        const match = String(entry?.resolution ?? '').match(
          /^(@backstage\/[^@]+)@npm:/,
        );
        if (!match) continue;
        const versions = installed.get(match[1]) ?? new Set();
        versions.add(String(entry.version));
        installed.set(match[1], versions);
      }
      const pinned = Object.entries(rootManifest.resolutions).filter(([name]) =>
        installed.has(name),
      );
      assert.ok(pinned.length > 0, 'the app installed no @backstage/* package');
      const differing = pinned
        .filter(
          ([name, pin]) =>
            [...installed.get(name)].join() !== pin.replace(/^[\^~]/, ''),
        )
        .map(
          ([name, pin]) =>
            `${name}: ${[...installed.get(name)].join(', ')} (pinned: ${pin})`,
        );
      assert.deepEqual(
        differing,
        [],
        "the app's @backstage/* versions are not the ones this repository pins",
      );
      ctx.log(
        `  ${pinned.length} of the app's ${installed.size} @backstage/* packages are pinned here, each at its pinned version`,
      );
    },
  },
  {
    name: "adds the README's code lines and type-checks the app",
    async run(ctx) {
      const lines = readInstallLines(
        fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'),
      );
      const edit = (file, change) => {
        const full = path.join(ctx.app, file);
        fs.writeFileSync(full, change(fs.readFileSync(full, 'utf8')));
      };
      edit('packages/backend/src/index.ts', source =>
        applyBackendLines(source, [lines.backend, ...lines.modules]),
      );
      edit('packages/app/src/App.tsx', source =>
        applyNewFrontendLines(source, lines.newFrontend),
      );
      edit(
        'packages/app-legacy/src/components/catalog/EntityPage.tsx',
        source => applyLegacyFrontendLines(source, lines.legacyFrontend),
      );
      await ctx.yarn(['tsc']);
    },
  },
  {
    name: "boots the app's backend with the plugins and serves an annotated entity's environments",
    async run(ctx) {
      const gitops = path.join(ctx.scratch, 'gitops');
      const promotions = readmeConfiguration(
        fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'),
        { id: REPOSITORY_ID, url: gitops },
      );
      // A different version in each environment of the default pipeline: 1.<n>.0, newest first.
      const environments = promotions.pipelines.default.map(e => e.name);
      const versions = Object.fromEntries(
        environments.map((name, i) => [name, `1.${environments.length - i}.0`]),
      );
      createGitopsRepository(gitops, ENTITY, versions, ctx.env);
      const port = await freePort();
      const token = crypto.randomBytes(24).toString('hex');
      const entityFile = path.join(ctx.scratch, 'catalog-info.yaml');
      fs.writeFileSync(
        entityFile,
        YAML.stringify({
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Component',
          metadata: {
            name: ENTITY,
            annotations: {
              'gitops-promotions/repository': REPOSITORY_ID,
              'gitops-promotions/path': `${ENTITY}/overlays/{env}`,
            },
          },
          spec: { type: 'service', lifecycle: 'production', owner: 'guests' },
        }),
      );
      const configFile = path.join(ctx.app, 'app-config.install-test.yaml');
      fs.writeFileSync(
        configFile,
        YAML.stringify({
          backend: {
            baseUrl: `http://127.0.0.1:${port}`,
            listen: { port, host: '127.0.0.1' },
            database: { client: 'better-sqlite3', connection: ':memory:' },
            auth: {
              externalAccess: [
                { type: 'static', options: { token, subject: 'install-test' } },
              ],
            },
          },
          catalog: { locations: [{ type: 'file', target: entityFile }] },
          // Read every few seconds rather than the README's 30, to wait less for the entity.
          promotions: {
            ...promotions,
            refresh: { ...promotions.refresh, frequency: { seconds: 5 } },
          },
        }),
      );

      const logFile = path.join(ctx.logs, 'backend.log');
      const out = fs.openSync(logFile, 'w');
      const started = Date.now();
      const configs = ['app-config.yaml', configFile].flatMap(file => [
        '--config',
        path.resolve(ctx.app, file),
      ]);
      const child = spawn(
        process.execPath,
        [yarnRelease, 'workspace', 'backend', 'start', ...configs],
        {
          cwd: ctx.app,
          env: ctx.env,
          stdio: ['ignore', out, out],
          detached: true,
        },
      );
      fs.closeSync(out);
      ctx.backend = child;
      let exitCode;
      child.on('exit', code => {
        exitCode = code;
      });
      ctx.log(`  yarn workspace backend start, on port ${port}`);

      const base = `http://127.0.0.1:${port}`;
      const headers = { authorization: `Bearer ${token}` };
      const url = `${base}/api/promotions/v1/entities/component/default/${ENTITY}`;
      const deadline = Date.now() + 5 * 60_000;
      let last = 'no answer';
      let body;
      let firstAnswer;
      while (Date.now() < deadline && exitCode === undefined) {
        try {
          const response = await fetch(url, { headers });
          const text = await response.text();
          last = `${response.status} ${text.slice(0, 300)}`;
          firstAnswer ??= Date.now();
          // 400: the entity's annotations or the configuration are wrong; waiting will not help.
          if (response.status === 400) break;
          if (response.status === 200) {
            body = JSON.parse(text);
            // The first answers may be the pending state: asOf null, no environments yet.
            if (body.asOf && body.environments?.length) break;
          }
        } catch (error) {
          last = error.cause?.code ?? error.message;
        }
        await new Promise(resolve => setTimeout(resolve, 1000));
      }
      const backendLog = () =>
        fs.readFileSync(logFile, 'utf8').split('\n').slice(-60).join('\n');
      let why = 'gave up after 5 minutes';
      if (exitCode !== undefined) why = `the backend exited with ${exitCode}`;
      else if (last.startsWith('400')) why = 'a bad request';
      assert.ok(
        body?.asOf && body.environments?.length,
        `GET ${url} never answered with environments (${why}; last answer: ${last}). The backend's log ends:\n${backendLog()}`,
      );
      ctx.log(
        `  backend answering after ${seconds(firstAnswer - started)}; GET ${
          new URL(url).pathname
        }: 200 with environments after ${seconds(Date.now() - started)}`,
      );
      assert.equal(body.entityRef, `component:default/${ENTITY}`);
      assert.deepEqual(
        Object.fromEntries(
          body.environments.map(e => [e.name, e.desired?.version]),
        ),
        versions,
        "each environment's version as the GitOps repository has it",
      );

      const actions = await fetch(`${base}/api/scaffolder/v2/actions`, {
        headers,
      });
      assert.equal(actions.status, 200, 'the scaffolder lists its actions');
      const ours = (await actions.json())
        .map(action => action.id)
        .filter(id => id.startsWith('promotions:'));
      assert.ok(
        ours.includes('promotions:validate-layout'),
        `the scaffolder module's actions are not registered (found: ${
          ours.join(', ') || 'none'
        })`,
      );
      ctx.log(`  scaffolder actions: ${ours.join(', ')}`);
      const catalogModule = fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .find(line =>
          line.includes(
            'Registering scaffolded services from the branches of promotions repositories',
          ),
        );
      assert.ok(
        catalogModule,
        `the catalog module did not start. The backend's log ends:\n${backendLog()}`,
      );
      ctx.log(`  catalog module: ${catalogModule.trim().slice(0, 160)}`);
      await stopBackend(ctx);
    },
  },
  {
    name: "builds the new-frontend-system app with the Promotions tab from the README's App.tsx lines",
    async run(ctx) {
      await ctx.yarn(['workspace', 'app', 'build'], { timeoutMs: 20 * 60_000 });
      assertNoDiscovery(path.join(ctx.app, 'packages/app'));
      const tab = propsPattern(TAB_EXTENSION);
      assert.ok(
        bundleMatches(path.join(ctx.app, 'packages/app/dist'), tab),
        `the app's bundle has no Promotions tab: nothing matches ${tab}`,
      );
      ctx.log(`  the bundle holds the tab's extension: ${tab}`);
    },
  },
  {
    name: "builds the legacy app with the README's Promotions route on the entity page",
    async run(ctx) {
      await ctx.yarn(['workspace', 'app-legacy', 'build'], {
        timeoutMs: 20 * 60_000,
      });
      assertNoDiscovery(path.join(ctx.app, 'packages/app-legacy'));
      const { legacyFrontend } = readInstallLines(
        fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'),
      );
      const route = propsPattern(routeProps(legacyFrontend));
      assert.ok(
        bundleMatches(path.join(ctx.app, 'packages/app-legacy/dist'), route),
        `the legacy app's bundle has no Promotions route: nothing matches ${route}`,
      );
      ctx.log(`  the bundle holds the README's route: ${route}`);
    },
  },
];

// Run directly: every step in order, with its timing.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ctx = createContext();
  const started = Date.now();
  let failed = false;
  for (const step of steps) {
    const stepStarted = Date.now();
    console.log(`# ${step.name}`);
    try {
      await step.run(ctx);
      console.log(`# ok (${seconds(Date.now() - stepStarted)})`);
    } catch (error) {
      console.log(
        `# FAILED (${seconds(Date.now() - stepStarted)}): ${
          error.stack ?? error
        }`,
      );
      failed = true;
      break;
    }
  }
  await ctx.cleanup();
  console.log(
    `# install test ${failed ? 'failed' : 'passed'} in ${seconds(
      Date.now() - started,
    )}`,
  );
  process.exit(failed ? 1 : 0);
}
