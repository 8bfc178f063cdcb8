import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** The three ways a service may keep its version, mixed across the repository. */
export type Layout = 'images' | 'patch' | 'helm';

export interface SyntheticService {
  name: string;
  layout: Layout;
  /** The group that owns it, as its `spec.owner` says. */
  owner: string;
  /** The `gitops-promotions/path` annotation of the service. */
  pathTemplate: string;
  /** The file that holds the version of one environment. */
  versionFile(env: string): string;
}

export interface SyntheticRepository {
  dir: string;
  services: SyntheticService[];
  environments: string[];
  /** The catalog file listing every service with its annotations. */
  catalogFile: string;
  /** Commits a new version to one environment of one service; returns the commit id. */
  promote(service: SyntheticService, env: string, version: string): string;
  /** Commits new versions of several services at once; returns the commit id. */
  promoteEach(
    changes: Array<{ service: SyntheticService; env: string; version: string }>,
    message: string,
  ): string;
  /** Commits a change to the base of every service, so that every environment is resolved again. */
  /** Touches the base (or chart values) of the first `limit` services, in one commit. */
  touchBases(label: string, limit: number): string;
}

const LAYOUTS: Layout[] = ['images', 'patch', 'helm'];

const deployment = (name: string, version: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app.kubernetes.io/name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: ${name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${name}
    spec:
      containers:
        - name: ${name}
          image: ghcr.io/acme/${name}:${version}
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
`;

const imagesOverlay = (name: string, env: string, version: string) =>
  `# ${name} in ${env}
resources:
  - ../../base
namespace: ${name}-${env}
images:
  - name: ghcr.io/acme/${name}
    newTag: "${version}"
`;

const patchOverlay = (name: string, env: string) => `resources:
  - ../../base
namespace: ${name}-${env}
patchesStrategicMerge:
  - version.yml
`;

const versionPatch = (name: string, version: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  template:
    spec:
      containers:
        - name: ${name}
          image: ghcr.io/acme/${name}:${version}
`;

const helmValues = (name: string) => `replicaCount: 1
image:
  repository: ghcr.io/acme/${name}
  tag: "0.0.0"
service:
  port: 8080
`;

const helmEnvValues = (env: string, version: string) => `# ${env}
image:
  tag: "${version}"
`;

/**
 * Writes a GitOps repository of `count` services × `environments`, a third in each layout, with
 * three commits of history: every environment at 1.0.0, then the first environment of every
 * service at 1.1.0, then the second environment of every other service at 1.1.0, so that half
 * the environments drift from their upstream.
 */
export function createSyntheticRepository(options: {
  dir: string;
  count: number;
  environments: string[];
  /** The services' names start with it; `svc` unless given. */
  prefix?: string;
  /** The repository's id in the services' annotations; `bench` unless given. */
  repositoryId?: string;
  /** The layouts the services take in turn; all three unless given. */
  layouts?: Layout[];
  /** The catalog's owner, system and lifecycle of the `index`th service. */
  spec?: (index: number) => {
    owner: string;
    system?: string;
    lifecycle: string;
  };
}): SyntheticRepository {
  const { dir, count, environments } = options;
  const layouts = options.layouts ?? LAYOUTS;
  const specOf =
    options.spec ??
    ((index: number) => ({
      owner: `team-${index % 10}`,
      system: undefined,
      lifecycle: 'production',
    }));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Bench',
        GIT_AUTHOR_EMAIL: 'bench@example.com',
        GIT_COMMITTER_NAME: 'Bench',
        GIT_COMMITTER_EMAIL: 'bench@example.com',
      },
    })
      .toString()
      .trim();
  const write = (file: string, content: string) => {
    const full = path.join(dir, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  };
  const commit = (message: string) => {
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };

  const services: SyntheticService[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${options.prefix ?? 'svc'}-${String(i).padStart(5, '0')}`;
    const layout = layouts[i % layouts.length];
    const { owner } = specOf(i);
    if (layout === 'images') {
      services.push({
        name,
        layout,
        owner,
        pathTemplate: `${name}/overlays/{env}`,
        versionFile: env => `${name}/overlays/${env}/kustomization.yaml`,
      });
    } else if (layout === 'patch') {
      services.push({
        name,
        layout,
        owner,
        pathTemplate: `${name}/envs/{env}`,
        versionFile: env => `${name}/envs/${env}/version.yml`,
      });
    } else {
      services.push({
        name,
        layout,
        owner,
        pathTemplate: `charts/${name}/values-{env}.yaml`,
        versionFile: env => `charts/${name}/values-${env}.yaml`,
      });
    }
  }

  const writeVersion = (
    service: SyntheticService,
    env: string,
    version: string,
  ) => {
    const { name, layout } = service;
    if (layout === 'images') {
      write(service.versionFile(env), imagesOverlay(name, env, version));
    } else if (layout === 'patch') {
      write(service.versionFile(env), versionPatch(name, version));
    } else {
      write(service.versionFile(env), helmEnvValues(env, version));
    }
  };

  git('init', '-q', '-b', 'main');
  for (const service of services) {
    const { name, layout } = service;
    if (layout === 'helm') {
      write(`charts/${name}/values.yaml`, helmValues(name));
    } else {
      write(`${name}/base/deployment.yaml`, deployment(name, '0.0.0'));
      write(
        `${name}/base/kustomization.yaml`,
        'resources:\n  - deployment.yaml\n',
      );
    }
    for (const env of environments) {
      if (layout === 'patch') {
        write(
          `${name}/envs/${env}/kustomization.yaml`,
          patchOverlay(name, env),
        );
      }
      writeVersion(service, env, '1.0.0');
    }
  }
  commit('Lay out every service at 1.0.0');
  for (const service of services)
    writeVersion(service, environments[0], '1.1.0');
  commit(`Promote every service to 1.1.0 in ${environments[0]}`);
  services.forEach((service, i) => {
    if (i % 2 === 0) writeVersion(service, environments[1], '1.1.0');
  });
  commit(`Promote every other service to 1.1.0 in ${environments[1]}`);

  const catalogFile = path.join(
    dir,
    '..',
    `${path.basename(dir)}-catalog.yaml`,
  );
  fs.writeFileSync(
    catalogFile,
    services
      .map((s, i) => {
        const { owner, system, lifecycle } = specOf(i);
        return `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${s.name}
  annotations:
    gitops-promotions/repository: ${options.repositoryId ?? 'bench'}
    gitops-promotions/path: ${s.pathTemplate}
    gitops-promotions/pipeline: bench
spec:
  type: service
  owner: ${owner}
${system ? `  system: ${system}\n` : ''}  lifecycle: ${lifecycle}
`;
      })
      .join('---\n'),
  );

  return {
    dir,
    services,
    environments,
    catalogFile,
    promote(service, env, version) {
      writeVersion(service, env, version);
      return commit(`Promote ${service.name} to ${version} in ${env}`);
    },
    promoteEach(changes, message) {
      for (const { service, env, version } of changes) {
        writeVersion(service, env, version);
      }
      return commit(message);
    },
    touchBases(label, limit) {
      for (const service of services.slice(0, limit)) {
        if (service.layout === 'helm') {
          write(
            `charts/${service.name}/values.yaml`,
            `${helmValues(service.name)}# ${label}\n`,
          );
        } else {
          write(
            `${service.name}/base/deployment.yaml`,
            `${deployment(service.name, '0.0.0')}# ${label}\n`,
          );
        }
      }
      return commit(
        `Touch ${Math.min(count, services.length)} bases (${label})`,
      );
    },
  };
}
