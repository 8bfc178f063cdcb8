import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { testGitRepository } from '../testing/testRepository';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import {
  gitRepositoryProvider,
  RepositoryRegistry,
  ResolverPool,
} from '@gitops-promotions/plugin-promotions-node';
import { mockServices } from '@backstage/backend-test-utils';
import { PermissionsService } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { createPlanEnvironmentsAction } from './planEnvironments';
import { createPublishGitAction } from './publishGit';
import { createCheckPublishAction } from './checkPublish';
import { createValidateLayoutAction } from './validateLayout';
import { createRegisterEntityAction } from './registerEntity';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { promotionsLayoutPublishPermission } from '@gitops-promotions/plugin-promotions-common';

/** The repositories service as the backend builds it, over a repository at `url`. */
const repositories = (url = '/srv/gitops') =>
  new RepositoryRegistry({
    rootConfig: new ConfigReader({
      promotions: {
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url,
            argocdRepoURL: 'https://git.acme.example/gitops.git',
          },
          // Read from a local path, with no URL Argo CD could clone it from.
          { id: 'local', provider: 'git', url },
          {
            id: 'hub',
            provider: 'github',
            url: 'https://github.com/acme/gitops',
          },
        ],
        pipelines: {
          regional: [
            { name: 'qa' },
            { name: 'staging-eu', requires: ['qa'] },
            { name: 'prod-eu', requires: ['staging-eu'] },
          ],
        },
      },
    }),
    logger: mockServices.logger.mock(),
    started: Promise.resolve(),
    providers: [gitRepositoryProvider],
  });
const config = (url?: string) => repositories(url).config;
/** The example policy's answer to someone with these claims: owners act on their own services. */
const ownersOnlyPermissions = (claims: string[]) =>
  mockServices.permissions.mock({
    authorizeConditional: async () => [
      {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: {
          rule: 'IS_ENTITY_OWNER',
          resourceType: 'catalog-entity',
          params: { claims },
        },
      },
    ],
  });
const permissions = mockServices.permissions();
/** The resolver on worker threads, as the backend runs it. */
const pool = new ResolverPool({ size: 1, logger: mockServices.logger.mock() });
const resolver = {
  resolve: (...args: Parameters<ResolverPool['resolve']>) =>
    pool.resolve(...args),
};
afterAll(() => pool.close());

const planInput = {
  service: 'payment',
  imageRepository: 'ghcr.io/acme/payment',
  initialTag: '1.0.0',
  layout: 'kustomize' as const,
  repository: 'gitops',
  pipeline: 'default',
  namespacePattern: '{service}-{env}',
  defaultCluster: 'https://kubernetes.default.svc',
  defaults: {
    replicas: 1,
    cpuRequest: '100m',
    memoryRequest: '128Mi',
    cpuLimit: '500m',
    memoryLimit: '256Mi',
  },
  overrides: [] as any[],
};

