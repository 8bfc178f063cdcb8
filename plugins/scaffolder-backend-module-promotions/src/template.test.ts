import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { testGitRepository } from './testing/testRepository';
import os from 'node:os';
import path from 'node:path';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { ServiceFactory } from '@backstage/backend-plugin-api';
import { ConfigReader } from '@backstage/config';
import {
  GitRepository,
  gitRepositoryProvider,
  RepositoryRegistry,
  resolveEnvironment,
} from '@gitops-promotions/plugin-promotions-node';
import {
  Entity,
  LocationEntity,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { parseEntityYaml } from '@backstage/plugin-catalog-node';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import scaffolderGithubModule from '@backstage/plugin-scaffolder-backend-module-github';
import {
  GitOpsLocationProcessor,
  ScaffoldLocationProvider,
} from '@gitops-promotions/plugin-catalog-backend-module-promotions';
// The template's tab is proven against the real promotions backend, as a portal runs both.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import promotionsPlugin from '@gitops-promotions/plugin-promotions-backend';
import request from 'supertest';
import { GithubSimulator } from '@internal/github-simulator';
import scaffolderModulePromotions from '.';
import { parse, parseAllDocuments } from 'yaml';

jest.setTimeout(120_000);

const templateDir = path.resolve(
  __dirname,
  '../../../templates/gitops-service',
);
const templateFile = path.join(templateDir, 'template.yaml');

function config(repositoryDir: string, githubApi?: string) {
  return {
    backend: { baseUrl: 'http://localhost:7007' },
    // github.com is the simulator, which serves the test's repository as acme/gitops.
    integrations: {
      github: [
        { host: 'github.com', apiBaseUrl: githubApi, token: 'test-token' },
      ],
    },
    catalog: {
      rules: [
        {
          allow: [
            'Component',
            'Template',
            'Location',
            'System',
            'Group',
            'User',
          ],
        },
      ],
      locations: [
        {
          type: 'file',
          target: templateFile,
          rules: [{ allow: ['Template'] }],
        },
      ],
    },
    promotions: {
      repositories: [
        {
          id: 'gitops',
          provider: 'git',
          url: repositoryDir,
          argocdRepoURL: 'https://git.acme.example/gitops.git',
          paths: [
            '{entity.metadata.name}/**',
            'charts/{entity.metadata.name}/**',
            'argocd/{entity.metadata.name}-applicationset.yaml',
          ],
        },
        {
          id: 'hub',
          provider: 'github',
          url: 'https://github.com/acme/gitops',
        },
        // Read by local path, with no URL Argo CD could clone it from.
        { id: 'local', provider: 'git', url: repositoryDir, paths: [] },
      ],
      pipelines: {
        regional: [
          { name: 'qa' },
          { name: 'staging-us', requires: ['qa'] },
          { name: 'staging-eu', requires: ['qa'] },
          { name: 'prod-us', requires: ['staging-us'] },
          { name: 'prod-eu', requires: ['staging-eu'] },
        ],
      },
    },
  };
}

const values = (layout: 'kustomize' | 'helm') => ({
  name: `cart-${layout}`,
  description: 'Shopping carts',
  owner: 'group:default/guests',
  imageRepository: 'ghcr.io/acme/cart',
  initialTag: '0.3.0',
  port: 8080,
  pipeline: 'regional',
  layout,
  defaults: {
    replicas: 1,
    cpuRequest: '100m',
    memoryRequest: '128Mi',
    cpuLimit: '500m',
    memoryLimit: '256Mi',
  },
  overrides: [
    {
      name: 'prod-us',
      replicas: 4,
      cluster: 'https://prod-us.k8s.acme.example',
    },
    {
      name: 'prod-eu',
      replicas: 4,
      cluster: 'https://prod-eu.k8s.acme.example',
    },
  ],
  repository: 'gitops',
  argoProject: 'shop',
  defaultCluster: 'https://kubernetes.default.svc',
  namespacePattern: '{service}-{env}',
});

/**
 * The catalog as the scaffolder and the promotions backend see it: the template, and whatever the
 * promotions catalog module registers for published layouts, read by its processor.
 */
function catalogWithLocations(repositoryDir: string) {
  const template = parse(fs.readFileSync(templateFile, 'utf8')) as Entity;
  template.metadata.namespace = 'default';
  template.metadata.annotations = {
    'backstage.io/managed-by-location': `file:${templateFile}`,
    'backstage.io/managed-by-origin-location': `file:${templateFile}`,
  };
  const entities: Entity[] = [template];
  const annotated = () =>
    entities.filter(
      e => e.metadata.annotations?.['gitops-promotions/repository'],
    );
  const catalog = catalogServiceMock.mock({
    getEntityByRef: async ref =>
      entities.find(
        e =>
          stringifyEntityRef(e) ===
          (typeof ref === 'string' ? ref : stringifyEntityRef(ref)),
      ),
    getEntities: async () => ({ items: annotated() }),
    queryEntities: async () => ({
      items: annotated(),
      totalItems: annotated().length,
      pageInfo: {},
    }),
  });

  /** Runs the catalog module's provider and processor once, as the catalog would. */
  async function readPublished(server: http.Server) {
    const { port } = server.address() as AddressInfo;
    const repositories = new RepositoryRegistry({
      rootConfig: new ConfigReader(config(repositoryDir)),
      logger: mockServices.logger.mock(),
      started: Promise.resolve(),
      providers: [gitRepositoryProvider],
    });
    const locations: LocationEntity[] = [];
    const provider = new ScaffoldLocationProvider({
      discovery: mockServices.discovery.mock({
        getBaseUrl: async id => `http://127.0.0.1:${port}/api/${id}`,
      }),
      auth: mockServices.auth({ pluginId: 'catalog' }),
      repositories,
      logger: mockServices.logger.mock(),
      taskRunner: { run: async () => {} },
    });
    await provider.connect({
      applyMutation: async mutation => {
        if (mutation.type !== 'full') return;
        locations.splice(0);
        locations.push(
          ...mutation.entities.map(e => e.entity as LocationEntity),
        );
      },
      refresh: async () => {},
    });
    await provider.refresh();
    const processor = new GitOpsLocationProcessor({
      repositories,
      logger: mockServices.logger.mock(),
      branches: provider,
    });
    for (const location of locations) {
      const results: any[] = [];
      await processor.readLocation(
        { type: location.spec.type!, target: location.spec.target! },
        false,
        result => results.push(result),
        async function* parser({ data, location: at }) {
          yield* parseEntityYaml(data, at);
        },
      );
      const errors = results.filter(r => r.type === 'error');
      if (errors.length > 0) {
        throw new Error(errors.map(e => e.error.message).join(', '));
      }
      for (const { entity } of results.filter(r => r.type === 'entity')) {
        const ref = stringifyEntityRef(entity);
        const index = entities.findIndex(e => stringifyEntityRef(e) === ref);
        if (index >= 0) entities.splice(index, 1);
        entities.push({
          ...entity,
          metadata: {
            ...entity.metadata,
            namespace: entity.metadata.namespace ?? 'default',
            annotations: {
              ...entity.metadata.annotations,
              'backstage.io/managed-by-location': `${location.spec.type}:${location.spec.target}`,
              'backstage.io/managed-by-origin-location': `${location.spec.type}:${location.spec.target}`,
            },
          },
        });
      }
    }
    return locations;
  }
  return { catalog, readPublished };
}

const simulators: GithubSimulator[] = [];

// Every request the template's steps made of GitHub, and every answer, matched GitHub's description.
afterEach(async () => {
  const problems = simulators.flatMap(simulator => simulator.problems);
  await Promise.all(simulators.splice(0).map(simulator => simulator.stop()));
  if (problems.length > 0) {
    throw new Error(
      `the GitHub simulator saw problems:\n${problems.join('\n')}`,
    );
  }
});

async function startBackend(repositoryDir: string) {
  const scheduler = mockServices.scheduler() as ReturnType<
    typeof mockServices.scheduler
  > & {
    factory(options: { skipTaskRunOnStartup: boolean }): ServiceFactory;
  };
  const { catalog, readPublished } = catalogWithLocations(repositoryDir);
  const github = await GithubSimulator.start({
    repoDir: repositoryDir,
    owner: 'acme',
    repo: 'gitops',
    token: 'test-token',
  });
  simulators.push(github);
  const { server } = await startTestBackend({
    features: [
      scaffolderPlugin,
      scaffolderGithubModule,
      scaffolderModulePromotions,
      promotionsPlugin,
      catalog.factory,
      scheduler.factory({ skipTaskRunOnStartup: true }),
      mockServices.rootConfig.factory({
        data: config(repositoryDir, github.apiBaseUrl),
      }),
    ],
  });
  return {
    server,
    catalog,
    readPublished: () => readPublished(server),
    refreshPromotions: () => scheduler.triggerTask('promotions-refresh:gitops'),
  };
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

function checkApplicationSet(
  text: string,
  service: string,
  layout: 'kustomize' | 'helm',
) {
  const appSet = parseAllDocuments(text)
    .map(d => d.toJS())
    .find(d => d.kind === 'ApplicationSet');
  const elements = appSet.spec.generators[0].list.elements;
  expect(
    elements.map((e: any) => [e.env, e.namespace, e.cluster, e.autoSync]),
  ).toEqual([
    ['qa', `${service}-qa`, 'https://kubernetes.default.svc', 'true'],
    [
      'staging-us',
      `${service}-staging-us`,
      'https://kubernetes.default.svc',
      'true',
    ],
    [
      'staging-eu',
      `${service}-staging-eu`,
      'https://kubernetes.default.svc',
      'true',
    ],
    [
      'prod-us',
      `${service}-prod-us`,
      'https://prod-us.k8s.acme.example',
      'false',
    ],
    [
      'prod-eu',
      `${service}-prod-eu`,
      'https://prod-eu.k8s.acme.example',
      'false',
    ],
  ]);
  for (const element of elements) {
    expect(element.path).toBe(
      layout === 'kustomize'
        ? `${service}/overlays/${element.env}`
        : `charts/${service}/values-${element.env}.yaml`,
    );
  }
  expect(appSet.spec.template.spec.syncPolicy.syncOptions).toContain(
    'CreateNamespace=true',
  );
  expect(appSet.spec.template.metadata.labels['app.kubernetes.io/name']).toBe(
    service,
  );
  expect(appSet.spec.template.spec.project).toBe('shop');
  expect(appSet.spec.templatePatch).toContain('selfHeal: true');
  // Argo CD clones the repository from its configured URL, never the backend's local path.
  expect(
    JSON.stringify([
      appSet.spec.template.spec.source,
      appSet.spec.template.spec.sources,
    ]),
  ).toContain('"repoURL":"https://git.acme.example/gitops.git"');
}

describe('the GitOps service template', () => {
  async function dryRun(
    server: any,
    input: ReturnType<typeof values>,
    edit: (file: string, content: string) => string = (_, c) => c,
  ) {
    const res = await dryRunResponse(server, input, edit);
    expect({ status: res.status, error: res.body.error?.message }).toEqual({
      status: 200,
      error: undefined,
    });
    return res.body;
  }

  async function dryRunResponse(
    server: any,
    input: ReturnType<typeof values>,
    edit: (file: string, content: string) => string,
    editTemplate: (template: any) => any = t => t,
  ) {
    const files: Array<{ path: string; base64Content: string }> = [];
    const walk = (d: string) => {
      for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, entry.name);
        if (entry.isDirectory()) walk(full);
        else
          files.push({
            path: path.relative(templateDir, full),
            base64Content: Buffer.from(
              edit(
                path.relative(templateDir, full),
                fs.readFileSync(full, 'utf8'),
              ),
            ).toString('base64'),
          });
      }
    };
    walk(templateDir);
    const res = await request(server)
      .post('/api/scaffolder/v2/dry-run')
      .send({
        template: editTemplate(parse(fs.readFileSync(templateFile, 'utf8'))),
        values: input,
        secrets: {},
        directoryContents: files,
      });
    return res;
  }

  it('spells no key two ways, which the catalog refuses when it stitches the template', () => {
    // The catalog indexes keys lower-cased, with array items merged: repoUrl and repoURL collide.
    const spellings = new Map<string, Set<string>>();
    const walk = (value: unknown, at: string) => {
      if (Array.isArray(value)) {
        for (const item of value) walk(item, at);
      } else if (value && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          const where = at ? `${at}.${key}` : key;
          const lower = where.toLocaleLowerCase('en-US');
          spellings.set(lower, (spellings.get(lower) ?? new Set()).add(where));
          walk(inner, where);
        }
      }
    };
    walk(parse(fs.readFileSync(templateFile, 'utf8')), '');
    const twice = [...spellings.values()]
      .filter(set => set.size > 1)
      .map(set => [...set]);
    expect(twice).toEqual([]);
  });

  it('quotes every value it writes into a file, comments and numbers included', () => {
    const unquoted: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else {
          for (const [expression] of fs
            .readFileSync(full, 'utf8')
            .matchAll(/\$\{\{(?:'[^']*'|"[^"]*"|[^'"])*?\}\}/g)) {
            if (!/\|\s*dump\s*\}\}$/.test(expression)) {
              unquoted.push(
                `${path.relative(templateDir, full)}: ${expression}`,
              );
            }
          }
        }
      }
    };
    walk(path.join(templateDir, 'skeleton'));
    // File names hold only the service and environment names, DNS-1123 labels the plan checks.
    expect(unquoted).toEqual([]);
  });

  it('dry-runs through the scaffolder backend without writing to the repository', async () => {
    const { dir, git } = testGitRepository();
    const { server } = await startBackend(dir);
    const result = await dryRun(server, values('kustomize'));
    const output = new Map<string, string>(
      result.directoryContents.map((f: any) => [
        f.path,
        Buffer.from(f.base64Content, 'base64').toString(),
      ]),
    );
    expect([...output.keys()]).toEqual(
      expect.arrayContaining([
        'cart-kustomize/base/deployment.yaml',
        'cart-kustomize/overlays/prod-eu/kustomization.yaml',
        'cart-kustomize/overlays/prod-eu/resources.yaml',
        'cart-kustomize/catalog-info.yaml',
        'argocd/cart-kustomize-applicationset.yaml',
      ]),
    );
    checkApplicationSet(
      output.get('argocd/cart-kustomize-applicationset.yaml')!,
      'cart-kustomize',
      'kustomize',
    );
    expect(result.steps.map((s: any) => s.id)).toContain('validate');
    expect(git('branch', '--list')).toBe('* main');
  });

  it.each([
    [
      'a skeleton that makes production sync by itself',
      ['{{- if eq .autoSync "true" }}', '{{- if true }}'],
      'Application "cart-kustomize-prod-us" syncs prod-us automatically, which the plan syncs by hand',
    ],
    [
      'a skeleton that points Applications at a path the layout does not have',
      ["path: '{{.path}}'", "path: '{{.path}}-v2'"],
      `Application "cart-kustomize-qa" deploys "cart-kustomize/overlays/qa-v2", which is no environment's path`,
    ],
    [
      'a skeleton that deploys every environment into one namespace',
      ["namespace: '{{.namespace}}'", 'namespace: cart'],
      'Application "cart-kustomize-qa" deploys qa into namespace "cart", not "cart-kustomize-qa"',
    ],
    [
      'a skeleton whose template names a key no element has',
      ["server: '{{.cluster}}'", "server: '{{.clusterURL}}'"],
      'clusterURL',
    ],
  ])(
    'stops %s at validation, naming the Application',
    async (_, [from, to], message) => {
      const { dir, git } = testGitRepository();
      const { server } = await startBackend(dir);
      let edited = false;
      const res = await dryRunResponse(
        server,
        values('kustomize'),
        (file, content) => {
          if (!file.startsWith('skeleton/argocd/')) return content;
          expect(content).toContain(from);
          edited = true;
          return content.replace(from, to);
        },
      );
      expect(edited).toBe(true);
      expect(res.status).toBe(400);
      expect(res.body.error?.message).toContain(message);
      expect(git('branch', '--list')).toBe('* main');
    },
  );

  it.each([
    [
      'a namespace pattern that puts environments sharing a cluster in one namespace',
      { namespacePattern: '{service}' },
      'environments qa, staging-us and staging-eu would all deploy to namespace "cart-kustomize" of cluster https://kubernetes.default.svc and overwrite each other',
    ],
    [
      'a repository Argo CD could not clone',
      { repository: 'local' },
      'repository "local" has no URL Argo CD can clone: its url is a local path, so set argocdRepoURL on it in promotions.repositories',
    ],
  ])('refuses %s before anything is written', async (_, change, message) => {
    const { dir, git } = testGitRepository();
    const { server } = await startBackend(dir);
    const res = await dryRunResponse(
      server,
      { ...values('kustomize'), ...change },
      (__, content) => content,
    );
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toContain(message);
    expect(git('branch', '--list')).toBe('* main');
  });

  it('opens a pull request for a github repository, in a dry run', async () => {
    const { dir } = testGitRepository();
    const { server } = await startBackend(dir);
    const result = await dryRun(server, {
      ...values('helm'),
      repository: 'hub',
    });
    const log = result.log.map((l: any) => l.body.message).join('\n');
    expect(log).toMatch(/dry run of creating pull request/);
    expect(log).not.toMatch(/Skipping step publish-github/);
    expect(log).toMatch(
      /Skipping step publish-git because its if condition was false/,
    );
    expect(log).toMatch(
      /would register component:default\/cart-helm from hub:scaffold\/cart-helm:charts\/cart-helm\/catalog-info.yaml/,
    );
  });

  it('opens the pull request on the configured repository only, whatever repoUrl the form is sent', async () => {
    const { dir } = testGitRepository();
    const { server } = await startBackend(dir);
    const result = await dryRun(server, {
      ...values('kustomize'),
      repository: 'hub',
      repoUrl: 'github.com?owner=acme&repo=payments-secrets',
    } as ReturnType<typeof values>);
    const ids = result.steps.map((s: any) => s.id);
    expect(ids.indexOf('check-publish')).toBeLessThan(
      ids.indexOf('publish-github'),
    );
    expect(result.output.links).toContainEqual(
      expect.objectContaining({
        title: 'Pull request',
        url: 'github.com?owner=acme&repo=gitops',
      }),
    );
  });

  it('opens no pull request over a service the github repository already holds', async () => {
    const { dir, commitAll } = testGitRepository();
    fs.mkdirSync(path.join(dir, 'charts/cart-helm'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'charts/cart-helm/values.yaml'),
      'image: { tag: 1.0.0 }\n',
    );
    commitAll('Add cart-helm');
    const { server } = await startBackend(dir);
    const res = await dryRunResponse(
      server,
      { ...values('helm'), repository: 'hub' },
      (_, content) => content,
    );
    // A conflict with what the repository holds, found by the check that runs before the
    // pull request step (the run stops there: a dry run that went on would answer 200).
    expect(res.status).toBe(409);
    expect(res.body.error?.message).toContain('charts/cart-helm/values.yaml');
  });

  it('opens no pull request holding a file outside the new service, such as a workflow', async () => {
    const { dir } = testGitRepository();
    const { server } = await startBackend(dir);
    const res = await dryRunResponse(
      server,
      { ...values('kustomize'), repository: 'hub' },
      (_, content) => content,
      template => {
        const steps = template.spec.steps;
        steps.splice(steps.findIndex((s: any) => s.id === 'validate') + 1, 0, {
          id: 'workflow',
          action: 'fetch:template',
          input: {
            url: './skeleton/catalog',
            targetPath: '.github/workflows',
            values: { service: 'cart-kustomize' },
          },
        });
        return template;
      },
    );
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toContain(
      "The workspace holds files outside cart-kustomize's own paths",
    );
    expect(res.body.error?.message).toContain(
      '.github/workflows/catalog-info.yaml',
    );
  });

  it.each(['kustomize', 'helm'] as const)(
    'creates a %s service on a branch of the git repository, registers it, and every environment resolves',
    async layout => {
      const { dir, git } = testGitRepository();
      const { server, catalog, readPublished, refreshPromotions } =
        await startBackend(dir);
      const service = `cart-${layout}`;

      const created = await request(server)
        .post('/api/scaffolder/v2/tasks')
        .send({
          templateRef: 'template:default/gitops-service',
          values: values(layout),
        });
      expect(created.status).toBe(201);
      const task = await until('the task to finish', async () => {
        const r = await request(server).get(
          `/api/scaffolder/v2/tasks/${created.body.id}`,
        );
        return ['completed', 'failed'].includes(r.body.status)
          ? r.body
          : undefined;
      });
      if (task.status !== 'completed') {
        const events = await request(server).get(
          `/api/scaffolder/v2/tasks/${created.body.id}/events`,
        );
        throw new Error(events.body.map((e: any) => e.body.message).join('\n'));
      }

      // The branch holds the layout, and each environment deploys the initial tag.
      const branch = `scaffold/${service}`;
      expect(git('log', '-1', '--format=%s', branch)).toBe(
        `Add ${service} with its environments`,
      );
      const repository = new GitRepository({
        id: 'gitops',
        url: dir,
        branch,
        cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), 'cache-')),
        logger: mockServices.logger.mock(),
      });
      const snapshot = await repository.snapshot();
      const pathTemplate =
        layout === 'kustomize'
          ? `${service}/overlays/{env}`
          : `charts/${service}/values-{env}.yaml`;
      const workloads: string[] = [];
      for (const env of [
        'qa',
        'staging-us',
        'staging-eu',
        'prod-us',
        'prod-eu',
      ]) {
        const resolved = await resolveEnvironment(
          snapshot,
          pathTemplate.replace('{env}', env),
          {
            image: 'ghcr.io/acme/cart',
          },
        );
        expect(resolved.version).toBe('0.3.0');
        expect(resolved.images).toEqual([
          { name: 'ghcr.io/acme/cart', tag: '0.3.0', digest: null },
        ]);
        // Both layouts name the workload after the service, whatever the environment.
        if (layout === 'kustomize') {
          workloads.push(...resolved.comparable.map(o => o.id));
        }
      }
      if (layout === 'helm') {
        // The chart names them after the service too, not after Argo CD's release.
        for (const file of ['deployment.yaml', 'service.yaml']) {
          const text = (await snapshot.readFile(
            `charts/${service}/templates/${file}`,
          ))!.toString();
          const [, kind, name] =
            /^kind: (\w+)\nmetadata:\n(?:\s+#.*\n)*\s+name: "([^"]*)"$/m.exec(
              text,
            ) ?? [];
          workloads.push(`${kind}/${name}`);
        }
      }
      expect(new Set(workloads)).toEqual(
        new Set([`Deployment/${service}`, `Service/${service}`]),
      );
      checkApplicationSet(
        (await snapshot.readFile(
          `argocd/${service}-applicationset.yaml`,
        ))!.toString(),
        service,
        layout,
      );

      // The entity is registered from the branch, read by the promotions catalog module.
      const catalogFile = `${
        layout === 'kustomize' ? service : `charts/${service}`
      }/catalog-info.yaml`;
      expect((await readPublished()).map(l => l.spec)).toEqual([
        {
          type: 'gitops-promotions',
          target: `gitops:${branch}:${catalogFile}`,
        },
      ]);
      const entity = (await catalog.getEntityByRef(
        `component:default/${service}`,
        {} as any,
      ))!;
      expect(entity.metadata.annotations).toMatchObject({
        'gitops-promotions/repository': 'gitops',
        'gitops-promotions/path': pathTemplate,
        'gitops-promotions/pipeline': 'regional',
        'argocd/app-selector': `app.kubernetes.io/name=${service}`,
      });
      const events = await request(server).get(
        `/api/scaffolder/v2/tasks/${created.body.id}/events`,
      );
      const completion = events.body.find((e: any) => e.type === 'completion');
      expect(completion.body.output.links).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            entityRef: `component:default/${service}`,
          }),
        ]),
      );

      // Until the layout is merged, the tab says what it waits for instead of failing.
      await refreshPromotions();
      const waiting = await request(server).get(
        `/api/promotions/v1/entities/component/default/${service}`,
      );
      expect(waiting.status).toBe(200);
      expect(waiting.body).toMatchObject({
        environments: [],
        waitingForMerge: { branch, pullRequestUrl: null },
      });

      // Once the pull request's branch is merged, the Promotions tab shows every environment.
      git(
        '-c',
        'user.name=A',
        '-c',
        'user.email=a@example.com',
        'merge',
        '-q',
        '--no-ff',
        '-m',
        'Merge',
        branch,
      );
      await refreshPromotions();
      const promotions = await until('the promotions state', async () => {
        await refreshPromotions();
        const r = await request(server).get(
          `/api/promotions/v1/entities/component/default/${service}`,
        );
        return r.status === 200 && r.body.asOf ? r.body : undefined;
      });
      expect(
        promotions.environments.map((e: any) => [
          e.name,
          e.desired.version,
          e.drift.length,
        ]),
      ).toEqual([
        ['qa', '0.3.0', 0],
        ['staging-us', '0.3.0', 0],
        ['staging-eu', '0.3.0', 0],
        ['prod-us', '0.3.0', 1],
        ['prod-eu', '0.3.0', 1],
      ]);
      // prod runs four replicas where staging runs one: config drift unless declared expected.
      expect(promotions.environments[3].drift[0]).toMatchObject({
        kind: 'config',
        upstream: 'staging-us',
      });
      expect(promotions.waitingForMerge).toBeUndefined();
      // And the entity is now read from the repository's own branch.
      expect((await readPublished()).map(l => l.spec)).toEqual([
        { type: 'gitops-promotions', target: `gitops:main:${catalogFile}` },
      ]);
    },
  );
});
