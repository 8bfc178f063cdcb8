import fs from 'node:fs';
import path from 'node:path';
import { memorySnapshot } from '../testing/memorySnapshot';
import { RepositorySnapshot } from '../repository/types';
import { parseArgoCdManifest, readArgoCdManifest } from './applicationSets';
import { ArgoCdManifestError, ArgoCdReadOptions } from './types';

const GITOPS = 'https://git.acme.example/gitops.git';

/** The GitOps repository git generators read in these tests. */
const repository = memorySnapshot({
  'apps/cart/kustomization.yaml': 'resources: []\n',
  'apps/payment/kustomization.yaml': 'resources: []\n',
  'apps/payment/base/deployment.yaml': 'kind: Deployment\n',
  'apps/legacy/kustomization.yaml': 'resources: []\n',
  'apps/.hidden/kustomization.yaml': 'resources: []\n',
  'apps-extra/x/kustomization.yaml': 'resources: []\n',
  'clusters/dev/config.json':
    '{"cluster": {"name": "dev", "address": "https://dev.k8s"}, "replicas": 2}',
  'clusters/prod/config.json':
    '{"cluster": {"name": "prod", "address": "https://prod.k8s"}, "replicas": 5}',
  'clusters/prod/eu/config.json':
    '{"cluster": {"name": "prod-eu", "address": "https://eu.k8s"}}',
  'clusters/list/config.yaml': '- cluster: {name: a}\n- cluster: {name: b}\n',
  'README.md': '# gitops\n',
});

const gitRepository: ArgoCdReadOptions['gitRepository'] = async repoURL =>
  repoURL === GITOPS ? repository : undefined;

const read = (manifest: string, options: ArgoCdReadOptions = {}) =>
  parseArgoCdManifest(manifest, {
    file: 'argocd/apps.yaml',
    gitRepository,
    ...options,
  });

/** The manifest's error, and how long it took to come. */
async function failure(manifest: string, options: ArgoCdReadOptions = {}) {
  const started = performance.now();
  const error = await read(manifest, options).then(
    () => undefined,
    (e: Error) => e,
  );
  if (!error) throw new Error('the manifest was read without error');
  return { error, ms: performance.now() - started };
}

const appSet = (
  spec: string,
  name = 'payment',
) => `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: ${name}
  namespace: argocd
spec:
${spec
  .split('\n')
  .map(line => (line ? `  ${line}` : line))
  .join('\n')}
`;

