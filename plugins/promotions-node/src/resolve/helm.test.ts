import { resolveEnvironment } from '.';
import { memorySnapshot } from '../testing/memorySnapshot';

const digest = `sha256:fedcba9876543210${'e'.repeat(48)}`;
const chart = {
  'charts/catalog-api/values.yaml': `image:
  repository: ghcr.io/acme/catalog-api
  tag: "3.0.0"
replicaCount: 1
hosts: [a.example.com, b.example.com]
resources:
  limits: { memory: 256Mi, cpu: 500m }
debug: { enabled: true }
`,
  'charts/catalog-api/values-prod.yaml': `image:
  tag: "3.1.0"
replicaCount: 4
hosts: [prod.example.com]
resources:
  limits: { cpu: "2" }
debug: null
`,
  'charts/catalog-api/values-custom.yaml':
    'app:\n  image:\n    registry: ghcr.io\n    repository: acme/catalog-api\n    release: "3.2.0"\n',
  'charts/catalog-api/values-pinned.yaml': `image:\n  tag: null\n  digest: ${digest}\n`,
  'charts/catalog-api/values-pinned-tag.yaml': `image:\n  tag: "3.3.0"\n  digest: ${digest}\n`,
  'charts/web/values-dev.yaml': 'image: { repository: web, tag: "7" }\n',
};

const resolve = (
  path: string,
  options = {},
  files: Record<string, string> = chart,
) => resolveEnvironment(memorySnapshot(files), path, options);

describe('resolveEnvironment: Helm values', () => {
  it('merges the environment file over values.yaml: maps merge, lists are replaced, null removes a key', async () => {
    const env = await resolve('charts/catalog-api/values-prod.yaml');
    expect(env).toMatchObject({
      layout: 'helm',
      path: 'charts/catalog-api/values-prod.yaml',
      version: '3.1.0',
      images: [
        { name: 'ghcr.io/acme/catalog-api', tag: '3.1.0', digest: null },
      ],
      inputs: [
        'charts/catalog-api/values.yaml',
        'charts/catalog-api/values-prod.yaml',
      ],
      warnings: [],
    });
    expect(env.comparable).toEqual([
      {
        id: 'HelmValues/values',
        body: {
          image: { repository: 'ghcr.io/acme/catalog-api' },
          replicaCount: 4,
          hosts: ['prod.example.com'],
          resources: { limits: { memory: '256Mi', cpu: '2' } },
        },
      },
    ]);
  });

  it('reads a configured version key, with the registry beside the repository', async () => {
    const env = await resolve('charts/catalog-api/values-custom.yaml', {
      versionKey: 'app.image.release',
    });
    expect(env.images).toEqual([
      { name: 'ghcr.io/acme/catalog-api', tag: '3.2.0', digest: null },
    ]);
    expect(env.version).toBe('3.2.0');
    expect((env.comparable[0].body as any).app.image).toEqual({
      registry: 'ghcr.io',
      repository: 'acme/catalog-api',
    });
  });

  it('reads the digest beside the version key, shown by the tag when there is one', async () => {
    const pinned = await resolve('charts/catalog-api/values-pinned.yaml');
    expect(pinned.images).toEqual([
      { name: 'ghcr.io/acme/catalog-api', tag: null, digest },
    ]);
    expect(pinned.version).toBe('sha256:fedcba987654');
    const tagged = await resolve('charts/catalog-api/values-pinned-tag.yaml');
    expect(tagged.version).toBe('3.3.0');
    expect(tagged.comparable[0].body).toMatchObject({
      image: { repository: 'ghcr.io/acme/catalog-api' },
    });
    expect(JSON.stringify(tagged.comparable)).not.toContain('sha256');
  });

  it('reads values.yaml alone, and a values file without a values.yaml beside it', async () => {
    expect((await resolve('charts/catalog-api/values.yaml')).inputs).toEqual([
      'charts/catalog-api/values.yaml',
    ]);
    const alone = await resolve(
      'apps/web/values-dev.yml',
      {},
      { 'apps/web/values-dev.yml': 'image: { repository: web, tag: "7" }\n' },
    );
    expect(alone).toMatchObject({
      version: '7',
      inputs: ['apps/web/values-dev.yml'],
    });
  });

  it('has no version when the version key is absent', async () => {
    const env = await resolve(
      'charts/web/values-dev.yaml',
      { versionKey: 'web.image.tag' },
      chart,
    );
    expect(env).toMatchObject({
      version: null,
      images: [],
      inputs: ['charts/web/values-dev.yaml'],
    });
  });
});

describe('Helm version keys that name object internals', () => {
  it('refuses them without touching Object.prototype', async () => {
    const snapshot = memorySnapshot({
      'c/values-dev.yaml': 'image:\n  tag: "1.0"\n',
    });
    for (const versionKey of [
      '__proto__.hasOwnProperty',
      'constructor.prototype.x',
      'image..tag',
    ]) {
      await expect(
        resolveEnvironment(snapshot, 'c/values-dev.yaml', { versionKey }),
      ).rejects.toThrow('is not a usable values key path');
    }
    expect(typeof Object.prototype.hasOwnProperty).toBe('function');
  });
});
