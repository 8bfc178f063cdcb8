import { execFileSync } from 'node:child_process';
import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import {
  githubRepositoryProvider,
  gitRepositoryProvider,
  RepositoryRegistry,
  resolveEnvironment,
} from '@gitops-promotions/plugin-promotions-node';
import { appendCommit, createGitFixture } from '@internal/promotions-fixtures';
import {
  component,
  startGithubSimulator,
  stopGithubSimulators,
} from '../__testUtils__';
import { PromotionsStore } from './PromotionsStore';
import { RepositoryRefresher } from './RepositoryRefresher';
import { secretProtection } from './secrets';

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
// The github provider's reads go through a local HTTP server running git.
jest.setTimeout(60_000);
afterEach(stopGithubSimulators);
const TOKEN = 'ghs_simulated';

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: dir, stdio: 'pipe' }).toString().trim();

/** A Kustomize directory deploying `app` at a tag. */
const deployFiles = (dir: string, tag: string) => ({
  [`${dir}/kustomization.yaml`]: [
    'resources:',
    '  - deployment.yaml',
    'images:',
    '  - name: ghcr.io/acme/inventory',
    `    newTag: "${tag}"`,
    '',
  ].join('\n'),
  [`${dir}/deployment.yaml`]: [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: inventory',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: app',
    '          image: ghcr.io/acme/inventory:0.0.0',
    '',
  ].join('\n'),
});

let day = 0;
/** A new commit date, one day after the last. */
const nextDate = () =>
  new Date(Date.UTC(2026, 5, 1, 9) + day++ * 86_400_000).toISOString();
/** Commits the deploy directory at `tag` on the branch checked out. */
function release(dir: string, tag: string, message = `Deploy ${tag}`) {
  return appendCommit(dir, {
    author: 'Ana Lima',
    date: nextDate(),
    message,
    files: deployFiles('inventory/deploy', tag),
  });
}

/** An Argo CD Application deploying inventory to one environment, as YAML. */
function inventoryApplication(options: {
  env: string;
  repoURL: string;
  path: string;
  revision?: string;
  /** More lines of the source, indented as its keys. */
  source?: string[];
}): string {
  return [
    'apiVersion: argoproj.io/v1alpha1',
    'kind: Application',
    'metadata:',
    `  name: inventory-${options.env}`,
    'spec:',
    '  source:',
    `    repoURL: ${options.repoURL}`,
    ...(options.revision ? [`    targetRevision: '${options.revision}'`] : []),
    `    path: ${options.path}`,
    ...(options.source ?? []).map(line => `    ${line}`),
    '  destination:',
    `    namespace: ${options.env}`,
  ].join('\n');
}

/** A manifest of several Applications. */
const manifestOf = (applications: string[]) =>
  `${applications.join('\n---\n')}\n`;

type Provider = 'git' | 'github';

async function refresherFor(options: {
  provider: Provider;
  repositories: Array<{ id: string; url: string; argocdRepoURL?: string }>;
  entities: Entity[];
  tagLimit?: number;
}) {
  const integrations: Array<Record<string, string>> = [];
  const configured = [];
  for (const { id, url: dir, argocdRepoURL } of options.repositories) {
    // Read as a remote is: cloned, and fetched from at each refresh.
    let url = `file://${dir}`;
    if (options.provider === 'github') {
      // One simulated GitHub per repository, each on a host of its own.
      const simulator = await startGithubSimulator({
        repoDir: dir,
        owner: 'acme',
        repo: id,
        token: TOKEN,
      });
      const host = `${id}.github.example.com`;
      integrations.push({
        host,
        apiBaseUrl: simulator.apiBaseUrl,
        token: TOKEN,
      });
      url = `https://${host}/acme/${id}`;
    }
    configured.push({
      id,
      url,
      provider: options.provider,
      ...(argocdRepoURL ? { argocdRepoURL } : {}),
      paths: ['{entity.metadata.name}/**'],
    });
  }
  const rootConfig = new ConfigReader({
    integrations: { github: integrations },
    promotions: { repositories: configured },
  });
  const repositories = new RepositoryRegistry({
    rootConfig,
    logger: mockServices.logger.mock(),
    started: Promise.resolve(),
    providers: [gitRepositoryProvider, githubRepositoryProvider],
  });
  const knex = await databases.init('SQLITE_3');
  const store = await PromotionsStore.create(
    mockServices.database({ knex, migrations: { skip: false } }),
  );
  const refresher = new RepositoryRefresher({
    config: repositories.config,
    repositories,
    resolver: { resolve: resolveEnvironment },
    store,
    secrets: secretProtection(Buffer.from('test key')),
    catalog: catalogServiceMock({ entities: options.entities }),
    auth: mockServices.auth(),
    logger: mockServices.logger.mock(),
    tagLimit: options.tagLimit,
  });
  const body = async (name: string): Promise<EntityPromotions> => {
    const stored = await store.get(`component:default/${name}`);
    if (!stored?.body) {
      throw new Error(
        `no state for ${name}: ${JSON.stringify(stored?.error ?? null)}`,
      );
    }
    return JSON.parse(stored.body);
  };
  return { refresher, body, store };
}

