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
/** A string of promotions-common that only a bundle with the plugin in it contains. */
const BUNDLE_MARKER = 'gitops-promotions/repository';

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

/** The README's install lines, by the file of an app they go into. */
export function readInstallLines(readme) {
  const blocks = readmeSection(readme, 'Install into your Backstage app');
  const pick = (what, test) => {
    const found = blocks.filter(block => test(block.before));
    assert.equal(
      found.length,
      1,
      `README.md, "Install into your Backstage app": expected one code block after the words naming ${what}, found ${found.length}`,
    );
    return found[0].code;
  };
  return {
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
    // The scaffolder and catalog modules are installed by the lines of "Scaffold a new service".
    modules: readmeSection(readme, 'Scaffold a new service')
      .filter(
        block => block.lang === 'ts' && block.code.includes('backend.add('),
      )
      .map(block => block.code),
  };
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

/**
 * Checks a packed tarball: only what runs (built dist/, and a backend plugin's config schema and
 * migrations), entry points that exist in it and match the source's, and no import of a package
 * it does not depend on (a dev dependency, a simulator).
 */
export function checkTarball(tarball, source, scratch) {
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
    if (/\.(test|spec)\.|__fixtures__|__mocks__|(^|\/)fixtures\//.test(file)) {
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
  for (const file of files.filter(f =>
    /^dist\/.*\.(c?js|mjs|d\.ts)$/.test(f),
  )) {
    const code = fs.readFileSync(path.join(root, file), 'utf8');
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

function bundleContains(dir, marker) {
  return fs
    .readdirSync(dir, { recursive: true })
    .filter(file => file.endsWith('.js'))
    .some(file =>
      fs.readFileSync(path.join(dir, file), 'utf8').includes(marker),
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
    name: `creates a Backstage ${backstageRelease} app with @backstage/create-app ${createAppVersion} and adds the README's install lines`,
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

      const lines = readInstallLines(
        fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'),
      );
      const named = code => [
        ...new Set(
          [...code.matchAll(/['"](@gitops-promotions\/[\w-]+)/g)].map(
            m => m[1],
          ),
        ),
      ];
      const depend = (workspace, names) => {
        assert.ok(
          names.length > 0,
          `the README's lines for ${workspace} name no package`,
        );
        const file = path.join(app, 'packages', workspace, 'package.json');
        const pkg = readJson(file);
        for (const name of names) {
          assert.ok(
            ctx.tarballs.has(name),
            `README.md names ${name}, which is not a public package`,
          );
          pkg.dependencies[name] = `^${ctx.tarballs.get(name).version}`;
        }
        writeJson(file, pkg);
        ctx.log(`  ${workspace}: ${names.join(', ')}`);
      };
      depend('backend', named([lines.backend, ...lines.modules].join('\n')));
      depend('app', named(lines.newFrontend));
      depend('app-legacy', named(lines.legacyFrontend));

      const edit = (file, change) => {
        const full = path.join(app, file);
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
    },
  },
  {
    name: 'installs the packed plugins into the app',
    async run(ctx) {
      await ctx.yarn(['install'], { timeoutMs: 30 * 60_000 });
      for (const name of ctx.tarballs.keys()) {
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
    name: "type-checks the app with the README's lines",
    async run(ctx) {
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
      await stopBackend(ctx);
    },
  },
  {
    name: 'builds the new-frontend-system app with the Promotions tab',
    async run(ctx) {
      await ctx.yarn(['workspace', 'app', 'build'], { timeoutMs: 20 * 60_000 });
      assert.ok(
        bundleContains(path.join(ctx.app, 'packages/app/dist'), BUNDLE_MARKER),
        "the app's bundle does not contain the promotions plugin",
      );
    },
  },
  {
    name: "builds the legacy app with the README's Promotions route on the entity page",
    async run(ctx) {
      await ctx.yarn(['workspace', 'app-legacy', 'build'], {
        timeoutMs: 20 * 60_000,
      });
      assert.ok(
        bundleContains(
          path.join(ctx.app, 'packages/app-legacy/dist'),
          BUNDLE_MARKER,
        ),
        "the legacy app's bundle does not contain the promotions plugin",
      );
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
