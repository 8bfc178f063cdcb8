import { ConfigReader } from '@backstage/config';
import { RepositoryConfig } from '../config/readPromotionsConfig';
import { resolveEnvironment } from '../resolve';
import { memorySnapshot } from '../testing/memorySnapshot';
import { parseArgoCdManifest } from './applicationSets';
import {
  isRepositoryURL,
  manifestEnvironments,
  ManifestEnvironment,
} from './environments';

const FILE = 'argocd/payment.yaml';
const ENVIRONMENTS = ['dev', 'staging', 'prod'];

const repository = (
  id: string,
  url: string,
  argocdRepoURL?: string,
): RepositoryConfig => ({
  id,
  provider: 'git',
  url,
  argocdRepoURL,
  branch: 'main',
  config: new ConfigReader({}),
});

const repositories = [
  repository(
    'gitops',
    'https://github.com/acme/gitops',
    'git@github.com:acme/gitops.git',
  ),
  repository('values', 'https://git.acme.example/acme/values.git'),
];

async function environments(
  manifest: string,
  options: {
    environments?: string[];
    isHelmChart?: (path: string) => boolean;
  } = {},
) {
  return manifestEnvironments(
    await parseArgoCdManifest(manifest, { file: FILE }),
    {
      file: FILE,
      environments: options.environments ?? ENVIRONMENTS,
      repositories,
      isHelmChart: options.isHelmChart,
    },
  );
}

/** The environment's source, failing the test with its error when it has none. */
function sourceOf(
  found: Map<string, ManifestEnvironment | { error: string }>,
  environment: string,
): ManifestEnvironment {
  const entry = found.get(environment);
  if (!entry) throw new Error(`no entry for ${environment}`);
  if ('error' in entry) throw new Error(entry.error);
  return entry;
}

const errorOf = (
  found: Map<string, ManifestEnvironment | { error: string }>,
  environment: string,
) => {
  const entry = found.get(environment);
  return entry && 'error' in entry ? entry.error : undefined;
};

const application = (
  name: string,
  spec: string,
  metadata = '',
) => `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: ${name}
  namespace: argocd
${metadata}spec:
  project: shop
${spec
  .split('\n')
  .map(line => (line ? `  ${line}` : line))
  .join('\n')}
  destination:
    server: https://kubernetes.default.svc
    namespace: payment
`;

/** A one-source Application of the gitops repository deploying `path`, for the prod environment. */
const prod = (source: string) =>
  application(
    'payment-prod',
    `source:
  repoURL: https://github.com/acme/gitops.git
${source
  .split('\n')
  .map(line => (line ? `  ${line}` : line))
  .join('\n')}`,
  );

const LIST_APPLICATION_SET = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: payment
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - list:
        elements:
          - { env: dev, version: 1.4.3 }
          - { env: staging, version: 1.4.2 }
          - { env: prod, version: 1.3.0 }
  template:
    metadata:
      name: 'payment-{{.env}}'
    spec:
      project: shop
      source:
        repoURL: https://github.com/acme/gitops.git
        targetRevision: HEAD
        path: charts/payment
        helm:
          valueFiles:
            - 'values-{{.env}}.yaml'
            - '../../envs/{{.env}}/values.yaml'
          parameters:
            - name: image.tag
              value: '{{.version}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: 'payment-{{.env}}'
