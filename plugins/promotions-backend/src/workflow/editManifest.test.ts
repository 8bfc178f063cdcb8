import { ConfigReader } from '@backstage/config';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import {
  manifestEnvironments,
  parseArgoCdManifest,
  RepositoryConfig,
  resolveEnvironment,
} from '@gitops-promotions/plugin-promotions-node';
import { memorySnapshot } from '@gitops-promotions/plugin-promotions-node/testUtils';
import { structuredPatch } from 'diff';
import { editManifestVersion, ManifestVersionEdit } from './editManifest';

const FILE = 'argocd/payment.yaml';
const ENVIRONMENTS = ['dev', 'staging', 'prod'];
const IMAGE = 'ghcr.io/acme/payment';

const repositories: RepositoryConfig[] = [
  {
    id: 'gitops',
    provider: 'git',
    url: 'https://github.com/acme/gitops',
    branch: 'main',
    config: new ConfigReader({}),
  },
];

/** The repository the Applications read: a Helm chart and a Kustomize base with an overlay per environment. */
const REPOSITORY: Record<string, string> = {
  'charts/payment/Chart.yaml':
    'apiVersion: v2\nname: payment\nversion: 0.1.0\n',
  'charts/payment/values.yaml': `image:\n  repository: ${IMAGE}\n  tag: "1.0.0"\n`,
  'apps/payment/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
  'apps/payment/base/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payment
spec:
  template:
    spec:
      containers:
        - name: payment
          image: ${IMAGE}:1.0.0
`,
  ...Object.fromEntries(
    ENVIRONMENTS.map(env => [
      `apps/payment/overlays/${env}/kustomization.yaml`,
      'resources:\n  - ../../base\n',
    ]),
  ),
};

const image = (tag: string | null, digest: string | null = null): ImageRef => ({
  name: IMAGE,
  tag,
  digest,
});

const DIGEST = `sha256:${'a'.repeat(64)}`;

/** Every environment's version, resolved as a refresh resolves it: manifest, then resolver. */
async function versions(manifest: string, versionKey = 'image.tag') {
  const snapshot = memorySnapshot({ ...REPOSITORY, [FILE]: manifest });
  const found = manifestEnvironments(
    await parseArgoCdManifest(manifest, { file: FILE }),
    {
      file: FILE,
      environments: ENVIRONMENTS,
      repositories,
      isHelmChart: path => snapshot.files.has(`${path}/Chart.yaml`),
    },
  );
  const out: Record<string, string | null> = {};
  for (const [environment, entry] of found) {
    if ('error' in entry) {
      out[environment] = 'not deployed';
      continue;
    }
    const resolved = await resolveEnvironment(snapshot, entry.path, {
      image: IMAGE,
      versionKey,
      ...(entry.helm ? { helm: entry.helm } : {}),
      ...(entry.kustomizeImages
        ? { kustomizeImages: entry.kustomizeImages }
        : {}),
    });
    const [first] = resolved.images;
    out[environment] = first
      ? `${first.tag ?? ''}${first.digest ? `@${first.digest}` : ''}`
      : null;
  }
  return out;
}

/** The lines the change removes and adds, hunk by hunk. */
function changedLines(before: string, after: string) {
  return structuredPatch('a', 'b', before, after, '', '', {
    context: 0,
  }).hunks.map(hunk => hunk.lines);
}

async function edit(
  manifest: string,
  environment: string,
  options: Partial<ManifestVersionEdit> = {},
) {
  const application =
    options.environment?.application ?? `payment-${environment}`;
  return editManifestVersion({
    file: FILE,
    text: manifest,
    environment: { environment, application },
    image: image('1.3.0'),
    ...options,
  });
}

/** The edited manifest, failing the test when the version is not in the manifest. */
async function edited(
  manifest: string,
  environment: string,
  options: Partial<ManifestVersionEdit> = {},
) {
  const result = await edit(manifest, environment, options);
  if (!('change' in result)) throw new Error('the manifest does not set it');
  expect(result.change.path).toBe(FILE);
  return result.change.content!.toString('utf8');
}

const application = (
  env: string,
  helm: string,
  extra = '',
) => `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: payment-${env}
spec:
  project: default
  source:
    repoURL: https://github.com/acme/gitops
    targetRevision: main
    path: charts/payment
${helm}${extra}  destination:
    server: https://kubernetes.default.svc
    namespace: payment-${env}
`;

describe('editManifestVersion: an Application', () => {
  it('changes the helm parameter named the version key, and only its line', async () => {
    const manifest = [
      application(
        'dev',
        `    helm:
      parameters:
        - name: image.tag # the dev build
          value: "1.2.0"
`,
      ),
      application(
        'staging',
        `    helm:
      parameters:
        - name: image.tag
          value: "1.1.0"
`,
      ),
      application('prod', '    helm: {}\n'),
    ].join('---\n');
    expect(await versions(manifest)).toEqual({
      dev: '1.2.0',
      staging: '1.1.0',
      prod: '1.0.0',
    });
    const after = await edited(manifest, 'staging');
    expect(changedLines(manifest, after)).toEqual([
      ['-          value: "1.1.0"', '+          value: "1.3.0"'],
    ]);
    expect(await versions(after)).toEqual({
      dev: '1.2.0',
      staging: '1.3.0',
      prod: '1.0.0',
    });
    // The other documents keep every byte.
    expect(after.split('---\n')[0]).toBe(manifest.split('---\n')[0]);
    expect(after.split('---\n')[2]).toBe(manifest.split('---\n')[2]);
  });

  it('sets the digest parameter beside the version, and adds one when there is none', async () => {
    const manifest = application(
      'prod',
      `    helm:
      parameters:
        - name: image.tag
          value: '1.1.0'
        - name: image.digest
          value: sha256:${'b'.repeat(64)}
`,
    );
    const after = await edited(manifest, 'prod', {
      image: image('1.3.0', DIGEST),
    });
    expect(changedLines(manifest, after)).toEqual([
      ["-          value: '1.1.0'", "+          value: '1.3.0'"],
      [
        '-          value: sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
        `+          value: ${DIGEST}`,
      ],
    ]);
    const without = application(
      'prod',
      `    helm:
      parameters:
        - name: image.tag
          value: '1.1.0'
`,
    );
    const added = await edited(without, 'prod', {
      image: image('1.3.0', DIGEST),
    });
    expect(changedLines(without, added)).toEqual([
      [
        "-          value: '1.1.0'",
        "+          value: '1.3.0'",
        '+        - name: image.digest',
        `+          value: ${DIGEST}`,
      ],
    ]);
    expect((await versions(added)).prod).toBe(`1.3.0@${DIGEST}`);
  });

  it('changes valuesObject when no parameter sets the version, with a custom key', async () => {
    const manifest = application(
      'prod',
      `    helm:
      valuesObject:
        app:
          version: 1.1.0 # pinned
        replicas: 3
`,
    );
    const after = await edited(manifest, 'prod', { versionKey: 'app.version' });
    expect(changedLines(manifest, after)).toEqual([
      [
        '-          version: 1.1.0 # pinned',
        '+          version: 1.3.0 # pinned',
      ],
    ]);
  });

  it('edits the YAML text of helm.values in place, its comments and blank lines kept', async () => {
    const manifest = [
      application(
        'dev',
        `    helm:
      values: |
        # dev values
        image:
          tag: "1.2.0"

        replicas: 1
`,
      ),
      application('staging', '    helm: {}\n'),
      application('prod', '    helm: {}\n'),
    ].join('---\n');
    const after = await edited(manifest, 'dev');
    expect(changedLines(manifest, after)).toEqual([
      ['-          tag: "1.2.0"', '+          tag: "1.3.0"'],
    ]);
    expect(await versions(after)).toEqual({
      dev: '1.3.0',
      staging: '1.0.0',
      prod: '1.0.0',
    });
  });

  it('adds the digest line inside a helm.values block, and keeps CRLF line endings', async () => {
    const manifest = application(
      'prod',
      `    helm:
      values: |
        image:
          tag: "1.1.0"
        replicas: 2
`,
    );
    const after = await edited(manifest, 'prod', {
      image: image('1.3.0', DIGEST),
    });
    expect(changedLines(manifest, after)).toEqual([
      [
        '-          tag: "1.1.0"',
        '+          tag: "1.3.0"',
        `+          digest: ${DIGEST}`,
      ],
    ]);
    expect((await versions(after)).prod).toBe(`1.3.0@${DIGEST}`);
    const crlf = manifest.replace(/\n/g, '\r\n');
    const crlfAfter = await edited(crlf, 'prod');
    expect(crlfAfter).toBe(
      manifest.replace('"1.1.0"', '"1.3.0"').replace(/\n/g, '\r\n'),
    );
  });

  it('lets a parameter win over valuesObject, and valuesObject over values, as Argo CD layers them', async () => {
    const manifest = application(
      'prod',
      `    helm:
      values: |
        image:
          tag: "0.9.0"
      valuesObject:
        image:
          tag: "1.0.5"
      parameters:
        - name: image.tag
          value: "1.1.0"
`,
    );
    const after = await edited(manifest, 'prod');
    expect(changedLines(manifest, after)).toEqual([
      ['-          value: "1.1.0"', '+          value: "1.3.0"'],
    ]);
    const objectOnly = manifest.replace(/ {6}parameters:[^]*?"1.1.0"\n/, '');
    expect(changedLines(objectOnly, await edited(objectOnly, 'prod'))).toEqual([
      ['-          tag: "1.0.5"', '+          tag: "1.3.0"'],
    ]);
  });

  it('adds the digest beside the version in valuesObject, and edits a one-line values text', async () => {
    const manifest = application(
      'prod',
      `    helm:
      valuesObject:
        image: {tag: "1.1.0"}
`,
    );
    const after = await edited(manifest, 'prod', {
      image: image('1.3.0', DIGEST),
    });
    expect(changedLines(manifest, after)).toEqual([
      [
        '-        image: {tag: "1.1.0"}',
        `+        image: {tag: "1.3.0", digest: ${DIGEST}}`,
      ],
    ]);
    expect((await versions(after)).prod).toBe(`1.3.0@${DIGEST}`);
    const oneLine = application(
      'prod',
      `    helm:
      values: "image: {tag: '1.1.0'}"
`,
    );
    expect(changedLines(oneLine, await edited(oneLine, 'prod'))).toEqual([
      [
        `-      values: "image: {tag: '1.1.0'}"`,
        `+      values: "image: {tag: '1.3.0'}"`,
      ],
    ]);
  });

  it('says the manifest does not set the version when only value files do', async () => {
    const manifest = application(
      'prod',
      `    helm:
      valueFiles:
        - values.yaml
      parameters:
        - name: replicas
          value: "2"
`,
    );
    await expect(edit(manifest, 'prod')).resolves.toEqual({
      notInManifest: true,
    });
  });

  it('changes a kustomize image in each of its forms', async () => {
    const kustomize = (
      env: string,
      images: string,
    ) => `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: payment-${env}
spec:
  source:
    repoURL: https://github.com/acme/gitops
    path: apps/payment/overlays/${env}
    kustomize:
      images:
${images}  destination:
    namespace: payment-${env}
`;
    const manifest = [
      kustomize('dev', `        - ${IMAGE}=${IMAGE}:1.2.0\n`),
      kustomize('staging', `        - '${IMAGE}:1.1.0'\n`),
      kustomize('prod', `        - ${IMAGE}@${DIGEST}\n`),
    ].join('---\n');
    expect(await versions(manifest)).toEqual({
      dev: '1.2.0',
      staging: '1.1.0',
      prod: `@${DIGEST}`,
    });
    const dev = await edited(manifest, 'dev');
    expect(changedLines(manifest, dev)).toEqual([
      [
        `-        - ${IMAGE}=${IMAGE}:1.2.0`,
        `+        - ${IMAGE}=${IMAGE}:1.3.0`,
      ],
    ]);
    const staging = await edited(dev, 'staging');
    expect(changedLines(dev, staging)).toEqual([
      [`-        - '${IMAGE}:1.1.0'`, `+        - '${IMAGE}:1.3.0'`],
    ]);
    const digest = `sha256:${'c'.repeat(64)}`;
    const prod = await edited(staging, 'prod', {
      image: image(null, digest),
    });
    expect(changedLines(staging, prod)).toEqual([
      [`-        - ${IMAGE}@${DIGEST}`, `+        - ${IMAGE}@${digest}`],
    ]);
    expect(await versions(prod)).toEqual({
      dev: '1.3.0',
      staging: '1.3.0',
      prod: `@${digest}`,
    });
    await expect(edit(staging, 'prod')).rejects.toThrow(
      /pins its image by digest/,
    );
  });

  it('edits the deployed source of a multi-source Application', async () => {
    const manifest = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: payment-prod
spec:
  sources:
    - repoURL: https://github.com/acme/gitops
      ref: values
    - repoURL: https://github.com/acme/gitops
      path: charts/payment
      helm:
        valueFiles:
          - $values/charts/payment/values.yaml
        parameters:
          - {name: image.tag, value: "1.1.0"}
  destination:
    namespace: payment-prod
`;
    const after = await edited(manifest, 'prod');
    expect(changedLines(manifest, after)).toEqual([
      [
        '          - {name: image.tag, value: "1.1.0"}',
        '          - {name: image.tag, value: "1.3.0"}',
      ].map((line, i) => `${i ? '+' : '-'}${line}`),
    ]);
  });
});