describe('promotions:plan-environments', () => {
  it('expands the configured pipeline, with overrides, namespaces and manual sync for production', async () => {
    const ctx = createMockActionContext({
      input: {
        ...planInput,
        pipeline: 'regional',
        overrides: [
          {
            name: 'prod-eu',
            replicas: 4,
            cluster: 'https://prod-eu.k8s.acme.example',
          },
        ],
      },
    });
    await createPlanEnvironmentsAction({ config: config() }).handler(
      ctx as any,
    );
    const environments = (ctx.output as jest.Mock).mock.calls.find(
      ([name]) => name === 'environments',
    )[1];
    expect(environments).toEqual([
      expect.objectContaining({
        name: 'qa',
        requires: [],
        namespace: 'payment-qa',
        autoSync: true,
        replicas: 1,
        path: 'payment/overlays/qa',
      }),
      expect.objectContaining({
        name: 'staging-eu',
        requires: ['qa'],
        autoSync: true,
      }),
      expect.objectContaining({
        name: 'prod-eu',
        autoSync: false,
        replicas: 4,
        cluster: 'https://prod-eu.k8s.acme.example',
        cpuLimit: '500m',
      }),
    ]);
    expect(ctx.output).toHaveBeenCalledWith(
      'pathTemplate',
      'payment/overlays/{env}',
    );
    expect(ctx.output).toHaveBeenCalledWith('provider', 'git');
    expect(ctx.output).toHaveBeenCalledWith('repoUrl', '');
  });

  it("gives a github repository in the form the scaffolder's GitHub actions take", async () => {
    const ctx = createMockActionContext({
      input: { ...planInput, repository: 'hub' },
    });
    await createPlanEnvironmentsAction({ config: config() }).handler(
      ctx as any,
    );
    expect(ctx.output).toHaveBeenCalledWith('provider', 'github');
    expect(ctx.output).toHaveBeenCalledWith(
      'repoUrl',
      'github.com?owner=acme&repo=gitops',
    );
  });

  const credentialUrls = [
    'https://x-access-token:ghs_secret@git.acme.example/gitops.git',
    'https://git.acme.example/gitops.git?access_token=ghs_secret',
  ];

  it.each(credentialUrls)(
    'shows no credentials a repository url carries in its outputs: %s',
    async url => {
      const ctx = createMockActionContext({ input: planInput });
      await createPlanEnvironmentsAction({ config: config(url) }).handler(
        ctx as any,
      );
      expect(ctx.output).toHaveBeenCalledWith(
        'repositoryUrl',
        'https://git.acme.example/gitops.git',
      );
      expect(
        JSON.stringify((ctx.output as jest.Mock).mock.calls),
      ).not.toContain('ghs_secret');
    },
  );

  it.each(credentialUrls)(
    'asks for an argocdRepoURL, showing no credentials, when the repository url holds them: %s',
    async url => {
      const ctx = createMockActionContext({
        input: { ...planInput, repository: 'local' },
      });
      const planning = createPlanEnvironmentsAction({
        config: config(url),
      }).handler(ctx as any);
      await expect(planning).rejects.toThrow(
        'repository "local" has no URL Argo CD can clone: its url holds credentials, which are never written into manifests, so set argocdRepoURL on it',
      );
      await expect(planning).rejects.not.toThrow('ghs_secret');
    },
  );

  it('lays out Helm values files under charts/<service>', async () => {
    const ctx = createMockActionContext({
      input: { ...planInput, layout: 'helm' },
    });
    await createPlanEnvironmentsAction({ config: config() }).handler(
      ctx as any,
    );
    expect(ctx.output).toHaveBeenCalledWith(
      'pathTemplate',
      'charts/payment/values-{env}.yaml',
    );
    expect(ctx.output).toHaveBeenCalledWith('environmentNames', [
      'dev',
      'staging',
      'prod',
    ]);
  });

  it.each([
    [
      { service: 'Payment_Service' },
      'service name "Payment_Service" must be a Kubernetes DNS-1123 label',
    ],
    [
      { imageRepository: 'ghcr.io/acme/payment:1.0' },
      'image repository "ghcr.io/acme/payment:1.0" is not a valid image name',
    ],
    [{ initialTag: '-bad' }, 'image tag "-bad" is not valid'],
    [
      { repository: 'nope' },
      'repository "nope" is not in promotions.repositories',
    ],
    [{ pipeline: 'nope' }, 'pipeline "nope" is not in promotions.pipelines'],
    [
      { repository: 'local' },
      'repository "local" has no URL Argo CD can clone: its url is a local path, so set argocdRepoURL on it in promotions.repositories',
    ],
    [
      { namespacePattern: '{service}' },
      'environments dev, staging and prod would all deploy to namespace "payment" of cluster https://kubernetes.default.svc and overwrite each other',
    ],
    [
      { overrides: [{ name: 'qa' }] },
      'environment "qa" is not in pipeline "default"',
    ],
    [
      { overrides: [{ name: 'prod', memoryLimit: 'lots' }] },
      'memory limit of prod "lots" is not a memory quantity',
    ],
    [
      { namespacePattern: '{service}_{env}' },
      'namespace of dev "payment_dev" must be a Kubernetes DNS-1123 label',
    ],
    [
      { defaultCluster: 'http://cluster' },
      'default cluster "http://cluster" must be an https URL',
    ],
    // new URL() accepts this, dropping the newline; written out, it would add a key.
    [
      {
        overrides: [
          {
            name: 'prod',
            cluster: 'https://prod.k8s.acme.example\n            evil: "true"',
          },
        ],
      },
      'overrides.0.cluster "https://prod.k8s.acme.example\\n            evil: \\"true\\"" contains control characters',
    ],
    [
      { owner: 'group:default/team\nspec: {}' },
      'owner "group:default/team\\nspec: {}" contains control characters',
    ],
    [
      { argoProject: 'shop\r' },
      'argoProject "shop\\r" contains control characters',
    ],
    [
      { namespacePattern: '{service}-{env}\u0000' },
      'namespacePattern "{service}-{env}\\u0000" contains control characters',
    ],
    [
      { owner: 'group:default/../../x' },
      'owner "group:default/../../x" is not an entity reference',
    ],
  ])('refuses %j before anything is written', async (change, message) => {
    const ctx = createMockActionContext({ input: { ...planInput, ...change } });
    await expect(
      createPlanEnvironmentsAction({ config: config() }).handler(ctx as any),
    ).rejects.toThrow(message);
    expect(ctx.output).not.toHaveBeenCalled();
  });
});