`;

describe('manifestEnvironments', () => {
  it('gives each environment of a list-generated ApplicationSet its Helm layering, the version in a parameter', async () => {
    const found = await environments(LIST_APPLICATION_SET);
    expect(sourceOf(found, 'staging')).toEqual({
      environment: 'staging',
      application: 'payment-staging',
      repositoryId: 'gitops',
      path: 'charts/payment',
      helm: {
        chartPath: 'charts/payment',
        valueFiles: [
          'charts/payment/values-staging.yaml',
          'envs/staging/values.yaml',
        ],
        values: null,
        valuesObject: null,
        parameters: [{ name: 'image.tag', value: '1.4.2', forceString: false }],
        ignoreMissingValueFiles: false,
        manifest: FILE,
      },
    });
    expect(
      ENVIRONMENTS.map(env => sourceOf(found, env).helm?.parameters),
    ).toEqual(
      ['1.4.3', '1.4.2', '1.3.0'].map(value => [
        { name: 'image.tag', value, forceString: false },
      ]),
    );

    // With the manifest alone, the resolver finds each environment's version.
    const snapshot = memorySnapshot({
      'charts/payment/Chart.yaml':
        'apiVersion: v2\nname: payment\nversion: 1.0.0\n',
      'charts/payment/values.yaml':
        'image:\n  repository: ghcr.io/acme/payment\n  tag: latest\n',
      'charts/payment/values-staging.yaml': 'replicaCount: 2\n',
      'envs/staging/values.yaml': 'image:\n  tag: 1.0.0\n',
    });
    const staging = sourceOf(found, 'staging');
    const resolved = await resolveEnvironment(snapshot, staging.path, {
      helm: staging.helm,
    });
    expect(resolved.version).toBe('1.4.2');
  });

  it('reads a multi-source Application: the source with a path deploys, $values files come from the ref source', async () => {
    const found = await environments(
      application(
        'payment-prod',
        `sources:
  - repoURL: git@github.com:acme/gitops.git
    targetRevision: main
    path: charts/payment
    helm:
      valueFiles: [$values/envs/prod/values.yaml]
      valuesObject: { replicaCount: 3 }
      ignoreMissingValueFiles: true
  - repoURL: https://GitHub.com/acme/gitops/
    targetRevision: HEAD
    ref: values`,
      ),
    );
    expect(sourceOf(found, 'prod')).toEqual({
      environment: 'prod',
      application: 'payment-prod',
      repositoryId: 'gitops',
      path: 'charts/payment',
      helm: {
        chartPath: 'charts/payment',
        valueFiles: ['envs/prod/values.yaml'],
        values: null,
        valuesObject: { replicaCount: 3 },
        parameters: [],
        ignoreMissingValueFiles: true,
        manifest: FILE,
      },
    });
    expect(errorOf(found, 'dev')).toBe(`no Application of ${FILE} deploys dev`);
  });

  it('maps a list of Applications by the environment their names end with', async () => {
    const found = await environments(
      [
        application(
          'shop-dev',
          `source:
  repoURL: https://github.com/acme/gitops
  targetRevision: main
  path: apps/shop/overlays/dev
  kustomize:
    images: [ghcr.io/acme/shop:2.1.0, "nginx=ghcr.io/acme/nginx:1.27"]`,
        ),
        application(
          'shop_staging',
          `source:
  repoURL: https://github.com/acme/gitops
  path: ./apps/shop/overlays/staging/`,
        ),
        application(
          'shop.prod',
          `source:
  repoURL: https://github.com/acme/gitops
  targetRevision: v1.2.0
  path: apps/shop/overlays/prod`,
        ),
        application(
          'shop-preview',
          `source:
  repoURL: https://github.com/acme/gitops
  path: apps/shop/overlays/preview`,
        ),
      ].join('---\n'),
    );
    expect(ENVIRONMENTS.map(env => sourceOf(found, env))).toEqual([
      {
        environment: 'dev',
        application: 'shop-dev',
        repositoryId: 'gitops',
        path: 'apps/shop/overlays/dev',
        kustomizeImages: [
          'ghcr.io/acme/shop:2.1.0',
          'nginx=ghcr.io/acme/nginx:1.27',
        ],
      },
      {
        environment: 'staging',
        application: 'shop_staging',
        repositoryId: 'gitops',
        path: 'apps/shop/overlays/staging',
      },
      {
        environment: 'prod',
        application: 'shop.prod',
        repositoryId: 'gitops',
        ref: 'v1.2.0',
        path: 'apps/shop/overlays/prod',
      },
    ]);
  });

  it('maps by generator parameter, then label, then the last environment in the name, then the namespace', async () => {
    const generated = await environments(`apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: { name: shop }