const listSet = (
  goTemplate: boolean,
  elements: string,
  parameter: string,
) => `# the payment service, one Application per environment
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: payment
spec:
  goTemplate: ${goTemplate}
  generators:
    - list:
        elements:
${elements}  template:
    metadata:
      name: 'payment-${goTemplate ? '{{.env}}' : '{{env}}'}'
    spec:
      source:
        repoURL: https://github.com/acme/gitops
        path: charts/payment
        helm:
          parameters:
            - name: image.tag
              value: '${parameter}'
      destination:
        namespace: 'payment-${goTemplate ? '{{.env}}' : '{{env}}'}'
`;

const ELEMENTS = `          - env: dev
            version: "1.2.0"
          - env: staging
            version: "1.1.0" # promoted last week
          - env: prod
            version: "1.0.0"
`;

describe('editManifestVersion: an ApplicationSet list generator', () => {
  it.each([
    ['Go templates', true, '{{.version}}'],
    ['Go templates with spaces', true, '{{ .version }}'],
    ['fasttemplate', false, '{{version}}'],
  ])(
    'changes the element of the environment, not the template (%s)',
    async (_, goTemplate, parameter) => {
      const manifest = listSet(goTemplate, ELEMENTS, parameter);
      expect(await versions(manifest)).toEqual({
        dev: '1.2.0',
        staging: '1.1.0',
        prod: '1.0.0',
      });
      const after = await edited(manifest, 'staging');
      expect(changedLines(manifest, after)).toEqual([
        [
          '-            version: "1.1.0" # promoted last week',
          '+            version: "1.3.0" # promoted last week',
        ],
      ]);
      expect(await versions(after)).toEqual({
        dev: '1.2.0',
        staging: '1.3.0',
        prod: '1.0.0',
      });
    },
  );

  it('reads a fixed text around the key, when the version carries it', async () => {
    const manifest = listSet(true, ELEMENTS, 'v{{.version}}');
    const after = await edited(manifest, 'prod', { image: image('v1.3.0') });
    expect(changedLines(manifest, after)).toEqual([
      ['-            version: "1.0.0"', '+            version: "1.3.0"'],
    ]);
    await expect(edit(manifest, 'prod')).rejects.toThrow(
      /the template "v\{\{\.version\}\}", which cannot render "1\.3\.0"/,
    );
  });

  it('changes a values key of the element through a kustomize image template', async () => {
    const manifest = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: payment
spec:
  generators:
    - list:
        elements:
          - env: dev
            values:
              tag: 1.2.0
          - env: prod
            values:
              tag: 1.0.0
          - {env: staging, values: {tag: 1.1.0}}
  template:
    metadata:
      name: 'payment-{{env}}'
    spec:
      source:
        repoURL: https://github.com/acme/gitops
        path: 'apps/payment/overlays/{{env}}'
        kustomize:
          images:
            - '${IMAGE}:{{values.tag}}'
      destination:
        namespace: 'payment-{{env}}'
`;
    const after = await edited(manifest, 'staging');
    expect(changedLines(manifest, after)).toEqual([
      [
        '-          - {env: staging, values: {tag: 1.1.0}}',
        '+          - {env: staging, values: {tag: 1.3.0}}',
      ],
    ]);
    expect(await versions(after)).toEqual({
      dev: '1.2.0',
      staging: '1.3.0',
      prod: '1.0.0',
    });
  });

  it('changes the element a valuesObject template reads', async () => {
    const manifest = listSet(true, ELEMENTS, 'x').replace(
      `          parameters:
            - name: image.tag
              value: 'x'
`,
      `          valuesObject:
            image:
              tag: '{{.version}}'
`,
    );
    const after = await edited(manifest, 'dev');
    expect(changedLines(manifest, after)).toEqual([
      ['-            version: "1.2.0"', '+            version: "1.3.0"'],
    ]);
  });

  it('changes the element a helm.values text of the template reads', async () => {
    const manifest = listSet(true, ELEMENTS, 'x').replace(
      `          parameters:
            - name: image.tag
              value: 'x'
`,
      `          values: |
            image:
              tag: '{{.version}}'
`,
    );
    const after = await edited(manifest, 'prod');
    expect(changedLines(manifest, after)).toEqual([
      ['-            version: "1.0.0"', '+            version: "1.3.0"'],
    ]);
    expect(await versions(after)).toEqual({
      dev: '1.2.0',
      staging: '1.1.0',
      prod: '1.3.0',
    });
  });

  it('refuses an element key that decides more than the version', async () => {
    const manifest = listSet(true, ELEMENTS, '{{.version}}').replace(
      '        repoURL: https://github.com/acme/gitops\n',
      "        repoURL: https://github.com/acme/gitops\n        targetRevision: 'release-{{.version}}'\n",
    );
    await expect(edit(manifest, 'dev')).rejects.toThrow(
      /would change more of it than its version/,
    );
  });

  it('refuses an edit a templatePatch undoes', async () => {
    const manifest = `${listSet(
      true,
      ELEMENTS,
      '{{.version}}',
    )}  templatePatch: |
    spec:
      source:
        helm:
          parameters:
            - name: image.tag
              value: '{{ if eq .env "prod" }}1.0.0{{ else }}{{ .version }}{{ end }}'
`;
    expect((await versions(manifest)).prod).toBe('1.0.0');
    await expect(edit(manifest, 'prod')).rejects.toThrow(
      /would not set image\.tag; nothing was changed/,
    );
    expect((await versions(await edited(manifest, 'dev'))).dev).toBe('1.3.0');
  });

  it('refuses a template value that computes the version, or writes it for every environment', async () => {
    await expect(
      edit(listSet(true, ELEMENTS, '{{.version | upper}}'), 'dev'),
    ).rejects.toThrow(/computes the version rather than reading one/);
    await expect(
      edit(listSet(true, ELEMENTS, '{{.version}}-{{.env}}'), 'dev'),
    ).rejects.toThrow(/computes the version/);
    await expect(edit(listSet(true, ELEMENTS, '1.0.0'), 'dev')).rejects.toThrow(
      /written in the template for every Application/,
    );
  });

  it('refuses a version two elements of the environment set', async () => {
    const manifest = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: payment
spec:
  goTemplate: true
  generators:
    - matrix:
        generators:
          - list:
              elements:
                - env: prod
                  version: "1.0.0"
          - list:
              elements:
                - region: eu
                  version: "1.0.0"
  template:
    metadata:
      name: 'payment-{{.env}}'
    spec:
      source:
        repoURL: https://github.com/acme/gitops
        path: charts/payment
        helm:
          parameters:
            - name: image.tag
              value: '{{.version}}'
      destination:
        namespace: 'payment-{{.env}}'
`;
    await expect(edit(manifest, 'prod')).rejects.toThrow(
      /2 list generator elements of this environment set/,
    );
  });

  it('refuses a version reached through an anchor another element shares', async () => {
    const manifest = listSet(
      true,
      `          - env: dev
            version: &current "1.1.0"
          - env: staging
            version: *current
          - env: prod
            version: "1.0.0"
`,
      '{{.version}}',
    );
    await expect(edit(manifest, 'staging')).rejects.toThrow(
      /reached through the alias \*current/,
    );
    await expect(edit(manifest, 'dev')).rejects.toThrow(
      /other places use through \*current/,
    );
  });

  it('refuses a version that is not a single value', async () => {
    const manifest = listSet(
      true,
      ELEMENTS.replace('version: "1.0.0"', 'version: [1, 0]'),
      '{{.version}}',
    );
    await expect(edit(manifest, 'prod')).rejects.toThrow();
    await expect(
      edit(
        application(
          'prod',
          '    helm:\n      valuesObject:\n        image:\n          tag: {major: 1}\n',
        ),
        'prod',
      ),
    ).rejects.toThrow(/not a single value/);
  });
});