const summary = (promotions: EntityPromotions) =>
  promotions.environments.map(env => ({
    name: env.name,
    version: env.desired.version,
    source: env.desired.source
      ? `${env.desired.source.kind} ${env.desired.source.ref} of ${env.desired.source.repositoryId}`
      : null,
    drift: env.drift.map(d => d.kind),
    error: env.error,
  }));

describe.each<Provider>(['git', 'github'])(
  'environments read from branches, tags and repositories, through the %s provider',
  provider => {
    it('reads each environment from its own branch, and follows pushes to one', async () => {
      const dir = createGitFixture([]);
      release(dir, '1.0.0');
      git(dir, 'branch', 'env/prod');
      release(dir, '1.1.0');
      git(dir, 'branch', 'env/staging');
      release(dir, '1.2.0');
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [{ id: 'gitops', url: dir }],
        entities: [
          component('inventory', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/path': 'inventory/deploy',
            'gitops-promotions/ref': 'env/{env}',
          }),
        ],
      });
      // dev has no branch env/dev: that environment says so, the others are read.
      expect(await refresher.refresh('gitops')).toMatchObject({
        entities: 1,
        failed: 0,
      });
      const first = summary(await body('inventory'));
      expect(first[0]).toMatchObject({ name: 'dev', version: null });
      expect(first[0].error).toContain('env/dev');
      expect(first.slice(1)).toEqual([
        {
          name: 'staging',
          version: '1.1.0',
          source: 'branch env/staging of gitops',
          drift: [],
          error: undefined,
        },
        {
          name: 'prod',
          version: '1.0.0',
          source: 'branch env/prod of gitops',
          drift: ['behind'],
          error: undefined,
        },
      ]);

      git(dir, 'branch', 'env/dev', 'main');
      git(dir, 'checkout', '-q', 'env/prod');
      const promoted = release(dir, '1.1.0', 'Promote 1.1.0 to prod');
      git(dir, 'checkout', '-q', 'main');
      await refresher.refresh('gitops');
      const promotions = await body('inventory');
      expect(summary(promotions)).toEqual([
        {
          name: 'dev',
          version: '1.2.0',
          source: 'branch env/dev of gitops',
          drift: [],
          error: undefined,
        },
        {
          name: 'staging',
          version: '1.1.0',
          source: 'branch env/staging of gitops',
          drift: ['behind'],
          error: undefined,
        },
        {
          name: 'prod',
          version: '1.1.0',
          source: 'branch env/prod of gitops',
          drift: [],
          error: undefined,
        },
      ]);
      // The last change is the branch's own.
      expect(promotions.environments[2].desired.lastChange).toMatchObject({
        commit: promoted,
        message: 'Promote 1.1.0 to prod',
      });
      expect(promotions.environments[2].desired.source!.revision).toBe(
        promoted,
      );
      // The portal writes the branch an environment is read from.
      expect(promotions.environments[2].notPromotable).toBeUndefined();
    });

    it('reads each environment from the tag with the highest version matching its pattern', async () => {
      const dir = createGitFixture([]);
      release(dir, '1.0.0');
      git(dir, 'tag', 'v1.0.0-prod');
      git(dir, 'tag', 'v1.0.0-staging');
      release(dir, '1.9.0');
      git(dir, 'tag', '-a', '-m', 'staging', 'v1.9.0-staging');
      release(dir, '1.10.0');
      git(dir, 'tag', 'v1.10.0-staging');
      git(dir, 'tag', 'v1.10.0-dev');
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [{ id: 'gitops', url: dir }],
        entities: [
          component('inventory', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/path': 'inventory/deploy',
            'gitops-promotions/tag': 'v*-{env}',
          }),
        ],
      });
      await refresher.refresh('gitops');
      expect(summary(await body('inventory'))).toEqual([
        {
          name: 'dev',
          version: '1.10.0',
          source: 'tag v1.10.0-dev of gitops',
          drift: [],
          error: undefined,
        },
        {
          name: 'staging',
          version: '1.10.0',
          source: 'tag v1.10.0-staging of gitops',
          drift: [],
          error: undefined,
        },
        {
          name: 'prod',
          version: '1.0.0',
          source: 'tag v1.0.0-prod of gitops',
          drift: ['behind'],
          error: undefined,
        },
      ]);

      // Tagging the staging commit for prod promotes it.
      git(dir, 'tag', 'v1.10.0-prod', 'v1.10.0-staging');
      await refresher.refresh('gitops');
      const after = await body('inventory');
      expect(after.environments[2]).toMatchObject({
        desired: {
          version: '1.10.0',
          source: { kind: 'tag', ref: 'v1.10.0-prod', pattern: 'v*-prod' },
        },
        drift: [],
        notPromotable:
          'prod is read from tags matching v*-prod: a new tag promotes it, and the portal does not make or move tags',
      });
    });

    it('reads each environment from its own repository, refreshed with the first one', async () => {
      const dirs = ['dev', 'staging', 'prod'].map((env, i) => {
        const dir = createGitFixture([]);
        release(dir, `2.${2 - i}.0`, `Deploy to ${env}`);
        return dir;
      });
      const entity = component('inventory', {
        'gitops-promotions/repository': 'environment-{env}',
        'gitops-promotions/path': 'inventory/deploy',
      });
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [
          { id: 'environment-dev', url: dirs[0] },
          { id: 'environment-staging', url: dirs[1] },
          { id: 'environment-prod', url: dirs[2] },
        ],
        entities: [entity],
      });
      // Only the first environment's repository refreshes it.
      // A push there asks for the first one's refresh.
      expect(await refresher.refresh('environment-staging')).toMatchObject({
        entities: 0,
        dependents: ['environment-dev'],
      });
      expect(await refresher.refresh('environment-dev')).toMatchObject({
        entities: 1,
        environments: 3,
        failed: 0,
        dependents: [],
      });
      expect(summary(await body('inventory'))).toEqual([
        {
          name: 'dev',
          version: '2.2.0',
          source: null,
          drift: [],
          error: undefined,
        },
        {
          name: 'staging',
          version: '2.1.0',
          source: 'branch main of environment-staging',
          drift: ['behind'],
          error: undefined,
        },
        {
          name: 'prod',
          version: '2.0.0',
          source: 'branch main of environment-prod',
          drift: ['behind'],
          error: undefined,
        },
      ]);
      release(dirs[2], '2.1.0', 'Promote 2.1.0 to prod');
      expect(await refresher.refresh('environment-dev')).toMatchObject({
        resolved: 1,
        recomputed: 1,
      });
      expect((await body('inventory')).environments[2]).toMatchObject({
        desired: { version: '2.1.0' },
        drift: [],
      });
    });

    it('reads environments, paths, revisions and Helm value layering from an Argo CD ApplicationSet alone', async () => {
      const dir = createGitFixture([]);
      const repoURL = 'https://github.com/acme/gitops.git';
      const manifest = (prodVersion: string) =>
        [
          'apiVersion: argoproj.io/v1alpha1',
          'kind: ApplicationSet',
          'metadata:',
          '  name: billing',
          'spec:',
          '  goTemplate: true',
          '  goTemplateOptions: ["missingkey=error"]',
          '  generators:',
          '    - list:',
          '        elements:',
          '          - env: dev',
          '            version: ""',
          '          - env: staging',
          '            version: ""',
          '          - env: prod',
          `            version: "${prodVersion}"`,
          '  template:',
          '    metadata:',
          "      name: 'billing-{{.env}}'",
          '    spec:',
          '      project: default',
          '      source:',
          `        repoURL: ${repoURL}`,
          '        targetRevision: HEAD',
          '        path: billing/chart',
          '        helm:',
          '          valueFiles:',
          '            - ../common-values.yaml',
          "            - '../envs/{{.env}}/values.yaml'",
          '          valuesObject:',
          '            replicaCount: 2',
          '      destination:',
          '        server: https://kubernetes.default.svc',
          "        namespace: 'billing-{{.env}}'",
          '  templatePatch: |',
          '    {{- if ne .version "" }}',
          '    spec:',
          '      source:',
          '        helm:',
          '          parameters:',
          '            - name: image.tag',
          '              value: "{{ .version }}"',
          '    {{- end }}',
          '',
        ].join('\n');
      appendCommit(dir, {
        author: 'Ana Lima',
        date: '2026-11-01T09:00:00Z',
        message: 'Lay out billing',
        files: {
          'billing/chart/Chart.yaml':
            'apiVersion: v2\nname: billing\nversion: 0.1.0\nappVersion: "3.0.0"\n',
          'billing/chart/values.yaml':
            'image:\n  repository: ghcr.io/acme/billing-old\n  tag: ""\n',
          'billing/chart/templates/deployment.yaml': 'kind: Deployment\n',
          'billing/common-values.yaml':
            'image:\n  repository: ghcr.io/acme/billing\n',
          'billing/envs/dev/values.yaml': 'image:\n  tag: "3.2.0"\n',
          'billing/envs/staging/values.yaml': 'image:\n  tag: ""\n',
          'billing/envs/prod/values.yaml': 'image:\n  tag: "9.9.9"\n',
          'billing/argocd/applicationset.yaml': manifest('3.1.0'),
        },
      });
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [{ id: 'gitops', url: dir, argocdRepoURL: repoURL }],
        entities: [
          component('billing', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/argocd-manifest':
              'billing/argocd/applicationset.yaml',
          }),
        ],
      });
      expect(await refresher.refresh('gitops')).toMatchObject({ failed: 0 });
      const first = await body('billing');
      expect(
        first.environments.map(env => ({
          name: env.name,
          version: env.desired.version,
          derived: env.desired.versionSource ?? null,
          images: env.desired.images.map(i => i.name),
          path: env.desired.path,
          error: env.error,
        })),
      ).toEqual([
        // The environment's value file sets the tag.
        {
          name: 'dev',
          version: '3.2.0',
          derived: null,
          images: ['ghcr.io/acme/billing'],
          path: 'billing/chart',
          error: undefined,
        },
        // An empty tag: the chart's appVersion, marked as such.
        {
          name: 'staging',
          version: '3.0.0',
          derived: 'appVersion',
          images: ['ghcr.io/acme/billing'],
          path: 'billing/chart',
          error: undefined,
        },
        // The list element's version, as a parameter, wins over every value file.
        {
          name: 'prod',
          version: '3.1.0',
          derived: null,
          images: ['ghcr.io/acme/billing'],
          path: 'billing/chart',
          error: undefined,
        },
      ]);
      expect(first.environments[2].drift.map(d => d.kind)).toEqual(['ahead']);

      // Rolling prod back to staging's version is a change to the manifest: it is read again.
      const promoted = appendCommit(dir, {
        author: 'Rita Gomez',
        date: '2026-11-02T09:00:00Z',
        message: 'Roll billing back to 3.0.0 in prod',
        files: { 'billing/argocd/applicationset.yaml': manifest('3.0.0') },
      });
      expect(await refresher.refresh('gitops')).toMatchObject({
        resolved: 1,
        recomputed: 1,
      });
      const second = await body('billing');
      expect(second.environments[2].desired).toMatchObject({
        version: '3.0.0',
        lastChange: { commit: promoted },
      });
      expect(second.environments[2].drift).toEqual([]);
      // The portal changes what the manifest gives, on the branch it is read from.
      expect(second.environments[2].notPromotable).toBeUndefined();
      // The timeline read the manifest as it was: prod went from 3.1.0 to 3.0.0.
      expect(second.environments[1].desired.lastChange?.commit).not.toBe(
        promoted,
      );
    });

    it('says which environments a manifest does not give, and keeps the others', async () => {
      const dir = createGitFixture([]);
      const repoURL = 'https://github.com/acme/gitops.git';
      appendCommit(dir, {
        author: 'Ana Lima',
        date: '2026-11-01T09:00:00Z',
        message: 'Lay out inventory',
        files: {
          ...deployFiles('inventory/dev', '1.0.0'),
          'inventory/argocd.yaml': manifestOf([
            inventoryApplication({
              env: 'dev',
              repoURL,
              path: 'inventory/dev',
            }),
            inventoryApplication({
              env: 'staging',
              repoURL: 'https://github.com/someone-else/gitops.git',
              path: 'inventory/staging',
            }),
            inventoryApplication({ env: 'prod', repoURL, path: '../../etc' }),
          ]),
        },
      });
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [{ id: 'gitops', url: dir, argocdRepoURL: repoURL }],
        entities: [
          component('inventory', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/argocd-manifest': 'inventory/argocd.yaml',
          }),
        ],
      });
      expect(await refresher.refresh('gitops')).toMatchObject({ failed: 0 });
      const [dev, staging, prod] = (await body('inventory')).environments;
      expect(dev.desired.version).toBe('1.0.0');
      expect(staging.error).toContain('someone-else');
      expect(prod.error).toMatch(/inventory-prod/);
      expect(prod.desired.version).toBeNull();
    });

    it('reads the branch, tag or commit an Application targets, and says which it cannot find', async () => {
      const dir = createGitFixture([]);
      const repoURL = 'https://github.com/acme/gitops.git';
      const application = (env: string, revision: string) =>
        inventoryApplication({
          env,
          repoURL,
          revision,
          path: 'inventory/deploy',
        });
      const pinned = release(dir, '1.0.0');
      git(dir, 'tag', '-a', '-m', 'build 5', 'v1.1.0+build.5', pinned);
      release(dir, '1.1.0');
      git(dir, 'tag', 'v1.1.0+build.6');
      git(dir, 'branch', 'staging');
      release(dir, '1.2.0');
      const manifest = (prod: string) =>
        appendCommit(dir, {
          author: 'Ana Lima',
          date: nextDate(),
          message: 'Deploy inventory from revisions',
          files: {
            'inventory/argocd.yaml': manifestOf([
              application('dev', 'HEAD'),
              application('staging', 'staging'),
              application('prod', prod),
            ]),
          },
        });
      manifest('refs/tags/v1.1.0+build.6');
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [{ id: 'gitops', url: dir, argocdRepoURL: repoURL }],
        entities: [
          component('inventory', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/argocd-manifest': 'inventory/argocd.yaml',
          }),
        ],
      });
      expect(await refresher.refresh('gitops')).toMatchObject({ failed: 0 });
      expect(summary(await body('inventory'))).toEqual([
        {
          name: 'dev',
          version: '1.2.0',
          source: null,
          drift: [],
          error: undefined,
        },
        {
          name: 'staging',
          version: '1.1.0',
          source: 'branch staging of gitops',
          drift: ['behind'],
          error: undefined,
        },
        {
          name: 'prod',
          version: '1.1.0',
          source: 'tag v1.1.0+build.6 of gitops',
          drift: [],
          error: undefined,
        },
      ]);

      // A commit, then a revision that is nowhere: only prod says so.
      manifest(pinned);
      await refresher.refresh('gitops');
      expect((await body('inventory')).environments[2].desired).toMatchObject({
        version: '1.0.0',
        source: { kind: 'commit', ref: pinned },
      });
      manifest('release-9');
      expect(await refresher.refresh('gitops')).toMatchObject({ failed: 0 });
      const [dev, , prod] = (await body('inventory')).environments;
      expect(dev.desired.version).toBe('1.2.0');
      expect(prod.error).toBe(
        'Repository gitops has no branch, tag or commit named release-9',
      );
    });

    it('lists and reads, for a manifest’s git generators, only the files the entity may read', async () => {
      const dir = createGitFixture([]);
      const repoURL = 'https://github.com/acme/gitops.git';
      appendCommit(dir, {
        author: 'Ana Lima',
        date: '2026-11-01T09:00:00Z',
        message: 'Lay out billing and payments',
        files: {
          ...deployFiles('billing/deploy', '1.0.0'),
          'billing/config.yaml': 'tag: "1.0.0"\n',
          'payments/secret-config.yaml': 'tag: hunter2\n',
          'billing/appset.yaml': [
            'apiVersion: argoproj.io/v1alpha1',
            'kind: ApplicationSet',
            'metadata:',
            '  name: billing',
            'spec:',
            '  goTemplate: true',
            '  generators:',
            '    - matrix:',
            '        generators:',
            '          - list:',
            '              elements:',
            '                - env: dev',
            '                - env: staging',
            '                - env: prod',
            '          - git:',
            `              repoURL: ${repoURL}`,
            '              revision: HEAD',
            '              files:',
            "                - path: '*/*config.yaml'",
            '  template:',
            '    metadata:',
            "      name: 'billing-{{.env}}-{{.path.basename}}'",
            '    spec:',
            '      source:',
            `        repoURL: ${repoURL}`,
            '        path: billing/deploy',
            '        kustomize:',
            "          images: ['ghcr.io/acme/inventory:{{.tag}}']",
            '      destination:',
            "        namespace: '{{.env}}'",
            '',
          ].join('\n'),
        },
      });
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [{ id: 'gitops', url: dir, argocdRepoURL: repoURL }],
        entities: [
          component('billing', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/argocd-manifest': 'billing/appset.yaml',
          }),
        ],
      });
      await refresher.refresh('gitops');
      const state = await body('billing');
      // Only billing/config.yaml is generated from: payments' file is not there to list.
      expect(state.environments.map(env => env.desired.version)).toEqual([
        '1.0.0',
        '1.0.0',
        '1.0.0',
      ]);
      expect(JSON.stringify(state)).not.toContain('hunter2');
    });

    it('notes that a tag pattern was matched against only part of the tags', async () => {
      const dir = createGitFixture([]);
      release(dir, '1.0.0');
      for (const tag of ['v1.0.0-dev', 'v1.0.0-staging', 'v1.0.0-prod', 'x']) {
        git(dir, 'tag', tag);
      }
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [{ id: 'gitops', url: dir }],
        entities: [
          component('inventory', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/path': 'inventory/deploy',
            'gitops-promotions/tag': 'v*-{env}',
          }),
        ],
        tagLimit: 4,
      });
      await refresher.refresh('gitops');
      const [dev] = (await body('inventory')).environments;
      expect(dev.desired.version).toBe('1.0.0');
      expect(dev.notes).toEqual([
        'Only 4 of the tags of repository gitops were compared, so a newer one matching v*-dev may be missed',
      ]);
    });

    it('refreshes an entity when a repository one of its manifest’s Applications reads changes', async () => {
      const home = createGitFixture([]);
      const prodDir = createGitFixture([]);
      release(prodDir, '0.9.0');
      appendCommit(home, {
        author: 'Ana Lima',
        date: '2026-11-01T09:00:00Z',
        message: 'Deploy inventory',
        files: {
          ...deployFiles('inventory/deploy', '1.0.0'),
          'inventory/argocd.yaml': manifestOf(
            ['dev', 'staging', 'prod'].map(env =>
              inventoryApplication({
                env,
                repoURL: `https://git.example/${
                  env === 'prod' ? 'prod' : 'gitops'
                }.git`,
                path: 'inventory/deploy',
              }),
            ),
          ),
        },
      });
      const { refresher, body } = await refresherFor({
        provider,
        repositories: [
          {
            id: 'gitops',
            url: home,
            argocdRepoURL: 'https://git.example/gitops.git',
          },
          {
            id: 'environment-prod',
            url: prodDir,
            argocdRepoURL: 'https://git.example/prod.git',
          },
        ],
        entities: [
          component('inventory', {
            'gitops-promotions/repository': 'gitops',
            'gitops-promotions/argocd-manifest': 'inventory/argocd.yaml',
          }),
        ],
      });
      await refresher.refresh('gitops');
      expect((await body('inventory')).environments[2]).toMatchObject({
        desired: {
          version: '0.9.0',
          source: { repositoryId: 'environment-prod', kind: 'branch' },
        },
      });
      expect(await refresher.refresh('environment-prod')).toMatchObject({
        entities: 0,
        dependents: ['gitops'],
      });

      // The manifest pins prod's image: prod's last change is that commit, not its repository's.
      const pinned = appendCommit(home, {
        author: 'Rita Gomez',
        date: nextDate(),
        message: 'Pin inventory 0.9.1 in prod',
        files: {
          'inventory/argocd.yaml': manifestOf([
            inventoryApplication({
              env: 'prod',
              repoURL: 'https://git.example/prod.git',
              path: 'inventory/deploy',
              source: [
                'kustomize:',
                '  images: [ghcr.io/acme/inventory:0.9.1]',
              ],
            }),
          ]),
        },
      });
      await refresher.refresh('gitops');
      expect((await body('inventory')).environments[2].desired).toMatchObject({
        version: '0.9.1',
        lastChange: { commit: pinned },
      });
    });

    it('refuses annotations that cannot name a branch, tag or repository', async () => {
      const dir = createGitFixture([]);
      release(dir, '1.0.0');
      const bad = {
        'no-env-ref': {
          'gitops-promotions/ref': 'staging',
          'gitops-promotions/path': 'no-env-ref/deploy',
        },
        'hostile-ref': {
          'gitops-promotions/ref': '../{env}',
          'gitops-promotions/path': 'hostile-ref/deploy',
        },
        'ref-and-tag': {
          'gitops-promotions/ref': '{env}',
          'gitops-promotions/tag': 'v*-{env}',
          'gitops-promotions/path': 'ref-and-tag/deploy',
        },
        'hostile-tag': {
          'gitops-promotions/tag': '-{env} --upload-pack=x',
          'gitops-promotions/path': 'hostile-tag/deploy',
        },
        'shared-path': {
          'gitops-promotions/path': 'shared-path/deploy',
        },
      };
      const { refresher, store } = await refresherFor({
        provider,
        repositories: [{ id: 'gitops', url: dir }],
        entities: Object.entries(bad).map(([name, annotations]) =>
          component(name, {
            'gitops-promotions/repository': 'gitops',
            ...annotations,
          }),
        ),
      });
      expect(await refresher.refresh('gitops')).toMatchObject({
        entities: 5,
        failed: 5,
      });
      const errors = await Promise.all(
        Object.keys(bad).map(
          async name =>
            (
              await store.get(`component:default/${name}`)
            )?.error?.message,
        ),
      );
      expect(errors).toEqual([
        expect.stringContaining('gitops-promotions/ref "staging" has no {env}'),
        expect.stringContaining('does not give branch names'),
        expect.stringContaining('both set'),
        expect.stringContaining('does not give tag names'),
        expect.stringContaining('has no {env} placeholder'),
      ]);
    });
  },
);
