import { resolveEnvironment, ResolutionError } from '.';
import { memorySnapshot } from '../testing/memorySnapshot';

const deployment = (name: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ${name} }\nspec:\n  template:\n    spec:\n      containers: [{ name: app, image: "ghcr.io/acme/app:1.0.0" }]\n`;

/** Resolves and returns the error, timing it. */
async function failure(files: Record<string, string>, path = 'env') {
  const started = performance.now();
  const error = await resolveEnvironment(memorySnapshot(files), path).then(
    () => undefined,
    (e: Error) => e,
  );
  return { error, ms: performance.now() - started };
}

describe('hostile input: repository content, resolved', () => {
  it('matches a catastrophic patch-target pattern in linear time (RE2), not for hours', async () => {
    const name = 'a'.repeat(40);
    const files = {
      'env/kustomization.yaml': `resources: [deployment.yaml]
patches:
  - target: { kind: Deployment, name: "(a+)+b" }
    patch: |-
      - op: add
        path: /metadata/labels
        value: { hit: "yes" }
`,
      'env/deployment.yaml': deployment(name),
    };
    const started = performance.now();
    const resolved = await resolveEnvironment(memorySnapshot(files), 'env');
    expect(performance.now() - started).toBeLessThan(1000);
    // (a+)+b does not match a run of a's: the patch applies to nothing and says so.
    expect(resolved.warnings).toEqual([
      expect.stringContaining('matches no resource'),
    ]);
  });

  it('stops a JSON-patch copy bomb at its copy budget, within a second, naming the file', async () => {
    const copies = Array.from(
      { length: 30 },
      (_, i) => `  - op: copy\n    from: /spec\n    path: /spec/c${i}\n`,
    ).join('');
    const { error, ms } = await failure({
      'env/kustomization.yaml': `resources: [deployment.yaml]
patches:
  - target: { kind: Deployment }
    path: bomb.yaml
`,
      'env/bomb.yaml': copies,
      'env/deployment.yaml': deployment('app'),
    });
    expect(ms).toBeLessThan(1000);
    expect(error).toBeInstanceOf(ResolutionError);
    expect(error!.message).toMatch(
      /^env\/bomb.yaml: JSON patch on Deployment\/app failed: the patch adds more than 100000 values to its target; it multiplies its input$/,
    );
  });

  it('refuses a JSON patch of more operations than any real one holds', async () => {
    const ops = Array.from(
      { length: 1001 },
      (_, i) => `- { op: add, path: /metadata/labels/l${i}, value: "x" }\n`,
    ).join('');
    const { error } = await failure({
      'env/kustomization.yaml':
        'resources: [deployment.yaml]\npatches:\n  - target: { kind: Deployment }\n    path: ops.yaml\n',
      'env/ops.yaml': `- { op: add, path: /metadata/labels, value: {} }\n${ops}`,
      'env/deployment.yaml': deployment('app'),
    });
    expect(error!.message).toContain('at most 1000 operations');
  });

  it('refuses a strategic merge of lists longer than any real one, within a second', async () => {
    const containers = Array.from(
      { length: 2001 },
      (_, i) => `{ name: c${i}, image: "x:1" }`,
    ).join(', ');
    const { error, ms } = await failure({
      'env/kustomization.yaml':
        'resources: [deployment.yaml]\npatches: [{ path: many.yaml }]\n',
      'env/many.yaml': `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: app }\nspec:\n  template:\n    spec:\n      containers: [${containers}]\n`,
      'env/deployment.yaml': deployment('app'),
    });
    expect(ms).toBeLessThan(1000);
    expect(error!.message).toBe(
      'env/many.yaml: strategic merge patch on Deployment/app failed: a merged list may hold at most 2000 items, not 2002',
    );
  });

  it('refuses a pattern longer than any name it could match', async () => {
    const { error } = await failure({
      'env/kustomization.yaml': `resources: [deployment.yaml]\npatches:\n  - target: { name: "${'a'.repeat(
        600,
      )}" }\n    patch: '[]'\n`,
      'env/deployment.yaml': deployment('app'),
    });
    expect(error!.message).toContain(
      'patch target name is longer than 512 characters',
    );
  });

  it('stops an environment that reads more files or bytes than its budget', async () => {
    const files: Record<string, string> = {
      'env/kustomization.yaml': `resources:\n${Array.from(
        { length: 30 },
        (_, i) => `  - c${i}.yaml\n`,
      ).join('')}`,
    };
    for (let i = 0; i < 30; i++) {
      files[
        `env/c${i}.yaml`
      ] = `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c${i} }\ndata:\n  x: "${'y'.repeat(
        1000,
      )}"\n`;
    }
    const byFiles = await resolveEnvironment(memorySnapshot(files), 'env', {
      limits: {
        files: 10,
        bytes: 1e9,
        objects: 1e6,
        copies: 1e9,
        milliseconds: 1e6,
      },
    }).catch(e => e);
    expect(byFiles.message).toMatch(/reads more than 10 files$/);
    const byBytes = await resolveEnvironment(memorySnapshot(files), 'env', {
      limits: {
        files: 1e6,
        bytes: 5000,
        objects: 1e6,
        copies: 1e9,
        milliseconds: 1e6,
      },
    }).catch(e => e);
    expect(byBytes.message).toMatch(/reads more than 5000 bytes$/);
    const byCopies = await resolveEnvironment(memorySnapshot(files), 'env', {
      limits: {
        files: 1e6,
        bytes: 1e9,
        objects: 1e6,
        copies: 50,
        milliseconds: 1e6,
      },
    }).catch(e => e);
    expect(byCopies.message).toMatch(/copies more than 50 values/);
  });

  it('stops an environment that takes longer than its time budget', async () => {
    const files: Record<string, string> = {
      'env/kustomization.yaml': 'resources: [a.yaml]\n',
      'env/a.yaml': deployment('app'),
    };
    const { error } = await (async () => {
      const e = await resolveEnvironment(memorySnapshot(files), 'env', {
        limits: {
          files: 1e6,
          bytes: 1e9,
          objects: 1e6,
          copies: 1e9,
          milliseconds: -1,
        },
      }).catch(caught => caught);
      return { error: e };
    })();
    expect(error.message).toMatch(/took more than -1 ms$/);
  });
});
