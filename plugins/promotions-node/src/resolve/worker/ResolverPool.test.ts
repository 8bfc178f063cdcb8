import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { watchEventLoop } from '@internal/promotions-fixtures';
import { memorySnapshot } from '../../testing/memorySnapshot';
import { resolveEnvironment } from '../index';
import { ResolutionError } from '../types';
import { ResolverPool } from './ResolverPool';

// Workers compile the resolver from source on start.
jest.setTimeout(60_000);

const deployment = (tag: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: app }\nspec:\n  template:\n    spec:\n      containers: [{ name: app, image: "ghcr.io/acme/app:${tag}" }]\n`;

const files = {
  'base/kustomization.yaml': 'resources: [deployment.yaml]\n',
  'base/deployment.yaml': deployment('1.0.0'),
  'dev/kustomization.yaml':
    'resources: [../base]\nimages:\n  - name: ghcr.io/acme/app\n    newTag: "1.1.0"\n',
  'bomb/kustomization.yaml':
    'resources: [../base]\npatches:\n  - target: { kind: Deployment }\n    path: bomb.yaml\n',
  'bomb/bomb.yaml': Array.from(
    { length: 30 },
    (_, i) => `- { op: copy, from: /spec, path: /spec/c${i} }\n`,
  ).join(''),
};

describe('ResolverPool', () => {
  const pools: ResolverPool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map(pool => pool.close()));
  });
  const pool = (
    entry?: string,
    resourceLimits?: ConstructorParameters<
      typeof ResolverPool
    >[0]['resourceLimits'],
  ) => {
    const created = new ResolverPool({
      size: 2,
      logger: mockServices.logger.mock(),
      entry,
      resourceLimits,
    });
    pools.push(created);
    return created;
  };

  it('resolves on worker threads exactly what resolving in place gives, probes included', async () => {
    const snapshot = memorySnapshot(files);
    const [onWorker, inPlace] = await Promise.all([
      pool().resolve(snapshot, 'dev'),
      resolveEnvironment(snapshot, 'dev'),
    ]);
    expect(onWorker).toEqual(inPlace);
    expect(onWorker.version).toBe('1.1.0');
  });

  it('reports a hostile environment as a ResolutionError of its own, while the event loop keeps running', async () => {
    const snapshot = memorySnapshot(files);
    const resolver = pool();
    await resolver.resolve(snapshot, 'dev');
    const loop = watchEventLoop();
    const [bomb, dev] = await Promise.all([
      resolver.resolve(snapshot, 'bomb').catch(e => e),
      resolver.resolve(snapshot, 'dev'),
    ]);
    expect(loop.stop()).toBeLessThan(200);
    expect(bomb).toBeInstanceOf(ResolutionError);
    expect(bomb.file).toBe('bomb/bomb.yaml');
    expect(bomb.message).toContain('multiplies its input');
    expect(bomb.probes.files['bomb/bomb.yaml']).toBeDefined();
    expect(dev.version).toBe('1.1.0');
  });

  it('stops a worker whose resolution never ends, fails only that environment, and goes on', async () => {
    // A worker that hangs on one path stands for code that loops where no budget reaches.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resolver-pool-'));
    const entry = path.join(dir, 'hangingWorker.js');
    fs.writeFileSync(
      entry,
      `const { parentPort } = require('node:worker_threads');
parentPort.on('message', message => {
  if (message.type !== 'resolve') return;
  if (message.path === 'hang') for (;;) {}
  parentPort.postMessage({ type: 'resolved', job: message.job, result: { version: message.path } });
});
`,
    );
    const resolver = pool(entry);
    const snapshot = memorySnapshot(files);
    const limits = {
      files: 100,
      bytes: 1e6,
      objects: 100,
      copies: 1e6,
      milliseconds: 100,
    };
    const loop = watchEventLoop();
    const started = performance.now();
    const [hung, other] = await Promise.all([
      resolver.resolve(snapshot, 'hang', { limits }).catch(e => e),
      resolver.resolve(snapshot, 'fine', { limits }),
    ]);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(loop.stop()).toBeLessThan(200);
    expect(hung).toBeInstanceOf(ResolutionError);
    expect(hung.message).toBe(
      'hang: resolving the environment did not end within 2100 ms and was stopped',
    );
    expect(other.version).toBe('fine');
    // The pool replaced the stopped worker.
    expect(
      (await resolver.resolve(snapshot, 'after', { limits })).version,
    ).toBe('after');
  });

  it('stops a worker that outgrows its memory cap, fails only that environment, and goes on', async () => {
    // A worker that hoards memory on one path stands for a resolution no budget counts.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resolver-pool-'));
    const entry = path.join(dir, 'hoardingWorker.js');
    fs.writeFileSync(
      entry,
      `const { parentPort } = require('node:worker_threads');
const hoard = [];
parentPort.on('message', message => {
  if (message.type !== 'resolve') return;
  if (message.path === 'hoard') for (;;) hoard.push(new Array(1e5).fill(hoard.length));
  parentPort.postMessage({ type: 'resolved', job: message.job, result: { version: message.path } });
});
`,
    );
    const resolver = pool(entry, { maxOldGenerationSizeMb: 32 });
    const snapshot = memorySnapshot(files);
    const before = process.memoryUsage().heapUsed;
    const [hoarded, other] = await Promise.all([
      resolver.resolve(snapshot, 'hoard').catch(e => e),
      resolver.resolve(snapshot, 'fine'),
    ]);
    expect(hoarded).toBeInstanceOf(ResolutionError);
    expect(hoarded.message).toBe(
      'hoard: resolving the environment needed more than the 32 MB a resolution worker may use, and was stopped',
    );
    expect(other.version).toBe('fine');
    // The backend's own heap did not take the hoard.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(
      64 * 1024 * 1024,
    );
    expect((await resolver.resolve(snapshot, 'after')).version).toBe('after');
  });
});
