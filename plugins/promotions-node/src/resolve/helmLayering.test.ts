import { resolveEnvironment, HelmLayering, ResolutionError } from '.';
import { memorySnapshot } from '../testing/memorySnapshot';
import { parseArgoCdManifest } from '../argocd/applicationSets';
import { ArgoCdSource } from '../argocd/types';
import { parseHelmSet, typedValue } from './helmSet';

const digest = `sha256:0123456789abcdef${'a'.repeat(48)}`;

const repository = {
  'charts/payment/Chart.yaml':
    'apiVersion: v2\nname: payment\nversion: 1.4.0\nappVersion: "2.7.1"\n',
  'charts/payment/values.yaml': `image:
  repository: acme/payment
  tag: ""
  pullPolicy: IfNotPresent
replicaCount: 1
hosts: [a.example.com, b.example.com]
resources:
  limits: { memory: 256Mi, cpu: 500m }
debug: { enabled: true }
`,
  'envs/common/values.yaml': `image:
  tag: "3.0.0"
replicaCount: 2
debug: null
`,
  'envs/prod/values.yaml': `image:
  tag: "3.1.0"
replicaCount: 4
hosts: [prod.example.com]
resources:
  limits: { cpu: "2" }
`,
  'envs/prod/region/eu.yaml': 'replicaCount: 6\nregion: eu\n',
  'envs/dev/values.yaml': 'replicaCount: 1\n',
  'README.md': '# gitops\n',
};

const layering = (more: Partial<HelmLayering> = {}): HelmLayering => ({
  chartPath: 'charts/payment',
  valueFiles: [],
  ...more,
});

const resolve = (
  helm: HelmLayering,
  options: Record<string, unknown> = {},
  files: Record<string, string> = repository,
) =>
  resolveEnvironment(memorySnapshot(files), 'envs/prod', {
    helm,
    render: true,
    ...options,
  });

const valuesOf = async (helm: HelmLayering, files = repository) =>
  (await resolve(helm, {}, files)).rendered![0] as Record<string, any>;

async function failure(promise: Promise<unknown>): Promise<ResolutionError> {
  const error = await promise.then(
    () => undefined,
    (e: Error) => e,
  );
  if (!(error instanceof ResolutionError))
    throw new Error(`expected a ResolutionError, got ${error}`);
  return error;
}

