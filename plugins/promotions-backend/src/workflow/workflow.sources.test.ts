import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestDatabases } from '@backstage/backend-test-utils';
import { appendCommit, createGitFixture } from '@internal/promotions-fixtures';
import {
  git,
  shopEntity,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../__testUtils__';

jest.setTimeout(90_000);
afterEach(stopGithubSimulators);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const BOT = 'bot-token-0123456789';

/** A Kustomize directory deploying shop at a tag, with a comment that must survive. */
const deployFiles = (dir: string, tag: string) => ({
  [`${dir}/kustomization.yaml`]: [
    '# shop, one environment',
    'resources:',
    '  - deployment.yaml',
    'images:',
    '  - name: ghcr.io/acme/shop # the service',
    `    newTag: "${tag}"`,
    '',
  ].join('\n'),
  [`${dir}/deployment.yaml`]: [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: shop',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '        - name: app',
    '          image: ghcr.io/acme/shop:0.0.0',
    '',
  ].join('\n'),
});

const VERSIONS: Array<[string, string]> = [
  ['dev', '1.2.0'],
  ['staging', '1.1.0'],
  ['prod', '1.0.0'],
];

let day = 0;
const commit = (message: string, files: Record<string, string>) => ({
  author: 'Ana Lima',
  date: new Date(Date.UTC(2026, 5, 1, 9) + day++ * 86_400_000).toISOString(),
  message,
  files,
});

function bare(work: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-bare-'));
  execFileSync('git', ['clone', '-q', '--bare', work, dir]);
  return dir;
}

/** One repository, one branch per environment (`env/dev`, …), each with `shop/deploy`. */
function branchPerEnvironment(): string {
  const work = createGitFixture([
    commit('Start', { 'README.md': '# GitOps\n' }),
  ]);
  for (const [env, version] of VERSIONS) {
    git(work, 'checkout', '-q', '-b', `env/${env}`, 'main');
    appendCommit(
      work,
      commit(`Deploy ${version}`, deployFiles('shop/deploy', version)),
    );
    // An older version before it, for a rollback.
    if (env === 'staging') {
      appendCommit(
        work,
        commit('Deploy 1.0.5', deployFiles('shop/deploy', '1.0.5')),
      );
      appendCommit(
        work,
        commit(`Deploy ${version}`, deployFiles('shop/deploy', version)),
      );
    }
  }
  git(work, 'checkout', '-q', 'main');
  return bare(work);
}

/** One repository per environment, each with `shop/deploy` on main. */
function repositoryPerEnvironment(): Record<string, string> {
  return Object.fromEntries(
    VERSIONS.map(([env, version]) => [
      env,
      bare(
        createGitFixture([
          commit('Deploy 1.0.5', deployFiles('shop/deploy', '1.0.5')),
          commit(`Deploy ${version}`, deployFiles('shop/deploy', version)),
        ]),
      ),
    ]),
  );
}

/** One repository, each environment's version at a tag `v<version>-<env>`. */
function tagPerEnvironment(): string {
  const work = createGitFixture([
    commit('Start', { 'README.md': '# GitOps\n' }),
  ]);
  for (const [env, version] of VERSIONS) {
    appendCommit(
      work,
      commit(`Release ${version}`, deployFiles('shop/deploy', version)),
    );
    git(work, 'tag', `v${version}-${env}`);
  }
  return bare(work);
}

/** A Helm chart and an ApplicationSet whose list elements give each environment's version. */
function manifestRepository(): string {
  return bare(
    createGitFixture([
      commit('Lay out shop', {
        'shop/chart/Chart.yaml':
          'apiVersion: v2\nname: shop\nversion: 0.1.0\nappVersion: "0.0.1"\n',
        'shop/chart/values.yaml':
          'image:\n  repository: ghcr.io/acme/shop\n  tag: ""\n',
        'shop/chart/templates/deployment.yaml': 'kind: Deployment\n',
        'shop/argocd/applicationset.yaml': [
          'apiVersion: argoproj.io/v1alpha1',
          'kind: ApplicationSet',
          'metadata:',
          '  name: shop',
          'spec:',
          '  goTemplate: true',
          '  generators:',
          '    - list:',
          '        elements:',
          '          # CI writes dev; the portal promotes the others',
          '          - env: dev',
          '            version: "1.2.0"',
          '          - env: staging',
          '            version: "1.1.0"',
          '          - env: prod',
          "            version: '1.0.0'",
          '  template:',
          '    metadata:',
          "      name: 'shop-{{.env}}'",
          '    spec:',
          '      project: default',
          '      source:',
          '        repoURL: https://git.example.com/acme/gitops.git',
          '        targetRevision: main',
          '        path: shop/chart',
          '        helm:',
          '          parameters:',
          '            - name: image.tag',
          "              value: '{{.version}}'",
          '      destination:',
          '        server: https://kubernetes.default.svc',
          "        namespace: 'shop-{{.env}}'",
          '',
        ].join('\n'),
      }),
    ]),
  );
}

const PATHS = ['{entity.metadata.name}/**'];
const SHOP_DEPLOY = 'shop/deploy/kustomization.yaml';
/** Refreshes until staging shows a version: a refresh the merge asked for may be running. */
async function stagingVersionBecomes(
  backend: Awaited<ReturnType<typeof startWorkflowBackend>>,
  version: string,
  /** The repository to refresh, or `null` to wait for the refreshes the merge asked for. */
  repositoryId?: string | null,
) {
  let seen;
  for (let i = 0; i < 40; i++) {
    if (repositoryId !== null) await backend.refresh(repositoryId ?? undefined);
    const res = await backend.as('ana').get(backend.entityPath);
    seen = res.body.environments.find((e: any) => e.name === 'staging').desired
      ?.version;
    if (seen === version) return;
    await new Promise(r => setTimeout(r, 100));
  }
  expect(seen).toBe(version);
}

const changedLines = (diff: string) =>
  diff.split('\n').filter(l => /^[-+][^-+]/.test(l));

describe('promoting environments read from their own branch, repository or tag', () => {
  it('promotes an environment read from its own branch: a branch off it, merged into it, nothing else touched', async () => {
    const dir = branchPerEnvironment();
    const heads = () =>
      Object.fromEntries(
        ['main', 'env/dev', 'env/prod'].map(b => [b, git(dir, 'rev-parse', b)]),
      );
    const before = heads();
    const backend = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [{ id: 'gitops', provider: 'git', url: dir, paths: PATHS }],
      entities: [
        shopEntity({
          'gitops-promotions/path': 'shop/deploy',
          'gitops-promotions/ref': 'env/{env}',
        }),
      ],
    });
    const { as, entityPath } = backend;
    const state = await backend.ready();
    const staging = state.environments.find((e: any) => e.name === 'staging');
    expect(staging.notPromotable).toBeUndefined();
    expect(staging.desired.version).toBe('1.1.0');

    const preview = await as('ana').post(`${entityPath}/promotions/preview`, {
      to: 'staging',
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({
      version: '1.2.0',
      previousVersion: '1.1.0',
      from: ['dev'],
      baseCommit: git(dir, 'rev-parse', 'env/staging'),
    });
    expect(changedLines(preview.body.fileDiff)).toEqual([
      '-    newTag: "1.1.0"',
      '+    newTag: "1.2.0"',
    ]);
    // The commits dev's inputs saw since staging's version, in dev's branch.
    expect(preview.body.commits.map((c: any) => c.message)).toEqual([
      'Deploy 1.2.0',
    ]);

    const created = await as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    const promotion = created.body;
    expect(git(dir, 'rev-parse', `${promotion.headCommit}^`)).toBe(
      preview.body.baseCommit,
    );
    await as('rita').act(promotion.id, 'approve');
    const merged = await as('ben').act(promotion.id, 'merge');
    expect(merged.status).toBe(200);
    expect(merged.body.state).toBe('merged');

    const kustomization = git(dir, 'show', `env/staging:${SHOP_DEPLOY}`);
    expect(kustomization).toContain('newTag: "1.2.0"');
    expect(kustomization).toContain('- name: ghcr.io/acme/shop # the service');
    expect(heads()).toEqual(before);

    await stagingVersionBecomes(backend, '1.2.0');

    // A rollback finds the version in the environment's own branch.
    const versions = await as('ana').get(
      `${entityPath}/environments/staging/versions`,
    );
    expect(versions.body.versions.map((v: any) => v.version)).toContain(
      '1.1.0',
    );
    const rollback = await as('ana').promote({
      to: 'staging',
      kind: 'rollback',
      version: '1.0.5',
    });
    expect(rollback.status).toBe(201);
    expect(
      git(dir, 'show', `${rollback.body.branch}:${SHOP_DEPLOY}`),
    ).toContain('newTag: "1.0.5"');
  });

  it('promotes an environment read from its own repository, and writes nowhere else', async () => {
    const dirs = repositoryPerEnvironment();
    const heads = (env: string) => git(dirs[env], 'for-each-ref');
    const devRefs = heads('dev');
    const prodRefs = heads('prod');
    const backend = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: VERSIONS.map(([env]) => ({
        id: `environment-${env}`,
        provider: 'git',
        url: dirs[env],
        paths: PATHS,
      })),
      entities: [
        shopEntity({
          'gitops-promotions/repository': 'environment-{env}',
          'gitops-promotions/path': 'shop/deploy',
        }),
      ],
    });
    const { as } = backend;
    await backend.ready();
    const created = await as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ version: '1.2.0', from: ['dev'] });
    expect(git(dirs.staging, 'rev-parse', created.body.branch)).toBe(
      created.body.headCommit,
    );
    await as('rita').act(created.body.id, 'approve');
    const merged = await as('ben').act(created.body.id, 'merge');
    expect(merged.body.state).toBe('merged');
    expect(git(dirs.staging, 'show', `main:${SHOP_DEPLOY}`)).toContain(
      'newTag: "1.2.0"',
    );
    expect(heads('dev')).toBe(devRefs);
    expect(heads('prod')).toBe(prodRefs);
    // The merge asks for the refresh of the entity's own repository, which reads staging's.
    await stagingVersionBecomes(backend, '1.2.0', null);

    // Rolled back in its own repository's history.
    const rollback = await as('ana').promote({
      to: 'staging',
      kind: 'rollback',
      version: '1.0.5',
    });
    expect(rollback.status).toBe(201);
    expect(
      git(dirs.staging, 'show', `${rollback.body.branch}:${SHOP_DEPLOY}`),
    ).toContain('newTag: "1.0.5"');
  });

  it('promotes an environment whose version an ApplicationSet element sets, by changing that element', async () => {
    const dir = manifestRepository();
    const MANIFEST = 'shop/argocd/applicationset.yaml';
    const entity = shopEntity({
      'gitops-promotions/argocd-manifest': MANIFEST,
    });
    delete entity.metadata.annotations!['gitops-promotions/path'];
    const backend = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [
        {
          id: 'gitops',
          provider: 'git',
          url: dir,
          argocdRepoURL: 'https://git.example.com/acme/gitops.git',
          paths: PATHS,
        },
      ],
      entities: [entity],
    });
    const { as, entityPath } = backend;
    const state = await backend.ready();
    expect(state.environments.map((e: any) => e.desired.version)).toEqual([
      '1.2.0',
      '1.1.0',
      '1.0.0',
    ]);
    expect(state.environments[1].notPromotable).toBeUndefined();

    const preview = await as('ana').post(`${entityPath}/promotions/preview`, {
      to: 'staging',
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ version: '1.2.0', from: ['dev'] });
    expect(preview.body.fileDiff).toContain(`a/${MANIFEST}`);
    expect(changedLines(preview.body.fileDiff)).toEqual([
      '-            version: "1.1.0"',
      '+            version: "1.2.0"',
    ]);
    // The rendered values change by the tag alone.
    expect(changedLines(preview.body.renderedDiff)).toEqual([
      '-  tag: 1.1.0',
      '+  tag: 1.2.0',
    ]);

    const created = await as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    await as('rita').act(created.body.id, 'approve');
    const merged = await as('ben').act(created.body.id, 'merge');
    expect(merged.body.state).toBe('merged');
    const manifest = git(dir, 'show', `main:${MANIFEST}`);
    expect(manifest).toContain(
      '          - env: staging\n            version: "1.2.0"',
    );
    expect(manifest).toContain("            version: '1.0.0'");
    expect(manifest).toContain(
      '# CI writes dev; the portal promotes the others',
    );
    await stagingVersionBecomes(backend, '1.2.0');
  });

  it('promotes an environment an Application reads from a branch on that branch, the manifest untouched', async () => {
    const dir = branchPerEnvironment();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-work-'));
    execFileSync('git', ['clone', '-q', dir, work]);
    const MANIFEST = 'shop/argocd.yaml';
    appendCommit(
      work,
      commit('Add the Applications', {
        [MANIFEST]: VERSIONS.map(([env]) =>
          [
            'apiVersion: argoproj.io/v1alpha1',
            'kind: Application',
            'metadata:',
            `  name: shop-${env}`,
            'spec:',
            '  source:',
            '    repoURL: https://git.example.com/acme/gitops.git',
            `    targetRevision: refs/heads/env/${env}`,
            '    path: shop/deploy',
            '  destination:',
            `    namespace: ${env}`,
          ].join('\n'),
        ).join('\n---\n'),
      }),
    );
    git(work, 'push', '-q', 'origin', 'main');
    const main = git(dir, 'rev-parse', 'main');
    const entity = shopEntity({
      'gitops-promotions/argocd-manifest': MANIFEST,
    });
    delete entity.metadata.annotations!['gitops-promotions/path'];
    const backend = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [
        {
          id: 'gitops',
          provider: 'git',
          url: dir,
          argocdRepoURL: 'https://git.example.com/acme/gitops.git',
          paths: PATHS,
        },
      ],
      entities: [entity],
    });
    const state = await backend.ready();
    expect(state.environments.map((e: any) => e.desired.version)).toEqual([
      '1.2.0',
      '1.1.0',
      '1.0.0',
    ]);
    const created = await backend.as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    await backend.as('rita').act(created.body.id, 'approve');
    const merged = await backend.as('ben').act(created.body.id, 'merge');
    expect(merged.body.state).toBe('merged');
    expect(git(dir, 'show', `env/staging:${SHOP_DEPLOY}`)).toContain(
      'newTag: "1.2.0"',
    );
    expect(git(dir, 'rev-parse', 'main')).toBe(main);
    await stagingVersionBecomes(backend, '1.2.0');
  });

  it("rolls back an environment whose version only its manifest sets, from the manifest's history", async () => {
    const dir = branchPerEnvironment();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-work-'));
    execFileSync('git', ['clone', '-q', dir, work]);
    const MANIFEST = 'shop/argocd.yaml';
    appendCommit(
      work,
      commit('Add the Applications', {
        [MANIFEST]: VERSIONS.map(([env, version]) =>
          [
            'apiVersion: argoproj.io/v1alpha1',
            'kind: Application',
            'metadata:',
            `  name: shop-${env}`,
            'spec:',
            '  source:',
            '    repoURL: https://git.example.com/acme/gitops.git',
            `    targetRevision: refs/heads/env/${env}`,
            '    path: shop/deploy',
            '    kustomize:',
            '      images:',
            `        - ghcr.io/acme/shop:${version}`,
            '  destination:',
            `    namespace: ${env}`,
          ].join('\n'),
        ).join('\n---\n'),
      }),
    );
    git(work, 'push', '-q', 'origin', 'main');
    const entity = shopEntity({
      'gitops-promotions/argocd-manifest': MANIFEST,
    });
    delete entity.metadata.annotations!['gitops-promotions/path'];
    const backend = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [
        {
          id: 'gitops',
          provider: 'git',
          url: dir,
          argocdRepoURL: 'https://git.example.com/acme/gitops.git',
          paths: PATHS,
        },
      ],
      entities: [entity],
    });
    await backend.ready();
    const promoted = await backend.as('ana').promote({ to: 'staging' });
    expect(promoted.status).toBe(201);
    await backend.as('rita').act(promoted.body.id, 'approve');
    expect(
      (await backend.as('ben').act(promoted.body.id, 'merge')).body.state,
    ).toBe('merged');
    expect(git(dir, 'show', `main:${MANIFEST}`)).toContain(
      '- ghcr.io/acme/shop:1.2.0\n  destination:\n    namespace: staging',
    );
    await stagingVersionBecomes(backend, '1.2.0');

    const rollback = await backend.as('ana').promote({
      to: 'staging',
      kind: 'rollback',
      version: '1.1.0',
    });
    expect(rollback.status).toBe(201);
    expect(git(dir, 'show', `${rollback.body.branch}:${MANIFEST}`)).toContain(
      '- ghcr.io/acme/shop:1.1.0\n  destination:\n    namespace: staging',
    );
    const never = await backend.as('ana').promote({
      to: 'staging',
      kind: 'rollback',
      version: '0.0.9',
    });
    expect(never.status).toBe(400);
    expect(never.body.error.message).toMatch(/never ran 0\.0\.9/);
  });

  it('refuses a promotion whose change would also change another environment reading the same files', async () => {
    const dir = branchPerEnvironment();
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-work-'));
    execFileSync('git', ['clone', '-q', dir, work]);
    const MANIFEST = 'shop/argocd/apps.yaml';
    appendCommit(
      work,
      commit('Deploy every environment from one directory', {
        ...deployFiles('shop/deploy', '1.1.0'),
        [MANIFEST]: VERSIONS.map(([env]) =>
          [
            'apiVersion: argoproj.io/v1alpha1',
            'kind: Application',
            'metadata:',
            `  name: shop-${env}`,
            'spec:',
            '  source:',
            '    repoURL: https://git.example.com/acme/gitops.git',
            '    targetRevision: main',
            '    path: shop/deploy',
            '  destination:',
            `    namespace: ${env}`,
          ].join('\n'),
        ).join('\n---\n'),
      }),
    );
    git(work, 'push', '-q', 'origin', 'main');
    const refs = git(dir, 'for-each-ref');
    const entity = shopEntity({
      'gitops-promotions/argocd-manifest': MANIFEST,
    });
    delete entity.metadata.annotations!['gitops-promotions/path'];
    const backend = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [
        {
          id: 'gitops',
          provider: 'git',
          url: dir,
          argocdRepoURL: 'https://git.example.com/acme/gitops.git',
          paths: PATHS,
        },
      ],
      entities: [entity],
    });
    await backend.ready();
    // An owner may promote dev alone; here that would deploy to production too.
    for (const ask of [
      () =>
        backend.as('ana').post(`${backend.entityPath}/promotions/preview`, {
          to: 'dev',
          version: '9.9.9',
        }),
      () => backend.as('ana').promote({ to: 'dev', version: '9.9.9' }),
    ]) {
      const refused = await ask();
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toMatch(
        /it would also change what staging deploys \(1\.1\.0 → 9\.9\.9\); a promotion of dev changes dev alone/,
      );
    }
    expect(git(dir, 'for-each-ref')).toBe(refs);
  });

  it('says an environment read from a tag is promoted by a new tag, and writes nothing', async () => {
    const dir = tagPerEnvironment();
    const refs = git(dir, 'for-each-ref');
    const { as, entityPath, ready } = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [{ id: 'gitops', provider: 'git', url: dir, paths: PATHS }],
      entities: [
        shopEntity({
          'gitops-promotions/path': 'shop/deploy',
          'gitops-promotions/tag': 'v*-{env}',
        }),
      ],
    });
    const state = await ready();
    const staging = state.environments.find((e: any) => e.name === 'staging');
    expect(staging.desired.version).toBe('1.1.0');
    expect(staging.notPromotable).toMatch(
      /tags matching v\*-staging: a new tag promotes it, and the portal does not make or move tags/,
    );
    const refused = await as('ana').promote({ to: 'staging' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/does not make or move tags/);
    expect(
      (
        await as('ana').post(`${entityPath}/promotions/preview`, {
          to: 'staging',
        })
      ).status,
    ).toBe(400);
    expect(git(dir, 'for-each-ref')).toBe(refs);
  });

  it('opens the pull request of a branch-per-environment promotion against that branch on GitHub', async () => {
    const dir = branchPerEnvironment();
    const simulator = await startGithubSimulator({
      repoDir: dir,
      owner: 'acme',
      repo: 'gitops',
      users: { [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' } },
      defaultBranch: 'main',
      firstPullRequestNumber: 7,
    });
    const main = git(dir, 'rev-parse', 'main');
    const { as, ready } = await startWorkflowBackend({
      databases,
      databaseId: 'SQLITE_3',
      repositories: [
        {
          id: 'gitops',
          provider: 'github',
          url: 'https://github.example.com/acme/gitops',
          paths: PATHS,
        },
      ],
      integrations: {
        github: [
          {
            host: 'github.example.com',
            apiBaseUrl: simulator.apiBaseUrl,
            token: BOT,
          },
        ],
      },
      entities: [
        shopEntity({
          'gitops-promotions/path': 'shop/deploy',
          'gitops-promotions/ref': 'env/{env}',
        }),
      ],
    });
    await ready();
    const created = await as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    const [pr] = simulator.pullRequests();
    expect(pr).toMatchObject({
      number: 7,
      state: 'open',
      head: created.body.branch,
      base: 'env/staging',
    });
    await as('rita').act(created.body.id, 'approve');
    const merged = await as('ben').act(created.body.id, 'merge');
    expect(merged.body.state).toBe('merged');
    expect(simulator.pullRequests()[0].state).toBe('closed');
    expect(git(dir, 'show', `env/staging:${SHOP_DEPLOY}`)).toContain(
      'newTag: "1.2.0"',
    );
    expect(git(dir, 'rev-parse', 'main')).toBe(main);
  });
});