describe('promotions:validate-layout', () => {
  function workspace(files: Record<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scaffold-ws-'));
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    }
    return dir;
  }
  const base = {
    'svc/base/kustomization.yaml': 'resources: [deployment.yaml]\n',
    'svc/base/deployment.yaml':
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: svc }\nspec:\n  template:\n    spec:\n      containers: [{ name: svc, image: "ghcr.io/acme/svc:0.0.1" }]\n',
    'svc/overlays/dev/kustomization.yaml':
      'resources: [../../base]\nimages: [{ name: ghcr.io/acme/svc, newTag: "1.0.0" }]\n',
  };

  it('resolves every environment to the expected version', async () => {
    const ctx = createMockActionContext({
      workspacePath: workspace(base),
      input: {
        pathTemplate: 'svc/overlays/{env}',
        environments: ['dev'],
        expectedVersion: '1.0.0',
      },
    });
    await createValidateLayoutAction({ resolver }).handler(ctx as any);
    expect(ctx.output).toHaveBeenCalledWith('versions', { dev: '1.0.0' });
  });

  it('names the images each environment deploys as the rest of the suite does, digests included', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const logger = mockServices.logger.mock();
    const ctx = createMockActionContext({
      workspacePath: workspace({
        ...base,
        'svc/overlays/prod/kustomization.yaml': `resources: [../../base]\nimages: [{ name: ghcr.io/acme/svc, digest: "${digest}" }]\n`,
      }),
      input: {
        pathTemplate: 'svc/overlays/{env}',
        environments: ['dev', 'prod'],
      },
      logger,
    });
    await createValidateLayoutAction({ resolver }).handler(ctx as any);
    expect(logger.info).toHaveBeenCalledWith(
      'dev: svc/overlays/dev deploys ghcr.io/acme/svc:1.0.0',
    );
    expect(logger.info).toHaveBeenCalledWith(
      `prod: svc/overlays/prod deploys ghcr.io/acme/svc@${digest}`,
    );
  });

  it('stops a hostile layout (a patch-target ReDoS and a JSON-patch copy bomb) within a second, naming the file', async () => {
    const copies = Array.from(
      { length: 30 },
      (_, i) => `- { op: copy, from: /spec, path: /spec/c${i} }\n`,
    ).join('');
    // A name long enough that a backtracking engine would take hours over (a+)+b.
    const name = 'a'.repeat(48);
    const ctx = createMockActionContext({
      workspacePath: workspace({
        ...base,
        'svc/base/deployment.yaml': base['svc/base/deployment.yaml'].replace(
          'metadata: { name: svc }',
          `metadata: { name: ${name} }`,
        ),
        'svc/overlays/prod/kustomization.yaml':
          'resources: [../../base]\npatches:\n  - target: { name: "(a+)+b" }\n    path: bomb.yaml\n  - target: { kind: Deployment }\n    path: bomb.yaml\n',
        'svc/overlays/prod/bomb.yaml': copies,
      }),
      input: { pathTemplate: 'svc/overlays/{env}', environments: ['prod'] },
    });
    const started = performance.now();
    await expect(
      createValidateLayoutAction({ resolver }).handler(ctx as any),
    ).rejects.toThrow(
      `Environment "prod" cannot be resolved: svc/overlays/prod/bomb.yaml: JSON patch on Deployment/${name} failed: the patch adds more than 100000 values to its target; it multiplies its input`,
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('reads the ApplicationSet from the workspace only, never through a link out of it', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
    fs.writeFileSync(
      path.join(outside, 'secret.yaml'),
      'kind: ApplicationSet\n',
    );
    const dir = workspace(base);
    fs.mkdirSync(path.join(dir, 'argocd'));
    fs.symlinkSync(
      path.join(outside, 'secret.yaml'),
      path.join(dir, 'argocd/svc.yaml'),
    );
    const ctx = createMockActionContext({
      workspacePath: dir,
      input: {
        pathTemplate: 'svc/overlays/{env}',
        environments: ['dev'],
        applicationSet: 'argocd/svc.yaml',
      },
    });
    await expect(
      createValidateLayoutAction({ resolver }).handler(ctx as any),
    ).rejects.toThrow('svc.yaml was not generated');
  });

  it('names the environment and the file that cannot be resolved', async () => {
    // A name long enough that a backtracking engine would take hours over (a+)+b.
    const name = 'a'.repeat(48);
    const ctx = createMockActionContext({
      workspacePath: workspace({
        ...base,
        'svc/base/deployment.yaml': base['svc/base/deployment.yaml'].replace(
          'metadata: { name: svc }',
          `metadata: { name: ${name} }`,
        ),
        'svc/overlays/prod/kustomization.yaml': 'resources: [../../bse]\n',
      }),
      input: {
        pathTemplate: 'svc/overlays/{env}',
        environments: ['dev', 'prod'],
      },
    });
    await expect(
      createValidateLayoutAction({ resolver }).handler(ctx as any),
    ).rejects.toThrow(
      'Environment "prod" cannot be resolved: svc/overlays/prod/kustomization.yaml: resource "../../bse" not found',
    );
  });

  it('fails when an environment does not deploy the expected version', async () => {
    const ctx = createMockActionContext({
      workspacePath: workspace(base),
      input: {
        pathTemplate: 'svc/overlays/{env}',
        environments: ['dev'],
        expectedVersion: '2.0.0',
      },
    });
    await expect(
      createValidateLayoutAction({ resolver }).handler(ctx as any),
    ).rejects.toThrow(
      'Environment "dev" resolves to version 1.0.0 in svc/overlays/dev, not 2.0.0',
    );
  });

  describe('the ApplicationSet, expanded as Argo CD does', () => {
    const plan = [
      {
        name: 'dev',
        namespace: 'svc-dev',
        cluster: 'https://kubernetes.default.svc',
        autoSync: true,
        replicas: 1,
      },
      {
        name: 'prod',
        namespace: 'svc-prod',
        cluster: 'https://prod.acme.example:6443',
        autoSync: false,
        replicas: 3,
      },
    ];
    const appSet = `apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: { name: svc, namespace: argocd }
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - list:
        elements:
          - { env: dev, cluster: "https://kubernetes.default.svc", namespace: svc-dev, path: svc/overlays/dev, autoSync: "true" }
          - { env: prod, cluster: "https://prod.acme.example:6443", namespace: svc-prod, path: svc/overlays/prod, autoSync: "false" }
  template:
    metadata: { name: 'svc-{{.env}}' }
    spec:
      project: default
      source: { repoURL: "https://git.acme.example/gitops.git", targetRevision: main, path: '{{.path}}' }
      destination: { server: '{{.cluster}}', namespace: '{{.namespace}}' }
  templatePatch: |
    {{- if eq .autoSync "true" }}
    spec:
      syncPolicy:
        automated: { prune: true, selfHeal: true }
    {{- end }}
`;
    const run = (manifest: string) =>
      createValidateLayoutAction({ resolver }).handler(
        createMockActionContext({
          workspacePath: workspace({
            ...base,
            'svc/overlays/prod/kustomization.yaml':
              base['svc/overlays/dev/kustomization.yaml'],
            'argocd/svc.yaml': manifest,
          }),
          input: {
            pathTemplate: 'svc/overlays/{env}',
            environments: ['dev', 'prod'],
            applicationSet: 'argocd/svc.yaml',
            plan,
            argocdRepoURL: 'https://git.acme.example/gitops.git',
            targetRevision: 'main',
          },
        }) as any,
      );

    it('accepts one Application per environment as planned', async () => {
      await expect(run(appSet)).resolves.toBeUndefined();
    });

    it.each([
      [
        'production syncing by itself',
        ['autoSync: "false"', 'autoSync: "true"'],
        'Application "svc-prod" syncs prod automatically, which the plan syncs by hand',
      ],
      [
        'a templatePatch that never turns automated sync on',
        ['eq .autoSync "true"', 'eq .autoSync "yes"'],
        'Application "svc-dev" waits for a manual sync of dev, which the plan syncs automatically',
      ],
      [
        'a path the layout does not have',
        ['path: svc/overlays/prod', 'path: svc/overlays/production'],
        `Application "svc-prod" deploys "svc/overlays/production", which is no environment's path (svc/overlays/dev, svc/overlays/prod); no Application deploys prod`,
      ],
      [
        "another environment's namespace",
        ['namespace: svc-prod', 'namespace: svc-dev'],
        'Application "svc-prod" deploys prod into namespace "svc-dev", not "svc-prod"',
      ],
      [
        'another cluster',
        [
          'cluster: "https://prod.acme.example:6443"',
          'cluster: "https://kubernetes.default.svc"',
        ],
        'Application "svc-prod" deploys prod to cluster "https://kubernetes.default.svc", not "https://prod.acme.example:6443"',
      ],
      [
        'another branch',
        ['targetRevision: main', 'targetRevision: develop'],
        'Application "svc-dev" reads dev at revision "develop", not "main"',
      ],
      [
        'another repository',
        [
          'repoURL: "https://git.acme.example/gitops.git"',
          'repoURL: "https://git.evil.example/gitops.git"',
        ],
        'Application "svc-prod" reads prod from "https://git.evil.example/gitops.git", not "https://git.acme.example/gitops.git"',
      ],
      [
        'two Applications for one environment',
        ['path: svc/overlays/prod', 'path: svc/overlays/dev'],
        'Application "svc-prod" and Application "svc-dev" both deploy dev',
      ],
    ])('refuses %s, naming the Application', async (_, [from, to], message) => {
      expect(appSet).toContain(from);
      await expect(run(appSet.replace(from, to))).rejects.toThrow(message);
    });

    it('refuses a key the template uses but no element has, under missingkey=error', async () => {
      await expect(
        run(
          appSet.replace("namespace: '{{.namespace}}'", "namespace: '{{.ns}}'"),
        ),
      ).rejects.toThrow(/The ApplicationSet is not valid: .*ns/);
    });

    it('refuses a manifest that generates nothing', async () => {
      await expect(
        run(appSet.replace(/elements:\n( {10}- .*\n)+/, 'elements: []\n')),
      ).rejects.toThrow(
        'svc.yaml generates no Application; no Application deploys dev; no Application deploys prod',
      );
    });

    it('refuses a plan naming an environment it does not check', async () => {
      await expect(
        createValidateLayoutAction({ resolver }).handler(
          createMockActionContext({
            workspacePath: workspace({ ...base, 'argocd/svc.yaml': appSet }),
            input: {
              pathTemplate: 'svc/overlays/{env}',
              environments: ['dev'],
              applicationSet: 'argocd/svc.yaml',
              plan,
            },
          }) as any,
        ),
      ).rejects.toThrow('plan names environments that are not checked: prod');
    });
  });
});