describe('resolveEnvironment: Helm values layered as Argo CD has Helm layer them', () => {
  it('layers the chart values, then each value file in order, from any directory', async () => {
    const env = await resolve(
      layering({
        valueFiles: [
          'envs/common/values.yaml',
          'envs/prod/values.yaml',
          'envs/prod/region/eu.yaml',
        ],
      }),
    );
    expect(env).toMatchObject({
      layout: 'helm',
      path: 'envs/prod',
      version: '3.1.0',
      versionSource: 'values',
      images: [{ name: 'acme/payment', tag: '3.1.0', digest: null }],
      warnings: [],
    });
    expect(env.rendered).toEqual([
      {
        image: {
          repository: 'acme/payment',
          tag: '3.1.0',
          pullPolicy: 'IfNotPresent',
        },
        replicaCount: 6,
        region: 'eu',
        hosts: ['prod.example.com'],
        resources: { limits: { memory: '256Mi', cpu: '2' } },
      },
    ]);
    expect(env.comparable[0].body).toMatchObject({
      image: { repository: 'acme/payment', pullPolicy: 'IfNotPresent' },
    });

    const reversed = await valuesOf(
      layering({
        valueFiles: ['envs/prod/region/eu.yaml', 'envs/common/values.yaml'],
      }),
    );
    expect(reversed.replicaCount).toBe(2);
    expect(reversed.image.tag).toBe('3.0.0');
  });

  it("merges value files with each other before the chart's values, so a null in one file that a later file sets again removes none of the chart's keys", async () => {
    const files = {
      ...repository,
      'envs/a.yaml': 'debug: null\n',
      'envs/b.yaml': 'debug: { level: 2 }\n',
    };
    const values = await valuesOf(
      layering({ valueFiles: ['envs/a.yaml', 'envs/b.yaml'] }),
      files,
    );
    // Helm merges a.yaml and b.yaml first, then coalesces the result over the chart's values.
    expect(values.debug).toEqual({ enabled: true, level: 2 });
  });

  it('applies valuesObject over values over the value files, and values when valuesObject is not set', async () => {
    const files = ['envs/prod/values.yaml'];
    const both = await resolve(
      layering({
        valueFiles: files,
        values: 'replicaCount: 9\nimage: { tag: "4.0.0" }\nfromText: yes\n',
        valuesObject: { replicaCount: 12, extra: { on: true } },
      }),
    );
    const values = both.rendered![0] as Record<string, any>;
    expect(values.replicaCount).toBe(12);
    expect(values.extra).toEqual({ on: true });
    // Argo CD reads valuesObject alone when both are set.
    expect(values.fromText).toBeUndefined();
    expect(both.version).toBe('3.1.0');

    const text = await valuesOf(
      layering({
        valueFiles: files,
        values: 'replicaCount: 9\nimage: { tag: "4.0.0" }\n',
      }),
    );
    expect(text.replicaCount).toBe(9);
    expect(text.image.tag).toBe('4.0.0');

    await expect(
      resolve(layering({ values: '- a\n- b\n', manifest: 'argocd/app.yaml' })),
    ).rejects.toThrow('argocd/app.yaml: helm values must be a YAML mapping');
  });

  it('applies parameters as helm --set and --set-string: dotted, indexed and escaped keys, typed unless forceString', async () => {
    const env = await resolve(
      layering({
        valueFiles: ['envs/prod/values.yaml'],
        values: 'ingress: { annotations: { keep: "1" } }\n',
        parameters: [
          { name: 'image.tag', value: '3.2.0', forceString: false },
          { name: 'replicaCount', value: '7', forceString: false },
          { name: 'debug.enabled', value: 'false', forceString: false },
          { name: 'flags.asString', value: 'true', forceString: true },
          { name: 'flags.nothing', value: 'null', forceString: false },
          { name: 'flags.zeroLed', value: '007', forceString: false },
          { name: 'flags.count', value: '42', forceString: true },
          { name: 'hosts[1]', value: 'b.prod.example.com', forceString: false },
          { name: 'env[0].name', value: 'MODE', forceString: false },
          { name: 'env[0].value', value: 'fast', forceString: false },
          {
            name: 'ingress.annotations.kubernetes\\.io/ingress\\.class',
            value: 'nginx',
            forceString: false,
          },
          { name: 'list', value: '{a,1,true}', forceString: false },
          { name: 'sentence', value: 'one, two', forceString: false },
          { name: 'a\\,b', value: 'x', forceString: false },
        ],
      }),
    );
    const values = env.rendered![0] as Record<string, any>;
    expect(env.version).toBe('3.2.0');
    expect(values.replicaCount).toBe(7);
    expect(values.debug).toEqual({ enabled: false });
    expect(values.flags).toEqual({
      asString: 'true',
      nothing: null,
      zeroLed: '007',
      count: '42',
    });
    // A parameter indexes the list the value files supply, not the chart's.
    expect(values.hosts).toEqual(['prod.example.com', 'b.prod.example.com']);
    expect(values.env).toEqual([{ name: 'MODE', value: 'fast' }]);
    expect(values.ingress.annotations).toEqual({
      keep: '1',
      'kubernetes.io/ingress.class': 'nginx',
    });
    expect(values.list).toEqual(['a', 1, true]);
    // Argo CD escapes the commas of a value that is not a {list}.
    expect(values.sentence).toBe('one, two');
    expect(values['a,b']).toBe('x');
  });

  it('keeps the last parameter of a name, and applies --set-string after every --set', async () => {
    const values = await valuesOf(
      layering({
        parameters: [
          { name: 'image.tag', value: '1.0.0', forceString: true },
          { name: 'image.tag', value: '5', forceString: false },
          { name: 'image.tag', value: '6', forceString: false },
          { name: 'replicaCount', value: '3', forceString: false },
          { name: 'hosts[1]', value: 'c.example.com', forceString: false },
        ],
      }),
    );
    expect(values.image.tag).toBe('1.0.0');
    expect(values.replicaCount).toBe(3);
    // No value file supplies hosts: the parameter's list replaces the chart's whole list.
    expect(values.hosts).toEqual([null, 'c.example.com']);
  });

  it('fails on a missing value file, naming it, unless ignoreMissingValueFiles', async () => {
    const helm = layering({
      valueFiles: ['envs/prod/values.yaml', 'envs/staging/values.yaml'],
    });
    const error = await failure(resolve(helm));
    expect(error.file).toBe('envs/staging/values.yaml');
    expect(error.message).toContain(
      'envs/staging/values.yaml: value file not found',
    );
    // The lookup of the missing file is recorded: its appearing later changes the result.
    expect(error.probes?.files['envs/staging/values.yaml']).toBeNull();

    const ignored = await resolve({ ...helm, ignoreMissingValueFiles: true });
    expect(ignored.version).toBe('3.1.0');
    expect(ignored.inputs).not.toContain('envs/staging/values.yaml');
    expect(ignored.probes.files['envs/staging/values.yaml']).toBeNull();
  });

  it("derives the version from the chart's appVersion when the tag is empty or absent, and says so", async () => {
    const empty = await resolve(
      layering({ valueFiles: ['envs/dev/values.yaml'] }),
    );
    expect(empty).toMatchObject({
      version: '2.7.1',
      versionSource: 'appVersion',
      images: [{ name: 'acme/payment', tag: '2.7.1', digest: null }],
    });
    const absent = await resolve(
      layering({ parameters: [{ name: 'image.tag', value: 'null' }] }),
    );
    expect(absent).toMatchObject({
      version: '2.7.1',
      versionSource: 'appVersion',
    });

    const noAppVersion = {
      ...repository,
      'charts/payment/Chart.yaml':
        'apiVersion: v2\nname: payment\nversion: 1.4.0\n',
    };
    const none = await resolve(layering(), {}, noAppVersion);
    expect(none).toMatchObject({ version: null, images: [] });
    expect(none.versionSource).toBeUndefined();
  });

  it('builds the image from registry, repository, tag and digest', async () => {
    const registry = await resolve(
      layering({
        valuesObject: {
          image: {
            registry: 'ghcr.io',
            repository: 'acme/payment',
            tag: '3.3.0',
          },
        },
      }),
    );
    expect(registry.images).toEqual([
      { name: 'ghcr.io/acme/payment', tag: '3.3.0', digest: null },
    ]);

    const both = await resolve(
      layering({
        parameters: [
          { name: 'image.tag', value: '3.4.0' },
          { name: 'image.digest', value: digest },
        ],
      }),
    );
    expect(both.images).toEqual([
      { name: 'acme/payment', tag: '3.4.0', digest },
    ]);
    expect(both.version).toBe('3.4.0');
    expect(JSON.stringify(both.comparable)).not.toContain('sha256');

    // A digest pins the image: no tag is derived from appVersion beside it.
    const pinned = await resolve(
      layering({ parameters: [{ name: 'image.digest', value: digest }] }),
    );
    expect(pinned.images).toEqual([
      { name: 'acme/payment', tag: null, digest },
    ]);
    expect(pinned).toMatchObject({
      version: 'sha256:0123456789ab',
      versionSource: 'values',
    });
  });

  it('refuses value files and charts outside the repository, and absolute paths', async () => {
    for (const [helm, message] of [
      [
        layering({
          valueFiles: ['../secrets/values.yaml'],
          manifest: 'argocd/app.yaml',
        }),
        'argocd/app.yaml: the value file "../secrets/values.yaml" is outside the repository',
      ],
      [
        layering({
          valueFiles: ['envs/../../x.yaml'],
          manifest: 'argocd/app.yaml',
        }),
        'the value file "envs/../../x.yaml" is outside the repository',
      ],
      [
        layering({ valueFiles: ['/etc/passwd'], manifest: 'argocd/app.yaml' }),
        'the value file "/etc/passwd" is an absolute path',
      ],
      [
        layering({ chartPath: '../charts/payment' }),
        'the chart path "../charts/payment" is outside the repository',
      ],
    ] as const) {
      await expect(resolve(helm)).rejects.toThrow(message);
    }
    await expect(resolve(layering({ chartPath: 'envs/prod' }))).rejects.toThrow(
      'envs/prod/Chart.yaml: file not found: "envs/prod" is not a Helm chart',
    );
  });

  it('refuses parameters whose keys name object internals, without touching Object.prototype', async () => {
    for (const name of [
      '__proto__.polluted',
      'image.constructor.prototype.polluted',
      'list[0].__proto__.polluted',
      '\\_\\_proto\\_\\_.polluted',
      'prototype',
    ]) {
      await expect(
        resolve(
          layering({
            parameters: [{ name, value: 'yes' }],
            manifest: 'argocd/app.yaml',
          }),
        ),
      ).rejects.toThrow(
        /argocd\/app\.yaml: helm parameter ".*": the key "(__proto__|constructor|prototype)" names an object's internals/,
      );
    }
    expect(({} as any).polluted).toBeUndefined();
    // A value file may name such a key: it stays an ordinary key, not a prototype.
    const values = await valuesOf(
      layering({ values: '__proto__: { polluted: yes }\n' }),
    );
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    expect(({} as any).polluted).toBeUndefined();
  });

  it('reads every file through the snapshot, within the readable paths, and lists every file read', async () => {
    const helm = layering({
      valueFiles: [
        'envs/common/values.yaml',
        'envs/prod/values.yaml',
        'envs/absent.yaml',
      ],
      ignoreMissingValueFiles: true,
    });
    const env = await resolve(helm);
    expect(env.inputs).toEqual([
      'charts/payment/Chart.yaml',
      'charts/payment/values.yaml',
      'envs/common/values.yaml',
      'envs/prod/values.yaml',
    ]);
    expect(Object.keys(env.probes.files).sort()).toEqual([
      'charts/payment/Chart.yaml',
      'charts/payment/values.yaml',
      'envs/absent.yaml',
      'envs/common/values.yaml',
      'envs/prod/values.yaml',
    ]);

    const refused = await failure(
      resolve(helm, {
        readable: {
          patterns: ['^charts/', '^envs/prod/'],
          description: 'charts and prod only',
        },
      }),
    );
    expect(refused.message).toBe(
      'envs/common/values.yaml: the environment may not read this file (charts and prod only)',
    );

    const limited = await failure(
      resolve(helm, {
        limits: {
          files: 3,
          bytes: 1e6,
          objects: 100,
          copies: 1e6,
          milliseconds: 5000,
        },
      }),
    );
    expect(limited.message).toContain('reads more than 3 files');
  });

  it('takes an Argo CD Application parsed from its manifest, its first source mapped onto the layering', async () => {
    const manifest = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: payment-prod
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://git.acme.example/gitops.git
    targetRevision: main
    path: charts/payment
    helm:
      ignoreMissingValueFiles: true
      valueFiles:
        - ../../envs/common/values.yaml
        - ../../envs/prod/values.yaml
        - values-missing.yaml
      values: |
        replicaCount: 9
      parameters:
        - name: image.tag
          value: "3.5.0"
        - name: podLabels.version
          value: "1"
          forceString: true
  destination:
    server: https://kubernetes.default.svc
    namespace: payment
`;
    const { applications } = await parseArgoCdManifest(manifest, {
      file: 'argocd/payment-prod.yaml',
    });
    const source: ArgoCdSource = applications[0].sources[0];
    const helm = source.helm!;
    const env = await resolve({
      chartPath: source.path!,
      valueFiles: helm.valueFiles.flatMap(file =>
        file.path ? [file.path] : [],
      ),
      values: helm.values,
      valuesObject: helm.valuesObject,
      parameters: helm.parameters,
      ignoreMissingValueFiles: helm.ignoreMissingValueFiles,
      manifest: 'argocd/payment-prod.yaml',
    });
    expect(env).toMatchObject({
      version: '3.5.0',
      versionSource: 'values',
      images: [{ name: 'acme/payment', tag: '3.5.0', digest: null }],
    });
    const values = env.rendered![0] as Record<string, any>;
    expect(values.replicaCount).toBe(9);
    expect(values.podLabels).toEqual({ version: '1' });
    expect(env.inputs).toEqual([
      'charts/payment/Chart.yaml',
      'charts/payment/values.yaml',
      'envs/common/values.yaml',
      'envs/prod/values.yaml',
    ]);
    expect(env.probes.files['charts/payment/values-missing.yaml']).toBeNull();
  });
});

describe("Helm's --set syntax", () => {
  it('types values as --set does', () => {
    expect(
      [
        'true',
        'FALSE',
        'Null',
        '0',
        '12',
        '-3',
        '+4',
        '012',
        '1.5',
        '',
        '9007199254740993',
      ].map(text => typedValue(text, false)),
    ).toEqual([
      true,
      false,
      null,
      0,
      12,
      -3,
      4,
      '012',
      '1.5',
      '',
      '9007199254740993',
    ]);
    expect(typedValue('true', true)).toBe('true');
  });

  it('parses several assignments, nested lists, and refuses what Helm refuses', () => {
    expect(parseHelmSet('a=1,b.c=x,d[1][0]=y,e[0]=', {}, false)).toEqual({
      a: 1,
      b: { c: 'x' },
      d: [null, ['y']],
      e: [''],
    });
    const base = { a: { keep: 1 }, l: [1, 2] };
    expect(parseHelmSet('a.b=2,l[0]=3', base, false)).toEqual({
      a: { keep: 1, b: 2 },
      l: [3, 2],
    });
    expect(base).toEqual({ a: { keep: 1 }, l: [1, 2] });
    expect(() => parseHelmSet('a', {}, false)).toThrow('key "a" has no value');
    expect(() => parseHelmSet('a[70000]=1', {}, false)).toThrow(
      'greater than maximum supported index',
    );
    expect(() => parseHelmSet('a[-1]=1', {}, false)).toThrow('negative');
    expect(() => parseHelmSet('a={x,y', {}, false)).toThrow(
      "list must terminate with '}'",
    );
    expect(() => parseHelmSet('a.b=1', { a: 'text' }, false)).toThrow(
      '"a" is not a map',
    );
    expect(() => parseHelmSet(`${'k.'.repeat(31)}k=1`, {}, false)).toThrow(
      'nested level',
    );
  });
});