describe('reading Argo CD Applications', () => {
  it('reads an Application: its source, Helm inputs in order and sync policy', async () => {
    const { applications, notes } = await read(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: payment-prod
  namespace: argocd
  labels: { team: payments }
spec:
  project: shop
  source:
    repoURL: ${GITOPS}
    path: charts/payment
    targetRevision: v1.4.0
    helm:
      releaseName: payment
      valueFiles:
        - values.yaml
        - ../shared/values-prod.yaml
        - /global/values.yaml
        - https://config.acme.example/values.yaml
      parameters:
        - { name: image.tag, value: "1.4.0" }
        - { name: replicas, value: "3", forceString: true }
      valuesObject:
        image: { tag: 1.4.0 }
  destination:
    server: https://prod.k8s
    namespace: payment
  syncPolicy:
    automated: { prune: true, selfHeal: true }
    syncOptions: [CreateNamespace=true]
`);
    expect(notes).toEqual([]);
    expect(applications).toEqual([
      {
        name: 'payment-prod',
        namespace: 'argocd',
        project: 'shop',
        labels: { team: 'payments' },
        annotations: {},
        destination: {
          server: 'https://prod.k8s',
          name: null,
          namespace: 'payment',
        },
        sources: [
          {
            repoURL: GITOPS,
            path: 'charts/payment',
            targetRevision: 'v1.4.0',
            chart: null,
            ref: null,
            helm: {
              releaseName: 'payment',
              valueFiles: [
                {
                  file: 'values.yaml',
                  from: 'source',
                  path: 'charts/payment/values.yaml',
                  repoURL: GITOPS,
                  targetRevision: 'v1.4.0',
                },
                {
                  file: '../shared/values-prod.yaml',
                  from: 'source',
                  path: 'charts/shared/values-prod.yaml',
                  repoURL: GITOPS,
                  targetRevision: 'v1.4.0',
                },
                {
                  file: '/global/values.yaml',
                  from: 'source',
                  path: 'global/values.yaml',
                  repoURL: GITOPS,
                  targetRevision: 'v1.4.0',
                },
                {
                  file: 'https://config.acme.example/values.yaml',
                  from: 'url',
                  path: null,
                  repoURL: null,
                  targetRevision: null,
                },
              ],
              parameters: [
                { name: 'image.tag', value: '1.4.0', forceString: false },
                { name: 'replicas', value: '3', forceString: true },
              ],
              valuesObject: { image: { tag: '1.4.0' } },
              values: null,
              ignoreMissingValueFiles: false,
            },
            kustomize: null,
          },
        ],
        syncPolicy: {
          automated: true,
          prune: true,
          selfHeal: true,
          allowEmpty: false,
          syncOptions: ['CreateNamespace=true'],
        },
        notes: [],
      },
    ]);
  });

  it('reads multiple sources, resolving $ref value files to the source that carries the ref', async () => {
    const {
      applications: [application],
    } = await read(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: { name: payment-staging }
spec:
  project: default
  sources:
    - repoURL: https://charts.acme.example
      chart: payment
      targetRevision: 2.3.1
      helm:
        valueFiles:
          - $values/envs/staging/values.yaml
          - $values/../outside.yaml
          - $config/missing.yaml
    - repoURL: ${GITOPS}
      targetRevision: main
      ref: values
  destination: { name: staging, namespace: payment }
`);
    expect(application.sources.map(s => s.ref)).toEqual([null, 'values']);
    expect(application.sources[0].chart).toBe('payment');
    expect(application.sources[0].helm!.valueFiles).toEqual([
      {
        file: '$values/envs/staging/values.yaml',
        from: 'ref',
        ref: 'values',
        path: 'envs/staging/values.yaml',
        repoURL: GITOPS,
        targetRevision: 'main',
      },
      {
        file: '$values/../outside.yaml',
        from: 'ref',
        ref: 'values',
        path: null,
        repoURL: GITOPS,
        targetRevision: 'main',
      },
      {
        file: '$config/missing.yaml',
        from: 'ref',
        ref: 'config',
        path: null,
        repoURL: null,
        targetRevision: null,
      },
    ]);
    expect(application.destination).toEqual({
      server: null,
      name: 'staging',
      namespace: 'payment',
    });
    expect(application.syncPolicy.automated).toBe(false);
    expect(application.notes).toEqual([
      'spec.sources[0].helm.valueFiles[1]: "$values/../outside.yaml" leaves the repository',
      'spec.sources[0].helm.valueFiles[2]: no source has ref "config"',
    ]);
  });

  it('notes what Argo CD would read otherwise than it looks: an unquoted version, a disabled automation', async () => {
    const {
      applications: [application],
    } = await read(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: { name: api }
spec:
  source: { repoURL: ${GITOPS}, path: api, targetRevision: 1.10 }
  destination: { server: https://kubernetes.default.svc }
  syncPolicy:
    automated: { enabled: false, prune: true }
`);
    expect(application.sources[0].targetRevision).toBe('1.1');
    expect(application.syncPolicy).toMatchObject({
      automated: false,
      prune: true,
    });
    expect(application.notes).toEqual([
      'spec.source.targetRevision is 1.1, a number where Argo CD expects a string: quote it',
    ]);
  });

  it('skips documents that are not Argo CD Applications or ApplicationSets', async () => {
    const { applications } = await read(`apiVersion: v1
kind: Namespace
metadata: { name: argocd }
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: { name: shop }
`);
    expect(applications).toEqual([]);
  });
});

describe('expanding ApplicationSets', () => {
  describe('the list generator', () => {
    const listSet = (options: string) =>
      appSet(`goTemplate: true
${options}
generators:
  - list:
      elements:
        - { env: dev, version: 1.4.0, replicas: 1 }
        - { env: prod, version: 1.3.2, replicas: 3 }
template:
  metadata:
    name: 'payment-{{.env}}'
    labels: { version: '{{.version}}' }
  spec:
    project: shop
    source:
      repoURL: ${GITOPS}
      path: 'payment/overlays/{{.env}}'
      targetRevision: main
      helm:
        parameters:
          - { name: image.tag, value: '{{.version}}' }
          - { name: replicas, value: '{{.replicas}}' }
    destination:
      server: https://kubernetes.default.svc
      namespace: 'payment-{{.env}}'`);

    it('generates one Application per element, with the element as its parameters', async () => {
      const { applications, notes } = await read(listSet(''));
      expect(notes).toEqual([]);
      expect(
        applications.map(a => ({
          name: a.name,
          namespace: a.namespace,
          path: a.sources[0].path,
          parameters: a.sources[0].helm!.parameters,
          labels: a.labels,
          generatedBy: a.generatedBy,
        })),
      ).toEqual([
        {
          name: 'payment-dev',
          namespace: 'argocd',
          path: 'payment/overlays/dev',
          parameters: [
            { name: 'image.tag', value: '1.4.0', forceString: false },
            { name: 'replicas', value: '1', forceString: false },
          ],
          labels: { version: '1.4.0' },
          generatedBy: {
            applicationSet: 'payment',
            generator: 'generators[0].list',
            parameters: { env: 'dev', version: '1.4.0', replicas: 1 },
          },
        },
        {
          name: 'payment-prod',
          namespace: 'argocd',
          path: 'payment/overlays/prod',
          parameters: [
            { name: 'image.tag', value: '1.3.2', forceString: false },
            { name: 'replicas', value: '3', forceString: false },
          ],
          labels: { version: '1.3.2' },
          generatedBy: {
            applicationSet: 'payment',
            generator: 'generators[0].list',
            parameters: { env: 'prod', version: '1.3.2', replicas: 3 },
          },
        },
      ]);
    });

    it('prints <no value> for a key the element lacks, unless missingkey=error', async () => {
      const lenient = listSet('').replace(
        "'{{.version}}' }\n",
        "'{{.tag}}' }\n",
      );
      const { applications } = await read(lenient);
      expect(applications[0].labels.version).toBe('<no value>');

      const strict = listSet('goTemplateOptions: ["missingkey=error"]').replace(
        "path: 'payment/overlays/{{.env}}'",
        "path: 'payment/overlays/{{.environment}}'",
      );
      const { error } = await failure(strict);
      expect(error).toBeInstanceOf(ArgoCdManifestError);
      expect(error.message).toBe(
        'argocd/apps.yaml: ApplicationSet payment: generators[0].list, parameters 0 {"env":"dev","version":"1.4.0","replicas":1}: template spec.source.path: map has no entry for key "environment" in {{.environment}}',
      );
    });

    it('refuses goTemplateOptions Go does not know', async () => {
      const { error } = await failure(
        listSet('goTemplateOptions: ["missingkey=loud"]'),
      );
      expect(error.message).toMatch(
        /^argocd\/apps.yaml: ApplicationSet payment: goTemplateOptions: unrecognized option: "missingkey=loud"/,
      );
    });

    it('reads elementsYaml after the elements', async () => {
      const { applications } = await read(
        appSet(`goTemplate: true
generators:
  - list:
      elements: [{ env: dev }]
      elementsYaml: |
        - env: stage
        - env: prod
template:
  metadata: { name: 'api-{{.env}}' }
  spec:
    source: { repoURL: ${GITOPS}, path: 'api/{{.env}}' }
    destination: { name: '{{.env}}' }`),
      );
      expect(applications.map(a => a.name)).toEqual([
        'api-dev',
        'api-stage',
        'api-prod',
      ]);
    });

    it('substitutes {{ key }} without goTemplate, values.* included, and refuses non-string values', async () => {
      const fast = appSet(`generators:
  - list:
      elements:
        - cluster: engineering-dev
          url: https://dev.k8s
          values: { revision: v2 }
template:
  metadata: { name: '{{cluster}}-guestbook' }
  spec:
    source: { repoURL: ${GITOPS}, path: 'guestbook/{{ cluster }}', targetRevision: '{{values.revision}}' }
    destination: { server: '{{url}}', namespace: '{{ missing }}' }`);
      const {
        applications: [application],
      } = await read(fast);
      expect(application.name).toBe('engineering-dev-guestbook');
      expect(application.sources[0]).toMatchObject({
        path: 'guestbook/engineering-dev',
        targetRevision: 'v2',
      });
      expect(application.destination).toEqual({
        server: 'https://dev.k8s',
        name: null,
        namespace: '{{ missing }}',
      });
      expect(application.generatedBy!.parameters).toEqual({
        cluster: 'engineering-dev',
        url: 'https://dev.k8s',
        'values.revision': 'v2',
      });

      const { error } = await failure(
        fast.replace('url: https://dev.k8s', 'replicas: 3'),
      );
      expect(error.message).toBe(
        'argocd/apps.yaml: ApplicationSet payment: generators[0].list.elements[0].replicas: error parsing value as string: without goTemplate, Argo CD takes only string values (found 3)',
      );
    });

    it('renders nothing for an empty element, as Argo CD does', async () => {
      const {
        applications: [application],
      } = await read(
        appSet(`goTemplate: true
generators:
  - list: { elements: [{}] }
template:
  metadata: { name: 'api-{{.env}}' }
  spec:
    source: { repoURL: ${GITOPS}, path: api }
    destination: { name: in-cluster }`),
      );
      expect(application.name).toBe('api-{{.env}}');
    });
  });

  describe('the git generator', () => {
    it('generates one Application per directory, depth first, skipping hidden and excluded ones', async () => {
      const { applications } = await read(
        appSet(`goTemplate: true
generators:
  - git:
      repoURL: ${GITOPS}
      revision: HEAD
      directories:
        - path: 'apps/*'
        - path: apps/legacy
          exclude: true
      values:
        owner: 'team-{{.path.basename}}'
template:
  metadata: { name: '{{.path.basenameNormalized}}', labels: { owner: '{{.values.owner}}' } }
  spec:
    source: { repoURL: ${GITOPS}, path: '{{.path.path}}', targetRevision: HEAD }
    destination: { server: https://kubernetes.default.svc, namespace: '{{index .path.segments 1}}' }`),
      );
      expect(
        applications.map(a => [
          a.name,
          a.sources[0].path,
          a.destination.namespace,
          a.labels.owner,
        ]),
      ).toEqual([
        ['cart', 'apps/cart', 'cart', 'team-cart'],
        ['payment', 'apps/payment', 'payment', 'team-payment'],
      ]);
      expect(applications[0].generatedBy!.parameters).toEqual({
        path: {
          path: 'apps/cart',
          basename: 'cart',
          basenameNormalized: 'cart',
          segments: ['apps', 'cart'],
        },
        values: { owner: 'team-cart' },
      });
    });

    it('gives directories flat parameters without goTemplate', async () => {
      const {
        applications: [application],
      } = await read(
        appSet(`generators:
  - git:
      repoURL: ${GITOPS}
      revision: HEAD
      directories: [{ path: apps/payment }]
template:
  metadata: { name: '{{path.basename}}' }
  spec:
    source: { repoURL: ${GITOPS}, path: '{{path}}' }
    destination: { namespace: '{{path[1]}}', server: https://kubernetes.default.svc }`),
      );
      expect(application.generatedBy!.parameters).toEqual({
        path: 'apps/payment',
        'path.basename': 'payment',
        'path.basenameNormalized': 'payment',
        'path[0]': 'apps',
        'path[1]': 'payment',
      });
      expect(application.destination.namespace).toBe('payment');
    });

    it('reads JSON and YAML files matched as git ls-files does, one Application per object', async () => {
      const { applications } = await read(
        appSet(`goTemplate: true
generators:
  - git:
      repoURL: ${GITOPS}
      revision: HEAD
      files:
        - path: 'clusters/*/config.*'
        - path: clusters/list/config.yaml
          exclude: true
template:
  metadata: { name: 'guestbook-{{.cluster.name}}' }
  spec:
    source: { repoURL: ${GITOPS}, path: guestbook }
    destination: { server: '{{.cluster.address}}', namespace: '{{.path.basename}}' }`),
      );
      // As in `git ls-files`, * crosses directories: clusters/prod/eu/config.json matches too.
      expect(
        applications.map(a => [
          a.name,
          a.destination.server,
          a.destination.namespace,
        ]),
      ).toEqual([
        ['guestbook-dev', 'https://dev.k8s', 'dev'],
        ['guestbook-prod', 'https://prod.k8s', 'prod'],
        ['guestbook-prod-eu', 'https://eu.k8s', 'eu'],
      ]);
      expect(applications[0].generatedBy!.parameters).toEqual({
        cluster: { name: 'dev', address: 'https://dev.k8s' },
        replicas: 2,
        path: {
          path: 'clusters/dev',
          basename: 'dev',
          basenameNormalized: 'dev',
          filename: 'config.json',
          filenameNormalized: 'config.json',
          segments: ['clusters', 'dev'],
        },
      });
    });

    it('matches files with doublestar when the new globbing is on, and flattens them without goTemplate', async () => {
      const manifest = appSet(`generators:
  - git:
      repoURL: ${GITOPS}
      revision: HEAD
      files: [{ path: 'clusters/*/config.{json,yaml}' }]
template:
  metadata: { name: '{{cluster.name}}' }
  spec:
    source: { repoURL: ${GITOPS}, path: guestbook }
    destination: { server: 'https://{{cluster.name}}.k8s', namespace: '{{path.basename}}' }`);
      const { applications } = await read(manifest, {
        newGitFileGlobbing: true,
      });
      expect(applications.map(a => a.name)).toEqual(['dev', 'a', 'b', 'prod']);
      expect(applications[0].generatedBy!.parameters).toEqual({
        'cluster.name': 'dev',
        'cluster.address': 'https://dev.k8s',
        replicas: '2',
        path: 'clusters/dev',
        'path.basename': 'dev',
        'path.basenameNormalized': 'dev',
        'path.filename': 'config.json',
        'path.filenameNormalized': 'config.json',
        'path[0]': 'clusters',
        'path[1]': 'dev',
      });
    });

    it('notes a git generator of a repository it has no snapshot of, without failing', async () => {
      const { applications, notes } = await read(
        appSet(`generators:
  - git:
      repoURL: https://git.acme.example/other.git
      revision: main
      directories: [{ path: '*' }]
template:
  metadata: { name: '{{path.basename}}' }
  spec: { source: { repoURL: x, path: '{{path}}' }, destination: { name: in-cluster } }`),
      );
      expect(applications).toEqual([]);
      expect(notes).toEqual([
        'ApplicationSet payment: generators[0].git: not read: git (no snapshot of https://git.acme.example/other.git at main was given)',
      ]);
    });
  });

  describe('matrix and merge', () => {
    it('crosses git directories with a list, the directory parameters winning', async () => {
      const { applications } = await read(
        appSet(`goTemplate: true
goTemplateOptions: ["missingkey=error"]
generators:
  - matrix:
      generators:
        - git:
            repoURL: ${GITOPS}
            revision: HEAD
            directories: [{ path: 'apps/*' }, { path: apps/legacy, exclude: true }]
        - list:
            elements:
              - { env: dev, cluster: https://dev.k8s, version: 2.0.0 }
              - { env: prod, cluster: https://prod.k8s, version: 1.9.0 }
template:
  metadata: { name: '{{.path.basename}}-{{.env}}' }
  spec:
    project: '{{.path.basename}}'
    source:
      repoURL: ${GITOPS}
      path: '{{.path.path}}/overlays/{{.env}}'
      targetRevision: HEAD
    destination: { server: '{{.cluster}}', namespace: '{{.path.basename}}-{{.env}}' }`),
      );
      expect(
        applications.map(a => [
          a.name,
          a.sources[0].path,
          a.destination.server,
          a.destination.namespace,
        ]),
      ).toEqual([
        ['cart-dev', 'apps/cart/overlays/dev', 'https://dev.k8s', 'cart-dev'],
        [
          'cart-prod',
          'apps/cart/overlays/prod',
          'https://prod.k8s',
          'cart-prod',
        ],
        [
          'payment-dev',
          'apps/payment/overlays/dev',
          'https://dev.k8s',
          'payment-dev',
        ],
        [
          'payment-prod',
          'apps/payment/overlays/prod',
          'https://prod.k8s',
          'payment-prod',
        ],
      ]);
      expect(applications[3].generatedBy).toEqual({
        applicationSet: 'payment',
        generator: 'generators[0].matrix',
        parameters: {
          env: 'prod',
          cluster: 'https://prod.k8s',
          version: '1.9.0',
          path: {
            path: 'apps/payment',
            basename: 'payment',
            basenameNormalized: 'payment',
            segments: ['apps', 'payment'],
          },
        },
      });
    });

    it("interpolates the second generator with the first one's parameters", async () => {
      const { applications } = await read(
        appSet(`goTemplate: true
generators:
  - matrix:
      generators:
        - list: { elements: [{ name: dev }, { name: prod }] }
        - git:
            repoURL: ${GITOPS}
            revision: HEAD
            files: [{ path: 'clusters/{{.name}}/config.json' }]
template:
  metadata: { name: 'api-{{.cluster.name}}' }
  spec:
    source: { repoURL: ${GITOPS}, path: api }
    destination: { server: '{{.cluster.address}}' }`),
      );
      expect(applications.map(a => a.name)).toEqual(['api-dev', 'api-prod']);
    });

    it('refuses a matrix without goTemplate whose generators disagree on a key', async () => {
      const { error } = await failure(
        appSet(`generators:
  - matrix:
      generators:
        - list: { elements: [{ env: dev }] }
        - list: { elements: [{ env: prod }] }
template:
  metadata: { name: 'x-{{env}}' }
  spec: { source: { repoURL: x, path: x }, destination: { name: x } }`),
      );
      expect(error.message).toBe(
        'argocd/apps.yaml: ApplicationSet payment: generators[0].matrix: found duplicate key env with different value, a: dev ,b: prod',
      );
    });

    it('merges a base list with overrides by merge key, the override winning', async () => {
      const { applications } = await read(
        appSet(`goTemplate: true
generators:
  - merge:
      mergeKeys: [env]
      generators:
        - list:
            elements:
              - { env: dev, version: 1.0.0, replicas: 1 }
              - { env: prod, version: 1.0.0, replicas: 3 }
        - list:
            elements:
              - { env: prod, version: 0.9.0 }
              - { env: qa, version: 5.0.0 }
template:
  metadata: { name: 'api-{{.env}}' }
  spec:
    source: { repoURL: ${GITOPS}, path: api, targetRevision: '{{.version}}' }
    destination: { name: '{{.env}}' }`),
      );
      expect(
        applications.map(a => [a.name, a.sources[0].targetRevision]),
      ).toEqual([
        ['api-dev', '1.0.0'],
        ['api-prod', '0.9.0'],
      ]);
      expect(applications[1].generatedBy!.parameters).toEqual({
        env: 'prod',
        version: '0.9.0',
        replicas: 3,
      });
    });

    it('filters parameter sets by the generator selector', async () => {
      const { applications } = await read(
        appSet(`goTemplate: true
generators:
  - list:
      elements: [{ env: dev, tier: { auto: "yes" } }, { env: prod, tier: { auto: "no" } }]
    selector:
      matchLabels: { tier.auto: "yes" }
      matchExpressions: [{ key: env, operator: NotIn, values: [qa] }]
template:
  metadata: { name: 'api-{{.env}}' }
  spec: { source: { repoURL: x, path: x }, destination: { name: x } }`),
      );
      expect(applications.map(a => a.name)).toEqual(['api-dev']);
    });
  });

  describe('generators that need a cluster or a forge', () => {
    it.each([
      ['clusters', '{ selector: { matchLabels: { env: prod } } }'],
      ['scmProvider', '{ github: { organization: acme } }'],
      ['pullRequest', '{ github: { owner: acme, repo: api } }'],
      ['clusterDecisionResource', '{ configMapRef: placement, name: api }'],
      ['plugin', '{ configMapRef: { name: plugin } }'],
    ])('notes %s as not read, never failing', async (kind, spec) => {
      const { applications, notes } = await read(
        appSet(`goTemplate: true
generators:
  - ${kind}: ${spec}
  - list: { elements: [{ env: dev }] }
template:
  metadata: { name: 'api-{{.env}}' }
  spec: { source: { repoURL: x, path: x }, destination: { name: x } }`),
      );
      expect(notes).toEqual([
        `ApplicationSet payment: generators[0].${kind}: not read: ${kind}`,
      ]);
      expect(applications.map(a => a.name)).toEqual(['api-dev']);
    });

    it('notes a matrix that holds one as not read', async () => {
      const { applications, notes } = await read(
        appSet(`goTemplate: true
generators:
  - matrix:
      generators:
        - clusters: {}
        - list: { elements: [{ env: dev }] }
template:
  metadata: { name: 'api-{{.env}}' }
  spec: { source: { repoURL: x, path: x }, destination: { name: x } }`),
      );
      expect(applications).toEqual([]);
      expect(notes).toEqual([
        'ApplicationSet payment: generators[0].matrix.generators[0].clusters: not read: clusters',
      ]);
    });
  });

  describe('templatePatch', () => {
    const patched = (patch: string) =>
      appSet(`goTemplate: true
generators:
  - list:
      elements:
        - { env: dev, auto: true, tag: 1.2.0 }
        - { env: prod, auto: false, tag: 1.1.0 }
template:
  metadata: { name: 'api-{{.env}}' }
  spec:
    project: shop
    source:
      repoURL: ${GITOPS}
      path: api
      helm:
        valuesObject: { image: { tag: '{{.tag}}' }, replicas: 1 }
    destination: { name: '{{.env}}' }
    syncPolicy:
      syncOptions: [CreateNamespace=true]
templatePatch: |
${patch
  .split('\n')
  .map(line => `  ${line}`)
  .join('\n')}`);

    it('merges the rendered patch into each Application, keeping what it does not touch', async () => {
      const { applications } = await read(
        patched(`{{- if .auto }}
spec:
  project: other
  syncPolicy:
    automated: { prune: true, selfHeal: true }
  source:
    helm:
      valuesObject:
        replicas: 2
{{- end }}`),
      );
      expect(applications.map(a => [a.name, a.project, a.syncPolicy])).toEqual([
        [
          'api-dev',
          'shop',
          {
            automated: true,
            prune: true,
            selfHeal: true,
            allowEmpty: false,
            syncOptions: ['CreateNamespace=true'],
          },
        ],
        [
          'api-prod',
          'shop',
          {
            automated: false,
            prune: false,
            selfHeal: false,
            allowEmpty: false,
            syncOptions: ['CreateNamespace=true'],
          },
        ],
      ]);
      expect(applications.map(a => a.sources[0].helm!.valuesObject)).toEqual([
        { image: { tag: '1.2.0' }, replicas: 2 },
        { image: { tag: '1.1.0' }, replicas: 1 },
      ]);
    });

    it('replaces lists and deletes what the patch sets to null', async () => {
      const {
        applications: [dev],
      } = await read(
        patched(`spec:
  syncPolicy:
    syncOptions: [PruneLast=true]
  source:
    path: null`),
      );
      expect(dev.syncPolicy.syncOptions).toEqual(['PruneLast=true']);
      expect(dev.sources[0].path).toBeNull();
    });

    it('refuses to merge a map inside valuesObject, as Argo CD does', async () => {
      const { error } = await failure(
        patched(`spec:
  source:
    helm:
      valuesObject:
        image: { tag: 9.9.9 }`),
      );
      expect(error.message).toMatch(
        /generators\[0\]\.list, parameters 0 .*: unable to find api field in struct RawExtension for the json field "image"$/,
      );
    });
  });
});