/** A workspace holding the given files, each with a little YAML; catalog files name payment. */
function workspaceWith(files: string[]) {
  const workspacePath = fs.mkdtempSync(path.join(os.tmpdir(), 'scaffold-ws-'));
  for (const file of files) {
    fs.mkdirSync(path.dirname(path.join(workspacePath, file)), {
      recursive: true,
    });
    fs.writeFileSync(
      path.join(workspacePath, file),
      file.endsWith('catalog-info.yaml')
        ? 'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payment\nspec:\n  owner: shop-team\n'
        : 'x: 1\n',
    );
  }
  return workspacePath;
}
describe('promotions:publish-git', () => {
  const publish = {
    repository: 'gitops',
    branch: 'scaffold/payment',
    message: 'Add payment',
    service: 'payment',
    layout: 'kustomize',
    environments: ['dev', 'prod'],
    serviceDirectory: 'payment',
  };

  it('commits the workspace on a new branch of the repository and pushes it', async () => {
    const { dir, git } = testGitRepository();
    const workspacePath = fs.mkdtempSync(
      path.join(os.tmpdir(), 'scaffold-ws-'),
    );
    fs.mkdirSync(path.join(workspacePath, 'payment/base'), { recursive: true });
    fs.writeFileSync(
      path.join(workspacePath, 'payment/base/kustomization.yaml'),
      'resources: []\n',
    );
    const ctx = createMockActionContext({ workspacePath, input: publish });
    await createPublishGitAction({
      repositories: repositories(dir),
      permissions,
    }).handler(ctx as any);
    expect(git('log', '-1', '--format=%s', 'scaffold/payment')).toBe(
      'Add payment',
    );
    expect(
      git('show', 'scaffold/payment:payment/base/kustomization.yaml'),
    ).toBe('resources: []');
    expect(git('show', 'scaffold/payment:README.md')).toBe('# GitOps');
    expect(git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');

    const again = createMockActionContext({ workspacePath, input: publish });
    await expect(
      createPublishGitAction({
        repositories: repositories(dir),
        permissions,
      }).handler(again as any),
    ).rejects.toThrow(
      'branch "scaffold/payment" already exists in repository gitops',
    );
  });

  it.each([
    ['kustomize', 'payment', ['dev', 'prod']],
    ['helm', 'charts/payment', ['dev', 'prod']],
  ])(
    'writes a %s layout: only its planned environments, base or chart, catalog file and ApplicationSet',
    async (layout, serviceDirectory, environments) => {
      const { dir, git } = testGitRepository();
      const own =
        layout === 'helm'
          ? [
              'charts/payment/Chart.yaml',
              'charts/payment/values.yaml',
              'charts/payment/templates/deployment.yaml',
              'charts/payment/values-dev.yaml',
              'charts/payment/values-prod.yaml',
            ]
          : [
              'payment/base/deployment.yaml',
              'payment/overlays/dev/kustomization.yaml',
              'payment/overlays/prod/kustomization.yaml',
            ];
      const input = { ...publish, layout, serviceDirectory, environments };
      const action = createPublishGitAction({
        repositories: repositories(dir),
        permissions,
      });
      for (const stray of [
        `${serviceDirectory}/notes.md`,
        layout === 'helm'
          ? 'charts/payment/values-qa.yaml'
          : 'payment/overlays/qa/kustomization.yaml',
        'argocd/other-applicationset.yaml',
        'charts/other/values.yaml',
      ]) {
        await expect(
          action.handler(
            createMockActionContext({
              workspacePath: workspaceWith([...own, stray]),
              input,
            }) as any,
          ),
        ).rejects.toThrow(
          `The workspace holds files outside payment's own paths`,
        );
        expect(git('branch', '--list', 'scaffold/payment')).toBe('');
      }
      await action.handler(
        createMockActionContext({
          workspacePath: workspaceWith([
            ...own,
            `${serviceDirectory}/catalog-info.yaml`,
            'argocd/payment-applicationset.yaml',
          ]),
          input,
        }) as any,
      );
      expect(
        git('ls-tree', '-r', '--name-only', 'scaffold/payment').split('\n'),
      ).toEqual(
        expect.arrayContaining([
          ...own,
          `${serviceDirectory}/catalog-info.yaml`,
          'argocd/payment-applicationset.yaml',
        ]),
      );
    },
  );

  it('never publishes .github/workflows, however the service, its directory or the workspace spell it', async () => {
    const { dir, git } = testGitRepository();
    const action = createPublishGitAction({
      repositories: repositories(dir),
      permissions,
    });
    const workflow = '.github/workflows/x.yml';
    const linked = workspaceWith(['payment/base/kustomization.yaml']);
    fs.mkdirSync(path.join(linked, '.github/workflows'), { recursive: true });
    fs.symlinkSync(
      path.join(linked, '.github/workflows'),
      path.join(linked, 'payment/base/workflows'),
    );
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      [
        'service .github',
        { service: '.github', serviceDirectory: '.github' },
        workspaceWith([workflow]),
        /service name "\.github" must be a Kubernetes DNS-1123 label/,
      ],
      [
        'serviceDirectory .github',
        { serviceDirectory: '.github' },
        workspaceWith([workflow]),
        /serviceDirectory "\.github" must be a relative path/,
      ],
      [
        'serviceDirectory payment/../.github',
        { serviceDirectory: 'payment/../.github' },
        workspaceWith([workflow]),
        /serviceDirectory "payment\/\.\.\/\.github" must be a relative path/,
      ],
      [
        'URL-encoded serviceDirectory',
        { serviceDirectory: '%2egithub' },
        workspaceWith(['%2egithub/workflows/x.yml']),
        /serviceDirectory "%2egithub" must be a relative path/,
      ],
      [
        'URL-encoded service',
        { service: '%2egithub', serviceDirectory: undefined },
        workspaceWith(['%2egithub/workflows/x.yml']),
        /service name "%2egithub" must be a Kubernetes DNS-1123 label/,
      ],
      [
        'a plan for another directory',
        { serviceDirectory: 'charts/payment' },
        workspaceWith([workflow]),
        /serviceDirectory "charts\/payment" is not where a kustomize layout of payment lives \(payment\)/,
      ],
      [
        'the workflow beside the service',
        {},
        workspaceWith(['payment/base/kustomization.yaml', workflow]),
        /outside payment's own paths .*: \.github\/workflows\/x\.yml;/,
      ],
      [
        'a hidden directory inside the service',
        {},
        workspaceWith([`payment/base/${workflow}`]),
        /outside payment's own paths .*: payment\/base\/\.github\/workflows\/x\.yml;/,
      ],
      [
        'a symbolic link in the workspace',
        {},
        linked,
        /the workspace has a symbolic link at payment\/base\/workflows/,
      ],
      [
        'a service name with a newline',
        { service: 'payment\n.github' },
        workspaceWith([workflow]),
        /service "payment\\n\.github" contains control characters/,
      ],
    ];
    for (const [, overrides, workspacePath, error] of cases) {
      await expect(
        action.handler(
          createMockActionContext({
            workspacePath,
            input: { ...publish, ...overrides },
          }) as any,
        ),
      ).rejects.toThrow(error);
    }
    expect(git('branch', '--list')).toBe('* main');
    expect(git('log', '--all', '--format=%H')).toHaveLength(40);
  });

  it('refuses control characters in the owner, and a catalog file naming another service or owner', async () => {
    const { dir, git } = testGitRepository();
    const action = createPublishGitAction({
      repositories: repositories(dir),
      permissions,
    });
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath: workspaceWith(['payment/base/a.yaml']),
          input: { ...publish, owner: 'shop-team\r\nx' },
        }) as any,
      ),
    ).rejects.toThrow('owner "shop-team\\r\\nx" contains control characters');
    const catalogFile = (name: string, owner: string) => {
      const workspacePath = workspaceWith([]);
      fs.mkdirSync(path.join(workspacePath, 'payment'));
      fs.writeFileSync(
        path.join(workspacePath, 'payment/catalog-info.yaml'),
        `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  owner: ${owner}\n`,
      );
      return workspacePath;
    };
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath: catalogFile('billing', 'shop-team'),
          input: { ...publish, owner: 'shop-team' },
        }) as any,
      ),
    ).rejects.toThrow(
      'payment/catalog-info.yaml declares "billing", not the service payment',
    );
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath: catalogFile('payment', 'billing'),
          input: { ...publish, owner: 'shop-team' },
        }) as any,
      ),
    ).rejects.toThrow(
      'The catalog file names owner billing, not shop-team; nothing was published',
    );
    expect(git('branch', '--list')).toBe('* main');
  });

  it('publishes for owners of the new service only, as the permission policy decides', async () => {
    const { dir, git } = testGitRepository();
    // The example policy's answer to a member of shop-team: owners act on their own services.
    const ownersOnly = ownersOnlyPermissions([
      'user:default/ana',
      'group:default/shop-team',
    ]);
    const action = createPublishGitAction({
      repositories: repositories(dir),
      permissions: ownersOnly,
    });
    const run = (owner: string | undefined) =>
      action.handler(
        createMockActionContext({
          workspacePath: workspaceWith(['payment/base/a.yaml']),
          input: { ...publish, owner },
        }) as any,
      );
    await expect(run('group:default/billing')).rejects.toThrow(
      'You may not publish the layout of component:default/payment owned by group:default/billing to repository gitops',
    );
    await expect(run(undefined)).rejects.toThrow(
      'You may not publish the layout of component:default/payment to repository gitops',
    );
    expect(git('branch', '--list')).toBe('* main');
    await run('shop-team');
    expect(git('branch', '--list', 'scaffold/payment')).toBe(
      'scaffold/payment',
    );
    expect(ownersOnly.authorizeConditional).toHaveBeenCalledWith(
      [{ permission: promotionsLayoutPublishPermission }],
      expect.anything(),
    );

    // A rule the action cannot judge on a service the catalog does not hold yet refuses.
    const unknownRule = createPublishGitAction({
      repositories: repositories(dir),
      permissions: mockServices.permissions.mock({
        authorizeConditional: async () => [
          {
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'catalog',
            resourceType: 'catalog-entity',
            conditions: {
              not: {
                rule: 'HAS_ANNOTATION',
                resourceType: 'catalog-entity',
                params: { annotation: 'x' },
              },
            },
          },
        ],
      }),
    });
    await expect(
      unknownRule.handler(
        createMockActionContext({
          workspacePath: workspaceWith(['payment/base/a.yaml']),
          input: { ...publish, branch: 'scaffold/other' },
        }) as any,
      ),
    ).rejects.toThrow('You may not publish the layout');
  });

  it('publishes nothing for someone the permission policy does not allow', async () => {
    const { dir, git } = testGitRepository();
    await expect(
      createPublishGitAction({
        repositories: repositories(dir),
        permissions: mockServices.permissions({ result: AuthorizeResult.DENY }),
      }).handler(
        createMockActionContext({
          workspacePath: workspaceWith(['payment/base/a.yaml']),
          input: publish,
        }) as any,
      ),
    ).rejects.toThrow(
      'You may not publish the layout of component:default/payment to repository gitops',
    );
    expect(git('branch', '--list', 'scaffold/payment')).toBe('');
  });

  it.each([
    ['kustomize', 'payment/overlays/prod/kustomization.yaml'],
    ['helm', 'charts/payment/values.yaml'],
    ['kustomize', 'argocd/payment-applicationset.yaml'],
  ])(
    "refuses a %s service whose files the repository's branch already holds (%s)",
    async (layout, existing) => {
      const { dir, git, commitAll } = testGitRepository();
      fs.mkdirSync(path.dirname(path.join(dir, existing)), { recursive: true });
      fs.writeFileSync(path.join(dir, existing), 'owned: by billing\n');
      commitAll('billing');
      const serviceDirectory = layout === 'helm' ? 'charts/payment' : 'payment';
      await expect(
        createPublishGitAction({
          repositories: repositories(dir),
          permissions,
        }).handler(
          createMockActionContext({
            workspacePath: workspaceWith([
              `${serviceDirectory}/catalog-info.yaml`,
            ]),
            input: { ...publish, layout, serviceDirectory },
          }) as any,
        ),
      ).rejects.toThrow(
        `Repository gitops already holds ${existing}: payment exists there (in ${serviceDirectory}); nothing was published`,
      );
      expect(git('branch', '--list', 'scaffold/payment')).toBe('');
    },
  );

  it('writes nothing through a symbolic link the repository holds', async () => {
    const { dir, git, commitAll } = testGitRepository();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
    fs.symlinkSync(outside, path.join(dir, 'payment'));
    commitAll('link');
    const ctx = createMockActionContext({
      workspacePath: workspaceWith(['payment/base/evil.yaml']),
      input: { ...publish, branch: 'scaffold/p' },
    });
    await expect(
      createPublishGitAction({
        repositories: repositories(dir),
        permissions,
      }).handler(ctx as any),
    ).rejects.toThrow(
      'Repository gitops has a file or link at payment, where the change needs a directory',
    );
    expect(fs.readdirSync(outside)).toEqual([]);
    // Nothing is left behind: no branch, and the link still in place on main.
    expect(git('branch', '--list', 'scaffold/p')).toBe('');
    expect(git('ls-tree', 'main', 'payment')).toMatch(/^120000 blob/);
  });

  it('pushes nothing on a dry run, and refuses other providers and bad branch names', async () => {
    const { dir, git } = testGitRepository();
    const workspacePath = workspaceWith(['a/base/a.txt']);
    const input = {
      ...publish,
      branch: 'scaffold/a',
      service: 'a',
      serviceDirectory: 'a',
    };
    const action = createPublishGitAction({
      repositories: repositories(dir),
      permissions,
    });
    await action.handler(
      // The mock context does not carry isDryRun over, so it is set on the context it returns.
      {
        ...createMockActionContext({ workspacePath, input }),
        isDryRun: true,
      } as any,
    );
    expect(git('branch', '--list', 'scaffold/a')).toBe('');
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath,
          input: { ...input, repository: 'hub', branch: 'b' },
        }) as any,
      ),
    ).rejects.toThrow('uses provider github');
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath,
          input: { ...input, branch: '--force' },
        }) as any,
      ),
    ).rejects.toThrow('"--force" is not a valid branch name');
  });
});

