import fs from 'node:fs';
import path from 'node:path';
import { resolveEnvironment } from '@gitops-promotions/plugin-promotions-node';
import { memorySnapshot } from '@gitops-promotions/plugin-promotions-node/testUtils';
import { structuredPatch } from 'diff';
import { parse } from 'yaml';
import { editVersion } from './editVersion';
import { overlaySnapshot } from './overlaySnapshot';

/** The example repository's files as they end up after its whole history. */
function exampleRepository(): Record<string, string> {
  const history = parse(
    fs.readFileSync(
      path.resolve(__dirname, '../../../../examples/gitops/history.yaml'),
      'utf8',
    ),
  ) as Array<{ files: Record<string, string | null> }>;
  const files: Record<string, string> = {};
  for (const commit of history) {
    for (const [file, content] of Object.entries(commit.files)) {
      if (content === null) delete files[file];
      else files[file] = content;
    }
  }
  return files;
}

/** The lines a change removes and adds, file by file. */
function changedLines(
  before: Record<string, string>,
  changes: Array<{ path: string; content: Buffer | null }>,
) {
  return changes.map(change => {
    const patch = structuredPatch(
      change.path,
      change.path,
      before[change.path] ?? '',
      change.content?.toString() ?? '',
    );
    return {
      path: change.path,
      lines: patch.hunks.flatMap(h =>
        h.lines.filter(l => l.startsWith('+') || l.startsWith('-')),
      ),
    };
  });
}

describe('editVersion on every layout of the example repository', () => {
  const files = exampleRepository();
  const snapshot = memorySnapshot(files);

  it.each([
    [
      'payment (images transformer, name prefix)',
      'payment/overlays/staging',
      { name: 'ghcr.io/acme/payment', tag: '1.6.0', digest: null },
      undefined,
      '1.6.0',
    ],
    [
      'payment prod (pinned by digest)',
      'payment/overlays/prod',
      {
        name: 'ghcr.io/acme/payment',
        tag: '1.5.0',
        digest: `sha256:${'b'.repeat(64)}`,
      },
      undefined,
      '1.5.0',
    ],
    [
      'checkout (a strategic-merge patch holds the image)',
      'checkout/envs/prod-eu',
      { name: 'ghcr.io/acme/checkout', tag: '2.8.0', digest: null },
      undefined,
      '2.8.0',
    ],
    [
      'catalog-api (Helm values)',
      'charts/catalog-api/values-prod.yaml',
      { name: 'ghcr.io/acme/catalog-api', tag: '3.2.0', digest: null },
      undefined,
      '3.2.0',
    ],
    [
      'orders (two containers, the service image)',
      'orders/overlays/prod',
      { name: 'ghcr.io/acme/orders', tag: '4.2.0', digest: null },
      'ghcr.io/acme/orders',
      '4.2.0',
    ],
  ])(
    '%s: changes only the version lines, keeping comments and formatting, and resolves to the new version',
    async (_, envPath, image, wanted, version) => {
      const before = await resolveEnvironment(snapshot, envPath, {
        image: wanted,
      });
      const changes = await editVersion({
        snapshot,
        path: envPath,
        image,
        versionKey: 'image.tag',
        inputs: before.inputs,
      });
      expect(changes).toHaveLength(1);
      const diff = changedLines(files, changes);
      // One value replaced, maybe its digest: never a reformatted file.
      const removed = diff[0].lines.filter(l => l.startsWith('-'));
      const added = diff[0].lines.filter(l => l.startsWith('+'));
      expect(removed.length).toBeGreaterThan(0);
      expect(removed.length).toBe(added.length);
      expect(removed.length).toBeLessThanOrEqual(2);
      for (const line of added) expect(line).toMatch(/tag|Tag|image|digest/);
      expect(changes[0].content!.toString()).toContain(
        // Comments are kept.
        files[changes[0].path]
          .split('\n')
          .find(l => l.trim().startsWith('#')) ?? '',
      );

      const after = await resolveEnvironment(
        overlaySnapshot(snapshot, changes),
        envPath,
        { image: wanted },
      );
      expect(after.version).toBe(version);
    },
  );

  it('refuses to drop a digest pin silently: the request must give the digest', async () => {
    await expect(
      editVersion({
        snapshot,
        path: 'payment/overlays/prod',
        image: { name: 'ghcr.io/acme/payment', tag: '1.5.0', digest: null },
        versionKey: 'image.tag',
      }),
    ).rejects.toThrow(
      'payment/overlays/prod/kustomization.yaml pins its image by digest, and ghcr.io/acme/payment:1.5.0 comes without one: give the digest to pin it by',
    );
  });

  it('keeps a plain scalar plain, and quotes one that would read back as a number', async () => {
    const [patch] = await editVersion({
      snapshot,
      path: 'checkout/envs/prod-eu',
      image: { name: 'ghcr.io/acme/checkout', tag: '2.8.0', digest: null },
      versionKey: 'image.tag',
      inputs: (
        await resolveEnvironment(snapshot, 'checkout/envs/prod-eu')
      ).inputs,
    });
    expect(patch.content!.toString()).toContain(
      '          image: ghcr.io/acme/checkout:2.8.0\n',
    );
    const [values] = await editVersion({
      snapshot: memorySnapshot({ 'values-dev.yaml': 'image:\n  tag: v1\n' }),
      path: 'values-dev.yaml',
      image: { name: 'x', tag: '1.10', digest: null },
      versionKey: 'image.tag',
    });
    expect(values.content!.toString()).toBe('image:\n  tag: "1.10"\n');
  });

  it('adds an images entry to the environment when only the base sets the version, as kustomize edit set image does', async () => {
    const base = {
      'svc/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
      'svc/base/deployment.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: svc }\nspec:\n  template:\n    spec:\n      containers:\n        - name: svc\n          image: ghcr.io/acme/svc:1.0.0\n',
      'svc/overlays/dev/kustomization.yaml':
        '# dev of svc\nresources:\n  - ../../base\nnamespace: svc-dev\n',
    };
    const changes = await editVersion({
      snapshot: memorySnapshot(base),
      path: 'svc/overlays/dev',
      image: { name: 'ghcr.io/acme/svc', tag: '1.1.0', digest: null },
      versionKey: 'image.tag',
    });
    expect(changes[0].content!.toString()).toBe(
      '# dev of svc\nresources:\n  - ../../base\nnamespace: svc-dev\nimages:\n  - name: ghcr.io/acme/svc\n    newTag: "1.1.0"\n',
    );
    const after = await resolveEnvironment(
      overlaySnapshot(memorySnapshot(base), changes),
      'svc/overlays/dev',
    );
    expect(after.version).toBe('1.1.0');
  });
});
