import fs from 'node:fs';
import path from 'node:path';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import {
  FileChange,
  resolveEnvironment,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import { memorySnapshot } from '@gitops-promotions/plugin-promotions-node/testUtils';
import { exampleRepositoryTrees } from '@internal/promotions-fixtures';
import { structuredPatch } from 'diff';
import { parse, parseAllDocuments } from 'yaml';
import { editVersion } from './editVersion';
import { overlaySnapshot } from './overlaySnapshot';

const root = path.resolve(__dirname, '../../../..');

/** The example repository's main branch, as `scripts/prepare-example-repo.mjs` builds it. */
function exampleMain(): Record<string, string> {
  return exampleRepositoryTrees(root).find(
    tree => tree.repository === 'example-gitops' && tree.ref === 'main',
  )!.files;
}

/**
 * Every environment of every example service kept in a directory (or values file) per
 * environment on one branch of one repository: the ones the portal promotes by editing files.
 */
function directoryPerEnvironment() {
  const config = parse(
    fs.readFileSync(path.join(root, 'app-config.yaml'), 'utf8'),
  ) as { promotions: { pipelines: Record<string, Array<{ name: string }>> } };
  const entities = parseAllDocuments(
    fs.readFileSync(path.join(root, 'examples/entities.yaml'), 'utf8'),
  ).map(d => d.toJS()) as Array<{
    kind: string;
    metadata: { name: string; annotations?: Record<string, string> };
  }>;
  return entities.flatMap(({ kind, metadata: { name, annotations = {} } }) => {
    const pathPattern = annotations['gitops-promotions/path'];
    if (
      kind !== 'Component' ||
      !pathPattern?.includes('{env}') ||
      annotations['gitops-promotions/repository']?.includes('{env}') ||
      annotations['gitops-promotions/ref'] ||
      annotations['gitops-promotions/tag'] ||
      annotations['gitops-promotions/argocd-manifest']
    ) {
      return [];
    }
    const pipeline =
      config.promotions.pipelines[
        annotations['gitops-promotions/pipeline'] ?? 'default'
      ];
    return pipeline.map(({ name: environment }) => ({
      service: name,
      environment,
      envPath: pathPattern.replace('{env}', environment),
      image: annotations['gitops-promotions/image'],
      versionKey: annotations['gitops-promotions/version-key'] ?? 'image.tag',
    }));
  });
}

/** The lines a change removes and adds, hunk by hunk, without the `-`/`+`. */
function changedLines(before: string, after: string) {
  return structuredPatch('a', 'b', before, after).hunks.map(hunk => ({
    removed: hunk.lines.filter(l => l.startsWith('-')).map(l => l.slice(1)),
    added: hunk.lines.filter(l => l.startsWith('+')).map(l => l.slice(1)),
  }));
}

/** Each image edited in turn, on the files as the previous edit left them, as a plan does. */
async function editImages(
  snapshot: RepositorySnapshot,
  envPath: string,
  images: ImageRef[],
  versionKey = 'image.tag',
  inputs?: string[],
) {
  let after = snapshot;
  const changed = new Map<string, FileChange>();
  for (const image of images) {
    const changes = await editVersion({
      snapshot: after,
      path: envPath,
      image,
      versionKey,
      inputs,
    });
    for (const change of changes) changed.set(change.path, change);
    after = overlaySnapshot(after, changes);
  }
  return { changes: [...changed.values()], after };
}

const DIGEST = `sha256:${'c'.repeat(64)}`;

/** The next version of an image: another tag, and another digest when it is pinned by one. */
const nextVersion = (image: ImageRef): ImageRef => ({
  name: image.name,
  tag: image.tag ? `${image.tag}-next` : null,
  digest: image.digest ? DIGEST : null,
});

describe('editVersion on every environment of the example repository', () => {
  const files = exampleMain();
  const snapshot = memorySnapshot(files);
  const environments = directoryPerEnvironment();

  it('finds every directory-per-environment service of the examples', () => {
    expect([...new Set(environments.map(e => e.service))]).toEqual(
      expect.arrayContaining(['payment', 'checkout', 'catalog-api', 'orders']),
    );
    expect(environments.length).toBeGreaterThanOrEqual(14);
  });

  /**
   * Only lines holding a version changed, each into the same line with the new version, or
   * lines were only added (an images entry of the environment's own).
   */
  function expectOnlyVersionLines(
    changes: FileChange[],
    before: ImageRef[],
    after: ImageRef[],
  ) {
    for (const change of changes) {
      for (const { removed, added } of changedLines(
        files[change.path],
        change.content!.toString(),
      )) {
        // Each removed line comes back with the new version; any other added line is part of an
        // images entry of the environment's own.
        const replaced = removed.map(line => {
          const text = before.reduce(
            (changed, old, i) =>
              changed
                .split(old.digest ?? '\0')
                .join(after[i].digest ?? '')
                .split(old.tag ?? '\0')
                .join(after[i].tag ?? ''),
            line,
          );
          expect(text).not.toBe(line);
          return text;
        });
        const others = [...added];
        for (const line of replaced) {
          expect(others).toContain(line);
          others.splice(others.indexOf(line), 1);
        }
        for (const line of others) {
          expect(line).toMatch(/^\s*(- )?(images|name|newTag|digest):/);
        }
      }
    }
  }

  describe.each(environments)(
    '$service $environment ($envPath)',
    ({ envPath, image: serviceImage, versionKey }) => {
      it('promotes the service image: only its version lines change, and the environment runs it', async () => {
        const before = await resolveEnvironment(snapshot, envPath, {
          image: serviceImage,
          versionKey,
        });
        const current = before.images.find(i =>
          serviceImage ? i.name === serviceImage : true,
        )!;
        const wanted = nextVersion(current);
        const { changes, after } = await editImages(
          snapshot,
          envPath,
          [wanted],
          versionKey,
          before.inputs,
        );
        expect(changes.length).toBeGreaterThan(0);
        expectOnlyVersionLines(changes, [current], [wanted]);

        const resolved = await resolveEnvironment(after, envPath, {
          image: serviceImage,
          versionKey,
        });
        expect(resolved.images).toContainEqual(wanted);
      });

      it('promotes every image it runs at once: only version lines change or images entries are added, and it runs them all', async () => {
        const before = await resolveEnvironment(snapshot, envPath, {
          image: serviceImage,
          versionKey,
        });
        // A Helm environment keeps one version key: the service's image is all it can set.
        const current =
          before.layout === 'helm' ? before.images.slice(0, 1) : before.images;
        const wanted = current.map(nextVersion);
        const { changes, after } = await editImages(
          snapshot,
          envPath,
          wanted,
          versionKey,
          before.inputs,
        );
        expectOnlyVersionLines(changes, current, wanted);
        const resolved = await resolveEnvironment(after, envPath, {
          image: serviceImage,
          versionKey,
        });
        for (const image of wanted)
          expect(resolved.images).toContainEqual(image);
      });
    },
  );
});

describe('editVersion edits in place', () => {
  const edit = async (
    content: string,
    image: Partial<ImageRef>,
    file = 'env/kustomization.yaml',
    more: Record<string, string> = {},
  ) => {
    const [change] = await editVersion({
      snapshot: memorySnapshot({ [file]: content, ...more }),
      path: file.endsWith('kustomization.yaml') ? 'env' : file,
      image: { name: 'ghcr.io/acme/svc', tag: null, digest: null, ...image },
      versionKey: 'image.tag',
      inputs: Object.keys(more),
    });
    return change.content!.toString();
  };

  it('keeps comments on, above and below the version line', async () => {
    const content = [
      '# The environment of svc.',
      'images:',
      '  # Promotions change the tag below.',
      '  - name: ghcr.io/acme/svc # the service',
      '    newTag: "1.0.0"   # set by the portal',
      '    # nothing after the tag',
      '',
      'namespace: svc # here',
      '',
    ].join('\n');
    expect(await edit(content, { tag: '1.1.0' })).toBe(
      content.replace('"1.0.0"', '"1.1.0"'),
    );
  });

  it('keeps CRLF line endings, also on lines it adds', async () => {
    const content =
      'resources:\r\n  - ../base\r\nimages:\r\n  - name: ghcr.io/acme/svc\r\n    newTag: 1.0.0\r\n';
    expect(await edit(content, { tag: '1.1.0' })).toBe(
      content.replace('1.0.0', '1.1.0'),
    );
    expect(await edit(content, { tag: '1.1.0', digest: DIGEST })).toBe(
      `${content.replace('1.0.0', '1.1.0')}    digest: ${DIGEST}\r\n`,
    );
    expect(await edit('resources:\r\n  - ../base\r\n', { tag: '1.1.0' })).toBe(
      'resources:\r\n  - ../base\r\nimages:\r\n  - name: ghcr.io/acme/svc\r\n    newTag: "1.1.0"\r\n',
    );
  });

  it('leaves a file without a final newline without one, also when it adds lines', async () => {
    expect(
      await edit('images:\n- name: ghcr.io/acme/svc\n  newTag: v1', {
        tag: 'v2',
      }),
    ).toBe('images:\n- name: ghcr.io/acme/svc\n  newTag: v2');
    expect(
      await edit('namespace: svc', { tag: 'v2' }, 'env/kustomization.yaml', {
        'env/deployment.yaml': 'kind: Deployment\n',
      }),
    ).toBe(
      'namespace: svc\nimages:\n  - name: ghcr.io/acme/svc\n    newTag: "v2"',
    );
  });

  it('edits flow-style images in place, adding a digest or an entry inside the brackets', async () => {
    const content = 'images: [{name: ghcr.io/acme/svc, newTag: "1"}] # flow\n';
    expect(await edit(content, { tag: '2' })).toBe(
      'images: [{name: ghcr.io/acme/svc, newTag: "2"}] # flow\n',
    );
    expect(await edit(content, { tag: '2', digest: DIGEST })).toBe(
      `images: [{name: ghcr.io/acme/svc, newTag: "2", digest: ${DIGEST}}] # flow\n`,
    );
    expect(
      await edit(content, { name: 'ghcr.io/acme/sidecar', tag: '0.2' }),
    ).toBe(
      'images: [{name: ghcr.io/acme/svc, newTag: "1"}, {name: ghcr.io/acme/sidecar, newTag: "0.2"}] # flow\n',
    );
    expect(await edit('images: []\n', { tag: '2' })).toBe(
      'images: [{name: ghcr.io/acme/svc, newTag: "2"}]\n',
    );
  });

  it.each([
    ['1.10', 'newTag: "1.10"'],
    ['true', 'newTag: "true"'],
    ['0x1F', 'newTag: "0x1F"'],
    ['on', 'newTag: "on"'],
    ['1e3', 'newTag: "1e3"'],
    ['v1.10', 'newTag: v1.10'],
  ])(
    'writes %s plain only if it reads back as that text',
    async (tag, line) => {
      const result = await edit(
        'images:\n  - name: ghcr.io/acme/svc\n    newTag: v1 # plain\n',
        { tag },
      );
      expect(result).toBe(
        `images:\n  - name: ghcr.io/acme/svc\n    ${line} # plain\n`,
      );
      expect(parse(result).images[0].newTag).toBe(tag);
    },
  );

  it('keeps single and double quotes as written', async () => {
    expect(
      await edit("images:\n  - name: ghcr.io/acme/svc\n    newTag: '1.0'\n", {
        tag: '1.1',
      }),
    ).toBe("images:\n  - name: ghcr.io/acme/svc\n    newTag: '1.1'\n");
    expect(
      await edit('image:\n  tag: "1.0"\n', { tag: '1.1' }, 'values.yaml'),
    ).toBe('image:\n  tag: "1.1"\n');
  });

  it('adds a digest on a line of its own, and removes a tag for a digest-only version', async () => {
    const content = 'images:\n  - name: ghcr.io/acme/svc\n    newTag: "1.0"\n';
    expect(await edit(content, { tag: '1.1', digest: DIGEST })).toBe(
      `${content.replace('1.0', '1.1')}    digest: ${DIGEST}\n`,
    );
    expect(
      await edit(
        `images:\n  - name: ghcr.io/acme/svc\n    newTag: "1.0"\n    # pinned\n    digest: sha256:${'a'.repeat(
          64,
        )}\n`,
        { digest: DIGEST },
      ),
    ).toBe(
      `images:\n  - name: ghcr.io/acme/svc\n    # pinned\n    digest: ${DIGEST}\n`,
    );
  });

  it('sets a digest in a Helm values file beside the tag, and removes it when the version has none', async () => {
    const pinned = `image:\n  repository: ghcr.io/acme/svc\n  tag: "1.0"\n  digest: sha256:${'a'.repeat(
      64,
    )} # pin\nreplicaCount: 2\n`;
    expect(
      await edit(pinned, { tag: '1.1', digest: DIGEST }, 'values.yaml'),
    ).toBe(
      pinned.replace('1.0', '1.1').replace('a'.repeat(64), 'c'.repeat(64)),
    );
    expect(await edit(pinned, { tag: '1.1' }, 'values.yaml')).toBe(
      'image:\n  repository: ghcr.io/acme/svc\n  tag: "1.1"\nreplicaCount: 2\n',
    );
  });

  it('adds a missing Helm key with the indentation the file uses', async () => {
    expect(
      await edit(
        'image:\n    repository: ghcr.io/acme/svc\nreplicaCount: 2\n',
        { tag: '1.1' },
        'values.yaml',
      ),
    ).toBe(
      'image:\n    repository: ghcr.io/acme/svc\n    tag: "1.1"\nreplicaCount: 2\n',
    );
    expect(
      await edit(
        'service:\n    port: 80\n# more below\n',
        { tag: '1.1' },
        'values.yaml',
      ),
    ).toBe('service:\n    port: 80\nimage:\n    tag: "1.1"\n# more below\n');
  });

  it('fills a key written empty, and writes the first keys of a values file that holds none', async () => {
    expect(
      await edit(
        'image:\n  tag:\n  repository: x\n',
        { tag: '1.1' },
        'values.yaml',
      ),
    ).toBe('image:\n  tag: "1.1"\n  repository: x\n');
    expect(
      await edit(
        'image: # set by promotions\nreplicaCount: 1\n',
        { tag: '1.1' },
        'values.yaml',
      ),
    ).toBe('image: # set by promotions\n  tag: "1.1"\nreplicaCount: 1\n');
    expect(await edit('images:\nresources: [../base]\n', { tag: '2' })).toBe(
      'images:\n  - name: ghcr.io/acme/svc\n    newTag: "2"\nresources: [../base]\n',
    );
    expect(await edit('', { tag: '1.1' }, 'values.yaml')).toBe(
      'image:\n  tag: "1.1"\n',
    );
    expect(
      await edit(
        '# values of dev\n',
        { tag: '1.1', digest: DIGEST },
        'values.yaml',
      ),
    ).toBe(`# values of dev\nimage:\n  tag: "1.1"\n  digest: ${DIGEST}\n`);
  });

  it('adds an images entry with the indentation of the list, or of the lists of the file', async () => {
    expect(
      await edit(
        'images:\n- name: ghcr.io/acme/other\n  newTag: "1"\n',
        { tag: '2' },
        'env/kustomization.yaml',
        { 'env/deployment.yaml': 'kind: Deployment\n' },
      ),
    ).toBe(
      'images:\n- name: ghcr.io/acme/other\n  newTag: "1"\n- name: ghcr.io/acme/svc\n  newTag: "2"\n',
    );
    expect(
      await edit('resources:\n    -   ../base\nnamespace: svc\n', { tag: '2' }),
    ).toBe(
      'resources:\n    -   ../base\nnamespace: svc\nimages:\n    - name: ghcr.io/acme/svc\n      newTag: "2"\n',
    );
  });

  it('keeps document markers, and changes only the patch document that sets the image', async () => {
    const patch = [
      '---',
      'kind: Deployment',
      'spec: {template: {spec: {containers: [{name: svc, image: "ghcr.io/acme/svc:1.0"}]}}}',
      '...',
      '---',
      '# the worker',
      'kind: Deployment',
      'spec:',
      '  template:',
      '    spec:',
      '      containers:',
      '        - name: worker',
      '          image: ghcr.io/acme/worker:3.0',
      '',
    ].join('\n');
    const [change] = await editVersion({
      snapshot: memorySnapshot({
        'env/kustomization.yaml': 'patches:\n  - path: version.yaml\n',
        'env/version.yaml': patch,
      }),
      path: 'env',
      image: { name: 'ghcr.io/acme/svc', tag: '1.1', digest: DIGEST },
      versionKey: 'image.tag',
      inputs: ['env/kustomization.yaml', 'env/version.yaml'],
    });
    expect(change.path).toBe('env/version.yaml');
    expect(change.content!.toString()).toBe(
      patch.replace('ghcr.io/acme/svc:1.0', `ghcr.io/acme/svc:1.1@${DIGEST}`),
    );
  });

  it('refuses a version reached through an alias, or shared through an anchor, instead of changing every use', async () => {
    await expect(
      edit(
        'defaults: &image\n  tag: "1.0"\nimage: *image\n',
        { tag: '1.1' },
        'values.yaml',
      ),
    ).rejects.toThrow(
      'values.yaml: image is reached through the alias *image; set it where the anchor &image is, or write it out, and promote again: nothing was changed',
    );
    await expect(
      edit(
        'images:\n  - name: ghcr.io/acme/svc\n    newTag: &v "1.0"\n  - name: ghcr.io/acme/worker\n    newTag: *v\n',
        { tag: '1.1' },
      ),
    ).rejects.toThrow(
      'env/kustomization.yaml: newTag of ghcr.io/acme/svc lies in &v, which other places use through *v; changing it would change them all: nothing was changed',
    );
    // An anchor nothing refers to is kept, and its value changed.
    expect(
      await edit('image:\n  tag: &t "1.0"\n', { tag: '1.1' }, 'values.yaml'),
    ).toBe('image:\n  tag: &t "1.1"\n');
  });

  it('refuses a version written as a block scalar, saying so', async () => {
    await expect(
      edit('image:\n  tag: |\n    1.0\n', { tag: '1.1' }, 'values.yaml'),
    ).rejects.toThrow(
      'values.yaml: image.tag is a block scalar (| or >); write it on one line to promote it: nothing was changed',
    );
  });

  it('refuses to drop a digest pin silently: the request must give the digest', async () => {
    await expect(
      edit(
        `images:\n  - name: ghcr.io/acme/svc\n    newTag: "1"\n    digest: ${DIGEST}\n`,
        { tag: '2' },
      ),
    ).rejects.toThrow(
      'env/kustomization.yaml pins its image by digest, and ghcr.io/acme/svc:2 comes without one: give the digest to pin it by',
    );
  });

  it('promotes several images at once: sets the ones the environment has and adds the ones only the base sets', async () => {
    const base = {
      'svc/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
      'svc/base/deployment.yaml': [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: svc }',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: svc',
        '          image: ghcr.io/acme/svc:1.0.0',
        '        - name: shipper',
        '          image: ghcr.io/acme/shipper:0.1',
        '',
      ].join('\n'),
      'svc/overlays/prod/kustomization.yaml': [
        '# prod of svc',
        'resources:',
        '  - ../../base',
        'images:',
        '  - name: ghcr.io/acme/svc',
        '    newTag: 1.0.0 # the service',
        '# the end',
        '',
      ].join('\n'),
    };
    const snapshot = memorySnapshot(base);
    const images = [
      { name: 'ghcr.io/acme/svc', tag: '1.1.0', digest: null },
      { name: 'ghcr.io/acme/shipper', tag: '0.2', digest: null },
    ];
    const { changes, after } = await editImages(
      snapshot,
      'svc/overlays/prod',
      images,
      'image.tag',
      (
        await resolveEnvironment(snapshot, 'svc/overlays/prod')
      ).inputs,
    );
    expect(changes.map(c => c.content!.toString())).toEqual([
      [
        '# prod of svc',
        'resources:',
        '  - ../../base',
        'images:',
        '  - name: ghcr.io/acme/svc',
        '    newTag: 1.1.0 # the service',
        '  - name: ghcr.io/acme/shipper',
        '    newTag: "0.2"',
        '# the end',
        '',
      ].join('\n'),
    ]);
    const resolved = await resolveEnvironment(after, 'svc/overlays/prod');
    expect(resolved.images).toEqual(expect.arrayContaining(images));
  });
});
