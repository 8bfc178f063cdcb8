import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  gitUrlHasCredentials,
  gitUrlWithoutCredentials,
  PromotionsConfig,
} from '@gitops-promotions/plugin-promotions-node';
import { environmentPath } from '@gitops-promotions/plugin-promotions-common';
import {
  clusterUrlProblem,
  controlCharacterProblem,
  ownerProblem,
  dnsLabelProblem,
  imageRepositoryProblem,
  imageTagProblem,
  quantityProblem,
} from '../validation';
import { serviceLayout } from '../serviceLayout';

export interface PlannedEnvironment {
  name: string;
  requires: string[];
  replicas: number;
  cpuRequest: string;
  memoryRequest: string;
  cpuLimit: string;
  memoryLimit: string;
  namespace: string;
  cluster: string;
  autoSync: boolean;
  path: string;
}

/** A cluster URL as Argo CD tells clusters apart: without a trailing slash or a default port. */
function clusterKey(cluster: string): string {
  try {
    return new URL(cluster).href.replace(/\/+$/, '');
  } catch {
    return cluster;
  }
}

/** Names in a sentence: `a`, `a and b`, `a, b and c`. */
function listed(names: string[]): string {
  return names.length < 2
    ? names.join('')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * Environments that share a cluster and a namespace would deploy the same objects over each
 * other: one reason per such group, naming its environments.
 */
export function namespaceCollisions(
  environments: Array<{ name: string; namespace: string; cluster: string }>,
): string[] {
  const groups = new Map<string, string[]>();
  for (const env of environments) {
    const key = `${clusterKey(env.cluster)} ${env.namespace}`;
    groups.set(key, [...(groups.get(key) ?? []), env.name]);
  }
  return [...groups.entries()]
    .filter(([, names]) => names.length > 1)
    .map(([key, names]) => {
      const [cluster, namespace] = key.split(' ');
      return `environments ${listed(
        names,
      )} would all deploy to namespace "${namespace}" of cluster ${cluster} and overwrite each other: put {env} in the namespace pattern, or give them clusters of their own`;
    });
}

/** `https://host/owner/repo` as the scaffolder's GitHub actions take it: `host?owner=owner&repo=repo`. */
export function scaffolderRepoUrl(provider: string, url: string): string {
  if (provider !== 'github') return '';
  const { host, pathname } = new URL(url);
  const [owner, repo] = pathname.replace(/^\/|\.git$|\/$/g, '').split('/');
  return `${host}?owner=${encodeURIComponent(owner)}&repo=${encodeURIComponent(
    repo,
  )}`;
}

/**
 * `promotions:plan-environments`: expands the pipeline from app-config into the new service's
 * environments (with the form's per-environment settings), checks every name, and says where
 * each file goes. Nothing is written, so a mistake stops the task before anything exists.
 *
 * @public
 */
export function createPlanEnvironmentsAction(options: {
  config: PromotionsConfig;
}) {
  return createTemplateAction({
    id: 'promotions:plan-environments',
    description:
      "Expands a pipeline from the promotions config into a new service's environments and checks every name",
    supportsDryRun: true,
    examples: [
      {
        description: 'Plan a Kustomize service on the default pipeline',
        example: `steps:
  - id: plan
    action: promotions:plan-environments
    input:
      service: payment
      imageRepository: ghcr.io/acme/payment
      initialTag: 1.0.0
      layout: kustomize
      repository: example-gitops
      overrides:
        - name: prod
          replicas: 3
`,
      },
    ],
    schema: {
      input: {
        service: z => z.string().describe('Service name (DNS-1123 label)'),
        imageRepository: z =>
          z.string().describe('Container image repository, without tag'),
        initialTag: z =>
          z.string().describe('Image tag every environment starts with'),
        layout: z =>
          z
            .enum(['kustomize', 'helm'])
            .describe(
              'Kustomize base and overlays, or Helm values per environment',
            ),
        repository: z =>
          z
            .string()
            .describe('GitOps repository id from promotions.repositories'),
        pipeline: z =>
          z
            .string()
            .default('default')
            .describe('Pipeline name from promotions.pipelines'),
        namespacePattern: z =>
          z
            .string()
            .default('{service}-{env}')
            .describe(
              'Namespace of each environment; {service} and {env} are replaced',
            ),
        defaultCluster: z =>
          z
            .string()
            .default('https://kubernetes.default.svc')
            .describe('Destination cluster of environments without their own'),
        defaults: z =>
          z
            .object({
              replicas: z.number().int().min(0).max(1000).default(1),
              cpuRequest: z.string().default('100m'),
              memoryRequest: z.string().default('128Mi'),
              cpuLimit: z.string().default('500m'),
              memoryLimit: z.string().default('256Mi'),
            })
            .default({})
            .describe('Settings of every environment unless overridden'),
        owner: z =>
          z
            .string()
            .optional()
            .describe("The service's owner, an entity reference"),
        argoProject: z =>
          z.string().optional().describe('The Argo CD project of the service'),
        overrides: z =>
          z
            .array(
              z.object({
                name: z.string(),
                replicas: z.number().int().min(0).max(1000).optional(),
                cpuRequest: z.string().optional(),
                memoryRequest: z.string().optional(),
                cpuLimit: z.string().optional(),
                memoryLimit: z.string().optional(),
                cluster: z.string().optional(),
                autoSync: z.boolean().optional(),
              }),
            )
            .default([])
            .describe('Per-environment settings, by environment name'),
      },
      output: {
        environments: z =>
          z
            .array(z.any())
            .describe('The planned environments, in promotion order'),
        environmentNames: z => z.array(z.string()),
        provider: z => z.string().describe('git or github'),
        repositoryUrl: z => z.string().describe('URL of the GitOps repository'),
        argocdRepoURL: z =>
          z.string().describe('URL Argo CD clones the GitOps repository from'),
        repoUrl: z =>
          z
            .string()
            .describe(
              "The repository in the scaffolder's repoUrl form (host?owner=&repo=), for github repositories",
            ),
        branch: z => z.string().describe('Branch environments are read from'),
        pathTemplate: z =>
          z.string().describe('Value of the gitops-promotions/path annotation'),
        serviceDirectory: z =>
          z
            .string()
            .describe('Directory of the service in the GitOps repository'),
        pipeline: z => z.string(),
      },
    },
    async handler(ctx) {
      const input = ctx.input;
      const problems: string[] = [];
      const check = (problem: string | undefined) =>
        problem && problems.push(problem);

      // Whatever the form let through, no control character reaches a file or a command.
      const strings = (value: unknown, where: string): void => {
        if (typeof value === 'string') {
          check(controlCharacterProblem(where, value));
        } else if (value && typeof value === 'object') {
          for (const [key, item] of Object.entries(value)) {
            strings(item, where ? `${where}.${key}` : key);
          }
        }
      };
      strings(input, '');
      check(dnsLabelProblem('service name', input.service));
      if (input.owner !== undefined) check(ownerProblem(input.owner));
      if (input.argoProject !== undefined) {
        check(dnsLabelProblem('Argo CD project', input.argoProject));
      }
      check(imageRepositoryProblem(input.imageRepository));
      check(imageTagProblem(input.initialTag));
      check(clusterUrlProblem('default cluster', input.defaultCluster));
      const repository = options.config.repositories.get(input.repository);
      if (!repository) {
        problems.push(
          `repository "${
            input.repository
          }" is not in promotions.repositories (configured: ${
            [...options.config.repositories.keys()].join(', ') || 'none'
          })`,
        );
      }
      const pipeline = options.config.pipelines.get(input.pipeline);
      if (!pipeline) {
        problems.push(
          `pipeline "${
            input.pipeline
          }" is not in promotions.pipelines (configured: ${[
            ...options.config.pipelines.keys(),
          ].join(', ')})`,
        );
      }
      const names = new Set(pipeline?.map(env => env.name));
      for (const override of input.overrides) {
        if (pipeline && !names.has(override.name)) {
          problems.push(
            `environment "${override.name}" is not in pipeline "${
              input.pipeline
            }" (${[...names].join(', ')})`,
          );
        }
      }
      if (repository && !repository.argocdRepoURL) {
        const why = gitUrlHasCredentials(repository.url)
          ? 'its url holds credentials, which are never written into manifests'
          : 'its url is a local path';
        problems.push(
          `repository "${repository.id}" has no URL Argo CD can clone: ${why}, so set argocdRepoURL on it in promotions.repositories`,
        );
      }
      if (problems.length > 0 || !repository || !pipeline) {
        throw new InputError(
          `The service cannot be created: ${problems.join('; ')}`,
        );
      }

      const required = new Set(pipeline.flatMap(env => env.requires));
      const { serviceDirectory, pathTemplate } = serviceLayout(
        input.service,
        input.layout,
        pipeline.map(env => env.name),
      );

      const environments: PlannedEnvironment[] = pipeline.map(env => {
        const override = input.overrides.find(o => o.name === env.name) ?? {
          name: env.name,
        };
        const settings = {
          ...input.defaults,
          ...Object.fromEntries(
            Object.entries(override).filter(([, v]) => v !== undefined),
          ),
        };
        const namespace = input.namespacePattern
          .split('{service}')
          .join(input.service)
          .split('{env}')
          .join(env.name);
        const cluster = override.cluster ?? input.defaultCluster;
        check(dnsLabelProblem(`namespace of ${env.name}`, namespace));
        check(clusterUrlProblem(`cluster of ${env.name}`, cluster));
        check(
          quantityProblem(
            `CPU request of ${env.name}`,
            settings.cpuRequest,
            'cpu',
          ),
        );
        check(
          quantityProblem(`CPU limit of ${env.name}`, settings.cpuLimit, 'cpu'),
        );
        check(
          quantityProblem(
            `memory request of ${env.name}`,
            settings.memoryRequest,
            'memory',
          ),
        );
        check(
          quantityProblem(
            `memory limit of ${env.name}`,
            settings.memoryLimit,
            'memory',
          ),
        );
        // Environments at the end of a pipeline are production: they sync when a person says so.
        const production = pipeline.length > 1 && !required.has(env.name);
        return {
          name: env.name,
          requires: env.requires,
          replicas: settings.replicas,
          cpuRequest: settings.cpuRequest,
          memoryRequest: settings.memoryRequest,
          cpuLimit: settings.cpuLimit,
          memoryLimit: settings.memoryLimit,
          namespace,
          cluster,
          autoSync: override.autoSync ?? !production,
          path: environmentPath(pathTemplate, env.name),
        };
      });
      problems.push(...namespaceCollisions(environments));
      if (problems.length > 0) {
        throw new InputError(
          `The service cannot be created: ${problems.join('; ')}`,
        );
      }

      ctx.logger.info(
        `Planned ${environments.length} environments of ${
          input.service
        }: ${environments
          .map(
            e => `${e.name} (${e.autoSync ? 'automated sync' : 'manual sync'})`,
          )
          .join(', ')}`,
      );
      ctx.output('environments', environments as any);
      ctx.output(
        'environmentNames',
        environments.map(e => e.name),
      );
      ctx.output('provider', repository.provider);
      // Step outputs are shown to whoever reads the task: never a token a url may carry.
      ctx.output('repositoryUrl', gitUrlWithoutCredentials(repository.url));
      ctx.output('argocdRepoURL', repository.argocdRepoURL!);
      ctx.output(
        'repoUrl',
        scaffolderRepoUrl(repository.provider, repository.url),
      );
      ctx.output('branch', repository.branch);
      ctx.output('pathTemplate', pathTemplate);
      ctx.output('serviceDirectory', serviceDirectory);
      ctx.output('pipeline', input.pipeline);
    },
  });
}