describe('editManifestVersion: hostile input', () => {
  it('refuses a version key that is no usable key path', async () => {
    const manifest = application(
      'prod',
      '    helm:\n      parameters:\n        - {name: image.tag, value: "1"}\n',
    );
    for (const versionKey of ['__proto__.tag', 'image..tag', 'a.constructor'])
      await expect(edit(manifest, 'prod', { versionKey })).rejects.toThrow(
        /not a usable values key path/,
      );
    // Odd characters a key may hold are only looked up, never evaluated.
    await expect(
      edit(manifest, 'prod', { versionKey: 'image.{{.x}}[0]' }),
    ).resolves.toEqual({ notInManifest: true });
  });

  it('refuses an element holding an alias bomb without hanging', async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(
            98 + i,
          )} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    ];
    const manifest = listSet(
      true,
      `          - env: prod
            version: "1.0.0"
            bomb:
${bomb.map(line => `              ${line}`).join('\n')}
`,
      '{{.version}}',
    );
    const started = Date.now();
    await expect(edit(manifest, 'prod')).rejects.toThrow(/nothing was changed/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a manifest without the Application, or not YAML', async () => {
    const manifest = application('prod', '    helm: {}\n');
    await expect(
      edit(manifest, 'prod', {
        environment: { environment: 'prod', application: 'other' },
      }),
    ).rejects.toThrow(/has no Application "other" of prod/);
    await expect(edit('a: [', 'prod')).rejects.toThrow(/nothing was changed/);
  });

  it('refuses duplicate parameters of the version key', async () => {
    const manifest = application(
      'prod',
      `    helm:
      parameters:
        - {name: image.tag, value: "1"}
        - {name: image.tag, value: "2"}
`,
    );
    await expect(edit(manifest, 'prod')).rejects.toThrow(
      /more than one helm parameter/,
    );
  });
});
