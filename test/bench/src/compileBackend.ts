import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The repository's root: its `node_modules` holds every package, the workspace's as links. */
const REPO_ROOT = path.resolve(
  path.dirname(require.resolve('@internal/bench/package.json')),
  '../..',
);

// The compiler the Backstage CLI builds and loads TypeScript with.
const swc: typeof import('@swc/core') = createRequire(
  require.resolve('@backstage/cli/package.json'),
)('@swc/core');

const realDir = (name: string) =>
  fs.realpathSync(path.join(REPO_ROOT, 'node_modules', name));

/** The workspace packages `name` runs with, itself included. */
function workspaceClosure(name: string, found = new Map<string, string>()) {
  if (found.has(name)) return found;
  const dir = realDir(name);
  found.set(name, dir);
  const manifest = JSON.parse(
    fs.readFileSync(path.join(dir, 'package.json'), 'utf8'),
  );
  for (const [dependency, range] of Object.entries(
    manifest.dependencies ?? {},
  )) {
    if (String(range).startsWith('workspace:')) {
      workspaceClosure(dependency, found);
    }
  }
  return found;
}

/** Compiles a package's `src/` file by file, leaving tests out. */
function compileTree(from: string, to: string) {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('__')) {
        compileTree(source, path.join(to, entry.name));
      }
    } else if (/\.test\.tsx?$/.test(entry.name)) {
      continue;
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const { code } = swc.transformSync(fs.readFileSync(source, 'utf8'), {
        filename: source,
        module: { type: 'commonjs', ignoreDynamic: true },
        jsc: { target: 'es2023', parser: { syntax: 'typescript' } },
      });
      fs.writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), code);
    } else {
      fs.symlinkSync(source, path.join(to, entry.name));
    }
  }
}

/** A manifest whose entry points name the compiled files. */
function compiledManifest(manifest: any) {
  const toJs = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(/\.ts$/, '.js');
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) => [key, toJs(inner)]),
      );
    }
    return value;
  };
  return {
    ...manifest,
    main: toJs(manifest.main),
    exports: toJs(manifest.exports),
  };
}

/**
 * The benchmark's backend as a production backend runs: JavaScript compiled before it starts,
 * not TypeScript compiled as each module loads (which keeps the compiler, source maps and a
 * loader thread in the process, and again in every resolution worker). Writes the workspace
 * packages the backend runs, compiled, under `outDir`, beside a `node_modules` that finds
 * them there and every other package where it is installed. Returns the entry file to run.
 */
export function compileBackend(outDir: string): string {
  const packages = workspaceClosure('@internal/bench');
  const compiled = new Map<string, string>();
  for (const [name, dir] of packages) {
    const target = path.join(outDir, path.relative(REPO_ROOT, dir));
    fs.mkdirSync(target, { recursive: true });
    for (const entry of fs.readdirSync(dir)) {
      if (entry === 'src') {
        compileTree(path.join(dir, 'src'), path.join(target, 'src'));
      } else if (entry === 'package.json') {
        const manifest = JSON.parse(
          fs.readFileSync(path.join(dir, entry), 'utf8'),
        );
        fs.writeFileSync(
          path.join(target, entry),
          JSON.stringify(compiledManifest(manifest), null, 2),
        );
      } else if (entry !== 'dist') {
        fs.symlinkSync(path.join(dir, entry), path.join(target, entry));
      }
    }
    compiled.set(name, target);
  }
  const modules = path.join(outDir, 'node_modules');
  fs.mkdirSync(modules, { recursive: true });
  const scopes = new Set(
    [...compiled.keys()]
      .filter(n => n.startsWith('@'))
      .map(n => n.split('/')[0]),
  );
  for (const entry of fs.readdirSync(path.join(REPO_ROOT, 'node_modules'))) {
    const original = path.join(REPO_ROOT, 'node_modules', entry);
    if (!scopes.has(entry)) {
      fs.symlinkSync(original, path.join(modules, entry));
      continue;
    }
    fs.mkdirSync(path.join(modules, entry));
    for (const name of fs.readdirSync(original)) {
      fs.symlinkSync(
        compiled.get(`${entry}/${name}`) ?? path.join(original, name),
        path.join(modules, entry, name),
      );
    }
  }
  return path.join(compiled.get('@internal/bench')!, 'src', 'backend.js');
}