describe('hostile manifests end fast with a clear error', () => {
  it('refuses a billion-laughs alias bomb', async () => {
    const bomb = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
kind: ApplicationSet
`;
    const { error, ms } = await failure(bomb);
    expect(ms).toBeLessThan(1000);
    expect(error).toBeInstanceOf(ArgoCdManifestError);
    expect(error.message).toMatch(
      /^argocd\/apps.yaml: YAML: YAML rejected: Excessive alias count/,
    );
  });

  it('refuses a 10 MB manifest before parsing it', async () => {
    const manifest = `kind: Application\nmetadata:\n  name: x\n# ${'x'.repeat(
      10 * 1024 * 1024,
    )}\n`;
    const { error, ms } = await failure(manifest);
    expect(ms).toBeLessThan(1000);
    expect(error.message).toBe(
      `argocd/apps.yaml: the manifest is ${Buffer.byteLength(
        manifest,
      )} bytes, more than the 1048576 allowed`,
    );
  });

  it('refuses a manifest nested thousands deep', async () => {
    const manifest = `kind: Application\nspec: ${'['.repeat(5000)}${']'.repeat(
      5000,
    )}\n`;
    const { error, ms } = await failure(manifest);
    expect(ms).toBeLessThan(1000);
    expect(error.message).toMatch(
      /^argocd\/apps.yaml: YAML: (nests more than 100 levels deep|the YAML nests too deeply)$/,
    );
  });

  it('caps the Applications a matrix may generate', async () => {
    const elements = (key: string) =>
      Array.from({ length: 100 }, (_, i) => `{ ${key}: "${i}" }`).join(', ');
    const { error, ms } = await failure(
      appSet(`goTemplate: true
generators:
  - matrix:
      generators:
        - list: { elements: [${elements('a')}] }
        - list: { elements: [${elements('b')}] }
template:
  metadata: { name: 'x-{{.a}}-{{.b}}' }
  spec: { source: { repoURL: x, path: x }, destination: { name: x } }`),
    );
    expect(ms).toBeLessThan(2000);
    expect(error.message).toBe(
      'argocd/apps.yaml: ApplicationSet payment: the manifest generates more than 1000 Applications',
    );
  });

  it('stops a template that ranges over a huge int, naming the field and the element', async () => {
    const { error, ms } = await failure(
      appSet(`goTemplate: true
generators:
  - list: { elements: [{ env: dev }] }
template:
  metadata: { name: '{{ range 1000000000000 }}x{{ end }}' }
  spec: { source: { repoURL: x, path: x }, destination: { name: x } }`),
    );
    expect(ms).toBeLessThan(1000);
    expect(error.message).toBe(
      'argocd/apps.yaml: ApplicationSet payment: generators[0].list, parameters 0 {"env":"dev"}: template metadata.name: range over 1000000000000 takes more than 100000 steps',
    );
  });

  it('stops templates whose work together passes the manifest budget', async () => {
    const { error, ms } = await failure(
      appSet(`goTemplate: true
generators:
  - list: { elements: [${Array.from(
    { length: 10 },
    (_, i) => `{ n: "${i}" }`,
  ).join(', ')}] }
template:
  metadata: { name: '{{ range until 50000 }}{{ end }}{{ .n }}' }
  spec: { source: { repoURL: x, path: x }, destination: { name: x } }`),
      { limits: { templateSteps: 200_000 } },
    );
    expect(ms).toBeLessThan(2000);
    expect(error.message).toBe(
      'argocd/apps.yaml: ApplicationSet payment: the templates take more than 200000 steps',
    );
  });

  it('stops a small manifest that copies a large valuesObject into many Applications', async () => {
    const { error, ms } = await failure(
      appSet(`goTemplate: true
generators:
  - list: { elements: [${Array.from(
    { length: 200 },
    (_, i) => `{ n: "${i}" }`,
  ).join(', ')}] }
template:
  metadata: { name: 'x-{{ .n }}' }
  spec:
    source: { repoURL: x, path: x, helm: { valuesObject: { list: [${'1,'.repeat(
      5000,
    )}1] } } }
    destination: { name: x }`),
      { limits: { values: 200_000 } },
    );
    expect(ms).toBeLessThan(2000);
    expect(error.message).toBe(
      'argocd/apps.yaml: ApplicationSet payment: the manifest copies more than 200000 values into its Applications',
    );
  });

  it('matches a catastrophic regex in a template in linear time', async () => {
    const started = performance.now();
    const {
      applications: [application],
    } = await read(
      appSet(`goTemplate: true
generators:
  - list: { elements: [{ name: "${'a'.repeat(5000)}!" }] }
template:
  metadata: { name: '{{ if regexMatch "^(a+)+$" .name }}bad{{ else }}ok{{ end }}' }
  spec: { source: { repoURL: x, path: x }, destination: { name: x } }`),
    );
    expect(application.name).toBe('ok');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('reading a manifest from a repository snapshot', () => {
  it('reads the file at a path, naming it in errors', async () => {
    const snapshot: RepositorySnapshot = memorySnapshot({
      'argocd/api.yaml': `kind: Application\nmetadata: { name: api }\nspec: { source: { repoURL: x, path: api }, destination: { name: x } }\n`,
      'argocd/broken.yaml': 'kind: [\n',
    });
    const { applications } = await readArgoCdManifest(
      snapshot,
      'argocd/api.yaml',
    );
    expect(applications.map(a => a.name)).toEqual(['api']);
    await expect(
      readArgoCdManifest(snapshot, 'argocd/missing.yaml'),
    ).rejects.toThrow(
      new ArgoCdManifestError('argocd/missing.yaml', 'file not found'),
    );
    await expect(
      readArgoCdManifest(snapshot, 'argocd/broken.yaml'),
    ).rejects.toThrow(/^argocd\/broken.yaml: YAML: invalid YAML at line/);
  });

  it('refuses a file larger than the limit without reading it', async () => {
    const snapshot = memorySnapshot({
      'big.yaml': 'x'.repeat(2 * 1024 * 1024),
    });
    await expect(readArgoCdManifest(snapshot, 'big.yaml')).rejects.toThrow(
      'big.yaml: the manifest is 2097152 bytes, more than the 1048576 allowed',
    );
  });
});

describe("the scaffolder template's ApplicationSet", () => {
  const skeletonDir = path.resolve(
    __dirname,
    '../../../../templates/gitops-service/skeleton/argocd',
  );
  const skeleton = fs.readFileSync(
    path.join(
      skeletonDir,
      fs.readdirSync(skeletonDir).find(f => f.endsWith('applicationset.yaml'))!,
    ),
    'utf8',
  );

  const environments = [
    {
      name: 'dev',
      cluster: 'https://kubernetes.default.svc',
      namespace: 'cart-dev',
      autoSync: true,
    },
    {
      name: 'staging',
      cluster: 'https://kubernetes.default.svc',
      namespace: 'cart-staging',
      autoSync: true,
    },
    {
      name: 'prod',
      cluster: 'https://prod.k8s.acme.example',
      namespace: 'cart-prod',
      autoSync: false,
    },
  ];

  it.each([
    ['kustomize', 'cart', (env: string) => `cart/overlays/${env}`],
    ['helm', 'charts/cart', (env: string) => `charts/cart/values-${env}.yaml`],
  ])(
    'generates one Application per environment of a %s layout, at its path, namespace and cluster',
    async (layout, serviceDirectory, envPath) => {
      const manifest = renderNunjucks(skeleton, {
        values: {
          service: 'cart',
          layout,
          environments: environments.map(e => ({
            ...e,
            path: envPath(e.name),
          })),
          argoProject: 'shop',
          repositoryUrl: GITOPS,
          branch: 'main',
          serviceDirectory,
        },
      });
      const { applications, notes } = await parseArgoCdManifest(manifest, {
        file: 'argocd/cart-applicationset.yaml',
      });
      expect(notes).toEqual([]);
      expect(
        applications.map(a => ({
          name: a.name,
          environment: a.labels['gitops-promotions/environment'],
          project: a.project,
          cluster: a.destination.server,
          namespace: a.destination.namespace,
          path: a.sources[0].path,
          valueFiles: a.sources[0].helm?.valueFiles.map(f => f.path) ?? [],
          automated: a.syncPolicy.automated,
          prune: a.syncPolicy.prune,
          selfHeal: a.syncPolicy.selfHeal,
          syncOptions: a.syncPolicy.syncOptions,
          notes: a.notes,
        })),
      ).toEqual(
        environments.map(e => ({
          name: `cart-${e.name}`,
          environment: e.name,
          project: 'shop',
          cluster: e.cluster,
          namespace: e.namespace,
          path: layout === 'helm' ? serviceDirectory : envPath(e.name),
          valueFiles: layout === 'helm' ? [envPath(e.name)] : [],
          automated: e.autoSync,
          prune: e.autoSync,
          selfHeal: e.autoSync,
          syncOptions: ['CreateNamespace=true'],
          notes: [],
        })),
      );
      expect(applications.every(a => a.namespace === 'argocd')).toBe(true);
      expect(applications.every(a => a.sources[0].repoURL === GITOPS)).toBe(
        true,
      );
    },
  );
});

/**
 * The part of Nunjucks the skeleton uses, as the scaffolder's fetch:template renders it:
 * `${{ expression }}` with `|` filters (dump, string), `+` and `==`, and `{%- for %}` and
 * `{%- if %}` / `{%- else %}` blocks whose `-` trims the whitespace before them.
 */
function renderNunjucks(
  template: string,
  context: Record<string, unknown>,
): string {
  type Block =
    | { type: 'text'; text: string }
    | { type: 'output'; expression: string }
    | { type: 'for'; name: string; list: string; body: Block[] }
    | { type: 'if'; test: string; then: Block[]; otherwise: Block[] };
  // Text, `${{ ... }}` (closed by the first `}}` outside quotes) and `{% ... %}` tokens.
  const tokens: string[] = [];
  for (let i = 0; i < template.length; ) {
    const output = template.indexOf('${{', i);
    const statement = template.indexOf('{%', i);
    const start = [output, statement]
      .filter(n => n >= 0)
      .sort((x, y) => x - y)[0];
    if (start === undefined) {
      tokens.push(template.slice(i));
      break;
    }
    tokens.push(template.slice(i, start));
    let end = start === statement ? template.indexOf('%}', start) + 2 : -1;
    if (start === output) {
      let quoted = false;
      for (let j = start + 3; j < template.length && end < 0; j++) {
        if (template[j] === "'") quoted = !quoted;
        else if (!quoted && template.startsWith('}}', j)) end = j + 2;
      }
    }
    tokens.push(template.slice(start, end));
    i = end;
  }
  let position = 0;
  const parse = (until: string[]): { blocks: Block[]; end?: string } => {
    const blocks: Block[] = [];
    while (position < tokens.length) {
      const token = tokens[position++];
      if (token.startsWith('${{')) {
        blocks.push({ type: 'output', expression: token.slice(3, -2).trim() });
      } else if (token.startsWith('{%')) {
        const trim = token.startsWith('{%-');
        const statement = token.replace(/^\{%-?|-?%\}$/g, '').trim();
        if (
          trim &&
          blocks.length > 0 &&
          blocks[blocks.length - 1].type === 'text'
        ) {
          const last = blocks[blocks.length - 1] as { text: string };
          last.text = last.text.replace(/\s+$/, '');
        }
        const keyword = statement.split(/\s+/)[0];
        if (until.includes(keyword)) return { blocks, end: keyword };
        if (keyword === 'for') {
          const [, name, list] = /^for (\w+) in (.+)$/.exec(statement)!;
          blocks.push({
            type: 'for',
            name,
            list,
            body: parse(['endfor']).blocks,
          });
        } else if (keyword === 'if') {
          const then = parse(['else', 'endif']);
          const otherwise = then.end === 'else' ? parse(['endif']).blocks : [];
          blocks.push({
            type: 'if',
            test: statement.slice(3),
            then: then.blocks,
            otherwise,
          });
        } else throw new Error(`unknown statement ${statement}`);
      } else if (token) blocks.push({ type: 'text', text: token });
    }
    return { blocks };
  };
  const evaluate = (
    expression: string,
    scope: Record<string, unknown>,
  ): unknown => {
    const source = expression.trim();
    const split = (operator: string) => {
      let depth = 0;
      let quoted = false;
      for (let i = source.length - 1; i >= 0; i--) {
        const c = source[i];
        if (c === "'") quoted = !quoted;
        if (quoted) continue;
        if (c === ')') depth++;
        if (c === '(') depth--;
        if (depth === 0 && source.startsWith(operator, i)) return i;
      }
      return -1;
    };
    for (const operator of ['==', '+', '|']) {
      const at = split(operator);
      if (at < 0) continue;
      const left = evaluate(source.slice(0, at), scope);
      const right = source.slice(at + operator.length).trim();
      if (operator === '==') return left === evaluate(right, scope);
      if (operator === '+') return `${left}${evaluate(right, scope)}`;
      if (right === 'dump') return JSON.stringify(left);
      if (right === 'string') return String(left);
      throw new Error(`unknown filter ${right}`);
    }
    if (source.startsWith('(')) return evaluate(source.slice(1, -1), scope);
    if (source.startsWith("'")) return source.slice(1, -1);
    return source
      .split('.')
      .reduce<unknown>(
        (value, key) => (value as Record<string, unknown>)[key],
        scope,
      );
  };
  const run = (blocks: Block[], scope: Record<string, unknown>): string =>
    blocks
      .map(block => {
        switch (block.type) {
          case 'text':
            return block.text;
          case 'output':
            return String(evaluate(block.expression, scope));
          case 'for':
            return (evaluate(block.list, scope) as unknown[])
              .map(item => run(block.body, { ...scope, [block.name]: item }))
              .join('');
          default:
            return run(
              evaluate(block.test, scope) ? block.then : block.otherwise,
              scope,
            );
        }
      })
      .join('');
  return run(parse([]).blocks, context);
}