spec:
  generators:
    - list:
        elements:
          - { Stage: prod, cluster: dev-cluster }
  template:
    metadata:
      name: 'shop-{{cluster}}'
    spec:
      project: shop
      source: { repoURL: https://github.com/acme/gitops, path: 'apps/{{Stage}}' }
      destination: { server: https://kubernetes.default.svc, namespace: shop }
`);
    expect(sourceOf(generated, 'prod').application).toBe('shop-dev-cluster');

    const source = `source:
  repoURL: https://github.com/acme/gitops
  path: apps/shop`;
    const found = await environments(
      [
        application('shop-dev', source, '  labels: { environment: staging }\n'),
        application('prod-mirror-dev', source),
        application('shop-eu-staging-eu', source),
        `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: { name: shop }
spec:
  source: { repoURL: https://github.com/acme/gitops, path: apps/shop }
  destination: { namespace: shop-prod }
`,
      ].join('---\n'),
      { environments: ['dev', 'staging', 'prod', 'staging-eu', 'eu'] },
    );
    expect(
      ['dev', 'staging', 'prod', 'staging-eu'].map(
        env => sourceOf(found, env).application,
      ),
    ).toEqual(['prod-mirror-dev', 'shop-dev', 'shop', 'shop-eu-staging-eu']);
    expect(errorOf(found, 'eu')).toBe(`no Application of ${FILE} deploys eu`);
  });

  it('reads a source as a Helm chart when isHelmChart says so', async () => {
    const found = await environments(prod('path: charts/cart'), {
      isHelmChart: path => path === 'charts/cart',
    });
    expect(sourceOf(found, 'prod').helm).toEqual({
      chartPath: 'charts/cart',
      valueFiles: [],
      values: null,
      valuesObject: null,
      parameters: [],
      ignoreMissingValueFiles: false,
      manifest: FILE,
    });
  });

  describe('gives an environment an error naming the file and Application', () => {
    it('when two Applications deploy it', async () => {
      const found = await environments(
        [
          prod('path: apps/prod'),
          application(
            'payment-canary',
            'source: { repoURL: https://github.com/acme/gitops, path: apps/canary }',
            '  labels: { env: prod }\n',
          ),
        ].join('---\n'),
      );
      expect(errorOf(found, 'prod')).toBe(
        `Applications "payment-prod" and "payment-canary" of ${FILE} both deploy prod; only one may`,
      );
    });

    it.each([
      [
        'a chart from a Helm repository',
        `sources:
  - { repoURL: https://charts.acme.example, chart: payment, targetRevision: 1.2.0 }
  - { repoURL: https://github.com/acme/gitops, ref: values }`,
        'reads chart "payment" from a Helm repository, which is not read',
      ],
      [
        'a repository that is not configured',
        'source: { repoURL: https://github.com/other/repo.git, path: apps/prod }',
        'reads "https://github.com/other/repo.git", which is no repository of promotions.repositories (by url or argocdRepoURL)',
      ],
      [
        'no source with a path',
        'sources: [{ repoURL: https://github.com/acme/gitops, ref: values }]',
        'has no source with a path',
      ],
      [
        'two sources with a path',
        `sources:
  - { repoURL: https://github.com/acme/gitops, path: apps/prod }
  - { repoURL: https://github.com/acme/gitops, path: apps/extra }`,
        'deploys 2 sources with a path ("apps/prod", "apps/extra"); only one can be the environment',
      ],
      [
        'a value file from a URL',
        `source:
  repoURL: https://github.com/acme/gitops
  path: charts/payment
  helm: { valueFiles: [https://config.acme.example/values.yaml] }`,
        'reads value file "https://config.acme.example/values.yaml" from a URL, which is not read',
      ],
      [
        'a value file of a ref no source has',
        `sources:
  - repoURL: https://github.com/acme/gitops
    path: charts/payment
    helm: { valueFiles: [$config/prod.yaml] }
  - { repoURL: https://github.com/acme/gitops, ref: values }`,
        'reads value file "$config/prod.yaml", but no source has ref "config"',
      ],
      [
        'a value file of another repository',
        `sources:
  - repoURL: https://github.com/acme/gitops
    path: charts/payment
    helm: { valueFiles: [$values/prod.yaml] }
  - { repoURL: https://git.acme.example/acme/values, ref: values }`,
        'reads value file "$values/prod.yaml" from repository "values", not from "gitops" it deploys',
      ],
      [
        'a value file at another revision',
        `sources:
  - repoURL: https://github.com/acme/gitops
    path: charts/payment
    targetRevision: v2.0.0
    helm: { valueFiles: [$values/prod.yaml] }
  - { repoURL: https://github.com/acme/gitops, ref: values, targetRevision: main }`,
        'reads value file "$values/prod.yaml" at main, not at v2.0.0 it deploys',
      ],
      [
        'a kustomize image kustomize refuses',
        `source:
  repoURL: https://github.com/acme/gitops
  path: apps/prod
  kustomize: { images: [nginx] }`,
        'sets kustomize image "nginx", which is none of name=newName:tag, name=newName@digest, name:tag or name@digest',
      ],
      [
        'both a helm and a kustomize block',
        `source:
  repoURL: https://github.com/acme/gitops
  path: apps/prod
  helm: { valueFiles: [values.yaml] }
  kustomize: { images: ["nginx:1"] }`,
        'has both a helm and a kustomize block in one source, which Argo CD refuses',
      ],
    ])('when it reads %s', async (_case, spec, message) => {
      const found = await environments(application('payment-prod', spec));
      expect(errorOf(found, 'prod')).toBe(
        `Application "payment-prod" of ${FILE} ${message}`,
      );
    });
  });

  describe('refuses what a hostile manifest names', () => {
    it.each([
      ['../outside', ', which leaves the repository'],
      ['apps/../../outside', ', which leaves the repository'],
      [
        '/etc/secrets',
        ", an absolute path; it must be relative to the repository's root",
      ],
      [
        'apps/%2e%2e/%2E%2E/secrets',
        ', which is URL-encoded; write the path as it is in the repository',
      ],
      ['apps\\..\\secrets', ', which holds a control character or a backslash'],
      [
        'apps/\u0000/secrets',
        ', which holds a control character or a backslash',
      ],
    ])('the path %j', async (path, problem) => {
      const found = await environments(prod(`path: ${JSON.stringify(path)}`));
      expect(errorOf(found, 'prod')).toBe(
        `Application "payment-prod" of ${FILE} has path ${JSON.stringify(
          path,
        )}${problem}`,
      );
    });

    it.each([
      ['../../../etc/passwd', 'which leaves the repository'],
      ['$values/../../etc/passwd', 'which leaves the repository'],
      [
        '%2e%2e/%2e%2e/etc/passwd',
        'which is URL-encoded; write the path as it is in the repository',
      ],
    ])('the value file %s', async (file, problem) => {
      const found = await environments(
        application(
          'payment-prod',
          `sources:
  - repoURL: https://github.com/acme/gitops
    path: charts/payment
    helm: { valueFiles: [${JSON.stringify(file)}] }
  - { repoURL: https://github.com/acme/gitops, ref: values }`,
        ),
      );
      expect(errorOf(found, 'prod')).toMatch(
        new RegExp(
          `^Application "payment-prod" of ${FILE} (reads value file|has the value file) "${file.replace(
            /[$.]/g,
            '\\$&',
          )}", ${problem}$`,
        ),
      );
    });

    it.each([
      ['--upload-pack=touch', '--upload-pack=touch', 'is not a valid ref name'],
      ['main..prod', 'main..prod', 'is not a valid ref name'],
      ['feature/.hidden', 'feature/.hidden', 'is not a valid ref name'],
      ['a BEL', 'release\u0007', 'holds a character a ref name cannot'],
      ['v1.*', 'v1.*', 'holds a character a ref name cannot'],
      ['of 256 characters', 'a'.repeat(256), 'is longer than 255 characters'],
    ])('the targetRevision %s', async (_name, revision, problem) => {
      const found = await environments(
        prod(`path: apps/prod\ntargetRevision: ${JSON.stringify(revision)}`),
      );
      expect(errorOf(found, 'prod')).toBe(
        `Application "payment-prod" of ${FILE} has targetRevision ${JSON.stringify(
          revision.slice(0, 200),
        )}, which ${problem}`,
      );
    });

    it('reads the repository itself for an empty revision, HEAD or its branch', async () => {
      for (const revision of ['', 'HEAD', 'main', 'refs/heads/main']) {
        const found = await environments(
          prod(`path: apps/prod\ntargetRevision: "${revision}"`),
        );
        expect(sourceOf(found, 'prod').ref).toBeUndefined();
      }
    });
  });
});

describe('isRepositoryURL', () => {
  const mirrored = {
    id: 'gitops',
    provider: 'git',
    url: 'https://github.com/acme/gitops',
    argocdRepoURL: 'ssh://git@mirror.acme.example:2222/acme/gitops.git',
    branch: 'main',
  } as RepositoryConfig;
  it.each([
    'https://github.com/acme/gitops',
    'https://GitHub.com/acme/gitops.git/',
    'git@github.com:acme/gitops.git',
    'ssh://git@mirror.acme.example/acme/gitops',
  ])('takes %s', url => expect(isRepositoryURL(mirrored, url)).toBe(true));
  it.each([
    'https://github.com/acme/gitops-other',
    'https://github.com/acme/GitOps',
    'https://github.com.evil.example/acme/gitops',
    'https://github.com/acme',
  ])('refuses %s', url => expect(isRepositoryURL(mirrored, url)).toBe(false));
});