describe('promotions:check-publish', () => {
  const check = {
    repository: 'hub',
    repoUrl: 'github.com?owner=acme&repo=gitops',
    service: 'payment',
    layout: 'kustomize',
    environments: ['dev', 'prod'],
    serviceDirectory: 'payment',
    owner: 'shop-team',
  };
  const own = [
    'payment/base/deployment.yaml',
    'payment/overlays/prod/kustomization.yaml',
    'payment/catalog-info.yaml',
    'argocd/payment-applicationset.yaml',
  ];
  /**
   * The repositories service with the github repository `hub` read from a local Git repository
   * holding `existing`, as the github provider reads it from GitHub.
   */
  function withHub(existing: string[] = []) {
    const { dir, commitAll } = testGitRepository();
    for (const file of existing) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), 'x: 1\n');
    }
    if (existing.length > 0) commitAll('existing services');
    const registry = repositories(dir);
    registry.addProvider({
      type: 'github',
      create: context =>
        gitRepositoryProvider.create({
          ...context,
          repository: { ...context.repository, url: dir },
        }),
    });
    return registry;
  }
  const run = (
    input: Record<string, unknown>,
    files = own,
    allowed = permissions,
    options: { existing?: string[]; entities?: Entity[] } = {},
  ) =>
    createCheckPublishAction({
      repositories: withHub(options.existing),
      permissions: allowed,
      auth: mockServices.auth(),
      catalog: catalogServiceMock({ entities: options.entities ?? [] }),
    }).handler(
      createMockActionContext({
        workspacePath: workspaceWith(files),
        input: { ...check, ...input },
      }) as any,
    );

  it("lets the new service's own files through to its configured repository", async () => {
    await expect(run({})).resolves.toBeUndefined();
  });

  it('requires repoUrl for a github repository, so where the pull request goes is always checked', async () => {
    await expect(run({ repoUrl: undefined })).rejects.toThrow(
      'repoUrl is required: repository hub uses provider github',
    );
  });

  it.each([
    ['its directory', 'payment/base/kustomization.yaml'],
    ['its ApplicationSet', 'argocd/payment-applicationset.yaml'],
  ])(
    "refuses a service whose files the repository's branch already holds (%s)",
    async (_, file) => {
      await expect(
        run({}, own, permissions, { existing: [file] }),
      ).rejects.toThrow(
        `Repository hub already holds ${file}: payment exists there (in payment); nothing was published`,
      );
    },
  );

  it("refuses a service the catalog already holds, such as another team's", async () => {
    await expect(
      run({}, own, permissions, {
        existing: ['billing/base/kustomization.yaml'],
        entities: [
          {
            apiVersion: 'backstage.io/v1alpha1',
            kind: 'Component',
            metadata: { name: 'payment', namespace: 'default' },
            spec: { owner: 'billing' },
          },
        ],
      }),
    ).rejects.toThrow(
      'component:default/payment is already in the catalog; a new service needs a name of its own',
    );
  });

  it('checks the existing service in a git repository too', async () => {
    const { dir, git, commitAll } = testGitRepository();
    fs.mkdirSync(path.join(dir, 'payment/base'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'payment/base/kustomization.yaml'), '{}\n');
    commitAll('payment');
    await expect(
      createCheckPublishAction({
        repositories: repositories(dir),
        permissions,
        auth: mockServices.auth(),
        catalog: catalogServiceMock(),
      }).handler(
        createMockActionContext({
          workspacePath: workspaceWith(own),
          input: { ...check, repository: 'gitops', repoUrl: undefined },
        }) as any,
      ),
    ).rejects.toThrow(
      'Repository gitops already holds payment/base/kustomization.yaml',
    );
    expect(git('branch', '--list')).toBe('* main');
  });

  it.each([
    [
      'no kind',
      'apiVersion: backstage.io/v1alpha1\nmetadata:\n  name: payment\n',
    ],
    [
      'a "Group"',
      'apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: payment\n',
    ],
  ])(
    'refuses a catalog file declaring %s, naming it',
    async (declared, text) => {
      const workspacePath = workspaceWith(own);
      fs.writeFileSync(
        path.join(workspacePath, 'payment/catalog-info.yaml'),
        text,
      );
      const error = await createCheckPublishAction({
        repositories: withHub(),
        permissions,
        auth: mockServices.auth(),
        catalog: catalogServiceMock(),
      })
        .handler(
          createMockActionContext({ workspacePath, input: check }) as any,
        )
        .catch(e => e);
      expect(error.name).toBe('InputError');
      expect(error.message).toBe(
        `payment/catalog-info.yaml declares ${declared}, not a Component`,
      );
    },
  );

  it.each([
    'github.com?owner=acme&repo=payments-secrets',
    'github.com?owner=evil&repo=gitops',
    'github.example?owner=acme&repo=gitops',
  ])(
    'refuses a pull request to %s, which is not the repository',
    async repoUrl => {
      await expect(run({ repoUrl })).rejects.toThrow(
        `repoUrl "${repoUrl}" is not repository hub (github.com?owner=acme&repo=gitops)`,
      );
    },
  );

  it.each([
    '.github/workflows/x.yml',
    'billing/overlays/prod/kustomization.yaml',
    'payment/overlays/qa/kustomization.yaml',
  ])('refuses a workspace that also holds %s', async stray => {
    await expect(run({}, [...own, stray])).rejects.toThrow(
      `The workspace holds files outside payment's own paths`,
    );
  });

  it('refuses someone the permission policy does not allow to publish the service', async () => {
    const denied = mockServices.permissions.mock({
      authorizeConditional: async () => [{ result: AuthorizeResult.DENY }],
    });
    await expect(run({}, own, denied)).rejects.toThrow(
      'You may not publish the layout of component:default/payment owned by shop-team to repository hub',
    );
    expect(denied.authorizeConditional).toHaveBeenCalledWith(
      [{ permission: promotionsLayoutPublishPermission }],
      expect.anything(),
    );
  });
});

describe('promotions:register-entity', () => {
  function generated(owner?: string) {
    const workspacePath = fs.mkdtempSync(
      path.join(os.tmpdir(), 'scaffold-ws-'),
    );
    fs.mkdirSync(path.join(workspacePath, 'cart'));
    fs.writeFileSync(
      path.join(workspacePath, 'cart/catalog-info.yaml'),
      `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: cart\nspec: ${
        owner ? `{ owner: ${owner} }` : '{}'
      }\n`,
    );
    return workspacePath;
  }

  const servers: http.Server[] = [];
  afterEach(() => servers.splice(0).forEach(server => server.close()));

  /**
   * The promotions backend's scaffold endpoint, recording what it is sent and answering with the
   * scaffolds already recorded; the catalog holding `entities`.
   */
  async function promotionsBackend(
    options: {
      scaffolds?: Array<Record<string, unknown>>;
      entities?: Entity[];
      permissions?: PermissionsService;
    } = {},
  ) {
    const received: Array<{ authorization?: string; body: any }> = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', chunk => {
        body += chunk;
      });
      req.on('end', () => {
        if (req.method === 'GET') {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ items: options.scaffolds ?? [] }));
          return;
        }
        received.push({
          authorization: req.headers.authorization,
          body: JSON.parse(body),
        });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    servers.push(server);
    const action = createRegisterEntityAction({
      config: config(),
      discovery: mockServices.discovery.mock({
        getBaseUrl: async () => `http://127.0.0.1:${port}/api/promotions`,
      }),
      auth: mockServices.auth(),
      permissions: options.permissions ?? permissions,
      catalog: catalogServiceMock({ entities: options.entities ?? [] }),
    });
    return { received, action };
  }

  const cart = {
    repository: 'gitops',
    branch: 'scaffold/cart',
    path: 'cart/catalog-info.yaml',
  };

  it.each(['hub', 'gitops'])(
    'records the published layout of a %s repository with the promotions backend, as the scaffolder',
    async repository => {
      const { received, action } = await promotionsBackend();
      const ctx = createMockActionContext({
        workspacePath: generated(),
        input: {
          repository,
          branch: 'scaffold/cart',
          path: 'cart/catalog-info.yaml',
          pullRequestUrl: 'https://github.com/acme/gitops/pull/12',
        },
      });
      await action.handler(ctx as any);
      expect(received).toEqual([
        {
          authorization: expect.stringMatching(/^Bearer /),
          body: {
            entityRef: 'component:default/cart',
            repository,
            branch: 'scaffold/cart',
            path: 'cart/catalog-info.yaml',
            pullRequestUrl: 'https://github.com/acme/gitops/pull/12',
          },
        },
      ]);
      expect(ctx.output).toHaveBeenCalledWith(
        'entityRef',
        'component:default/cart',
      );
    },
  );

  it('records nothing for someone the permission policy does not allow to publish the service', async () => {
    const ownersOnly = ownersOnlyPermissions(['group:default/shop-team']);
    const { received, action } = await promotionsBackend({
      permissions: ownersOnly,
    });
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath: generated('billing'),
          input: cart,
        }) as any,
      ),
    ).rejects.toThrow(
      'You may not publish the layout of component:default/cart owned by billing to repository gitops',
    );
    expect(received).toEqual([]);
    await action.handler(
      createMockActionContext({
        workspacePath: generated('shop-team'),
        input: cart,
      }) as any,
    );
    expect(received).toHaveLength(1);
  });

  it("refuses a service the catalog already holds, such as another team's", async () => {
    const { received, action } = await promotionsBackend({
      entities: [
        {
          apiVersion: 'backstage.io/v1alpha1',
          kind: 'Component',
          metadata: {
            name: 'cart',
            namespace: 'default',
            annotations: {
              'backstage.io/managed-by-location':
                'url:https://github.com/acme/cart/blob/main/catalog-info.yaml',
            },
          },
          spec: { owner: 'billing' },
        },
      ],
    });
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath: generated(),
          input: cart,
        }) as any,
      ),
    ).rejects.toThrow(
      'component:default/cart is already in the catalog; a new service needs a name of its own',
    );
    expect(received).toEqual([]);
  });

  it('refuses a service another branch has published, and records again the one this branch did', async () => {
    const scaffold = {
      entityRef: 'component:default/cart',
      repository: 'gitops',
      branch: 'scaffold/cart-by-billing',
      path: 'cart/catalog-info.yaml',
      pullRequestUrl: null,
      state: 'pending',
      createdAt: '2025-01-01T00:00:00.000Z',
      mergedAt: null,
    };
    const other = await promotionsBackend({ scaffolds: [scaffold] });
    await expect(
      other.action.handler(
        createMockActionContext({
          workspacePath: generated(),
          input: cart,
        }) as any,
      ),
    ).rejects.toThrow(
      'component:default/cart was already published to gitops:scaffold/cart-by-billing:cart/catalog-info.yaml',
    );
    expect(other.received).toEqual([]);

    const same = await promotionsBackend({
      scaffolds: [{ ...scaffold, branch: 'scaffold/cart' }],
    });
    await same.action.handler(
      createMockActionContext({
        workspacePath: generated(),
        input: cart,
      }) as any,
    );
    expect(same.received).toHaveLength(1);
  });

  it.each([
    ['no kind', 'apiVersion: backstage.io/v1alpha1\nmetadata:\n  name: cart\n'],
    [
      'a "System"',
      'apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: cart\n',
    ],
  ])(
    'refuses a catalog file declaring %s with an InputError naming it',
    async (declared, text) => {
      const workspacePath = generated();
      fs.writeFileSync(
        path.join(workspacePath, 'cart/catalog-info.yaml'),
        text,
      );
      const { received, action } = await promotionsBackend();
      const error = await action
        .handler(createMockActionContext({ workspacePath, input: cart }) as any)
        .catch(e => e);
      expect(error.name).toBe('InputError');
      expect(error.message).toBe(
        `cart/catalog-info.yaml declares ${declared}, not a Component`,
      );
      expect(received).toEqual([]);
    },
  );

  it('refuses a catalog file that is a link out of the workspace', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
    fs.writeFileSync(
      path.join(outside, 'catalog-info.yaml'),
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: stolen\nspec: {}\n',
    );
    const workspacePath = fs.mkdtempSync(
      path.join(os.tmpdir(), 'scaffold-ws-'),
    );
    fs.mkdirSync(path.join(workspacePath, 'cart'));
    fs.symlinkSync(
      path.join(outside, 'catalog-info.yaml'),
      path.join(workspacePath, 'cart/catalog-info.yaml'),
    );
    const { received, action } = await promotionsBackend();
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath,
          input: {
            repository: 'gitops',
            branch: 'scaffold/cart',
            path: 'cart/catalog-info.yaml',
          },
        }) as any,
      ),
    ).rejects.toThrow(/outside|not allowed/i);
    expect(received).toEqual([]);
  });

  it('registers nothing on a dry run and refuses paths and branches outside the repository', async () => {
    const { received, action } = await promotionsBackend();
    const input = {
      repository: 'gitops',
      branch: 'scaffold/cart',
      path: 'cart/catalog-info.yaml',
    };
    await action.handler({
      ...createMockActionContext({ workspacePath: generated(), input }),
      isDryRun: true,
    } as any);
    expect(received).toEqual([]);
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath: generated(),
          input: { ...input, path: '../x.yaml' },
        }) as any,
      ),
    ).rejects.toThrow('path "../x.yaml" is outside the repository');
    await expect(
      action.handler(
        createMockActionContext({
          workspacePath: generated(),
          input: { ...input, branch: 'x\ny' },
        }) as any,
      ),
    ).rejects.toThrow('is not a valid branch name');
  });
});
