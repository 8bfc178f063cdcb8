import path from 'node:path';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  ArgoCdApplication,
  directorySnapshot,
  PromotionsResolverService,
  readArgoCdManifest,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import {
  environmentPath,
  formatImage,
  pathTemplateProblem,
} from '@gitops-promotions/plugin-promotions-common';

/** What the plan says about one environment: where its files are and how Argo CD must run it. */
interface PlannedEnvironment {
  name: string;
  path: string;
  namespace?: string;
  cluster?: string;
  autoSync?: boolean;
}

/** The environment files an Application deploys: its sources' paths and Helm value files. */
function deployedPaths(application: ArgoCdApplication): string[] {
  const paths = new Set<string>();
  for (const source of application.sources) {
    if (source.path !== null) paths.add(path.posix.normalize(source.path));
    for (const valueFile of source.helm?.valueFiles ?? []) {
      if (valueFile.path !== null) paths.add(valueFile.path);
    }
  }
  return [...paths];
}

const quoted = (value: string | null) =>
  value === null ? '(none)' : JSON.stringify(value);

/**
 * Expands the ApplicationSet as Argo CD would (generators, Go templates and their options,
 * templatePatch) and checks every generated Application against the plan: one Application per
 * environment, pointed at that environment's files in the repository and branch the plan names,
 * deploying to its cluster and namespace, syncing automatically only where the plan says so.
 */
async function applicationSetProblems(
  snapshot: RepositorySnapshot,
  file: string,
  environments: PlannedEnvironment[],
  source: { repoURL?: string; targetRevision?: string },
): Promise<string[]> {
  if (!snapshot.files.has(file)) {
    return [`${path.posix.basename(file)} was not generated`];
  }
  let manifest;
  try {
    manifest = await readArgoCdManifest(snapshot, file);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems = [...manifest.notes];
  if (manifest.applications.length === 0) {
    problems.push(`${path.posix.basename(file)} generates no Application`);
  }
  const deployedBy = new Map<string, string>();
  for (const application of manifest.applications) {
    const label = `Application ${quoted(application.name)}`;
    problems.push(...application.notes.map(note => `${label}: ${note}`));
    const paths = deployedPaths(application);
    const matched = environments.filter(e => paths.includes(e.path));
    if (matched.length !== 1) {
      problems.push(
        matched.length === 0
          ? `${label} deploys ${
              paths.map(p => quoted(p)).join(', ') || 'no path'
            }, which is no environment's path (${environments
              .map(e => e.path)
              .join(', ')})`
          : `${label} deploys the files of ${matched
              .map(e => e.name)
              .join(' and ')} at once`,
      );
      continue;
    }
    const [environment] = matched;
    const earlier = deployedBy.get(environment.name);
    if (earlier !== undefined) {
      problems.push(
        `${label} and Application ${quoted(earlier)} both deploy ${
          environment.name
        }`,
      );
    }
    deployedBy.set(environment.name, application.name);
    const { destination, syncPolicy } = application;
    if (
      environment.namespace !== undefined &&
      destination.namespace !== environment.namespace
    ) {
      problems.push(
        `${label} deploys ${environment.name} into namespace ${quoted(
          destination.namespace,
        )}, not ${quoted(environment.namespace)}`,
      );
    }
    if (
      environment.cluster !== undefined &&
      destination.server !== environment.cluster
    ) {
      problems.push(
        `${label} deploys ${environment.name} to cluster ${quoted(
          destination.server ?? destination.name,
        )}, not ${quoted(environment.cluster)}`,
      );
    }
    if (
      environment.autoSync !== undefined &&
      syncPolicy.automated !== environment.autoSync
    ) {
      problems.push(
        environment.autoSync
          ? `${label} waits for a manual sync of ${environment.name}, which the plan syncs automatically`
          : `${label} syncs ${environment.name} automatically, which the plan syncs by hand`,
      );
    }
    for (const each of application.sources) {
      if (source.repoURL !== undefined && each.repoURL !== source.repoURL) {
        problems.push(
          `${label} reads ${environment.name} from ${quoted(
            each.repoURL,
          )}, not ${quoted(source.repoURL)}`,
        );
      }
      if (
        source.targetRevision !== undefined &&
        each.targetRevision !== source.targetRevision
      ) {
        problems.push(
          `${label} reads ${environment.name} at revision ${quoted(
            each.targetRevision,
          )}, not ${quoted(source.targetRevision)}`,
        );
      }
    }
  }
  for (const environment of environments) {
    if (!deployedBy.has(environment.name)) {
      problems.push(`no Application deploys ${environment.name}`);
    }
  }
  return problems;
}

/**
 * `promotions:validate-layout`: renders every environment of the generated layout with the same
 * resolver the promotions backend uses, and fails with the environment and file at fault.
 *
 * @public
 */
export function createValidateLayoutAction(options: {
  resolver: PromotionsResolverService;
}) {
  return createTemplateAction({
    id: 'promotions:validate-layout',
    description:
      'Resolves every environment of a generated GitOps layout with the promotions resolver and fails on the first one that cannot be read',
    supportsDryRun: true,
    examples: [
      {
        description:
          'Check that every overlay of a new service deploys its initial tag',
        example: `steps:
  - id: validate
    action: promotions:validate-layout
    input:
      pathTemplate: payment/overlays/{env}
      environments: [dev, staging, prod]
      expectedVersion: 1.0.0
      applicationSet: argocd/payment-applicationset.yaml
      plan: \${{ steps.plan.output.environments }}
      argocdRepoURL: \${{ steps.plan.output.argocdRepoURL }}
      targetRevision: \${{ steps.plan.output.branch }}
`,
      },
    ],
    schema: {
      input: {
        pathTemplate: z =>
          z
            .string()
            .describe(
              'Path of each environment, with {env}, relative to the workspace',
            ),
        environments: z =>
          z.array(z.string()).min(1).describe('Environment names'),
        expectedVersion: z =>
          z
            .string()
            .optional()
            .describe('Version every environment must resolve to'),
        image: z =>
          z
            .string()
            .optional()
            .describe('Which image is the version when there are several'),
        versionKey: z =>
          z.string().optional().describe('Helm key path of the version'),
        applicationSet: z =>
          z
            .string()
            .optional()
            .describe(
              'Workspace path of the generated ApplicationSet to check',
            ),
        plan: z =>
          z
            .array(
              z
                .object({
                  name: z.string(),
                  namespace: z.string().optional(),
                  cluster: z.string().optional(),
                  autoSync: z.boolean().optional(),
                })
                .passthrough(),
            )
            .optional()
            .describe(
              "The environments of promotions:plan-environments: each generated Application must deploy to the environment's cluster and namespace and sync as it says",
            ),
        argocdRepoURL: z =>
          z
            .string()
            .optional()
            .describe('The repository URL every Application must read from'),
        targetRevision: z =>
          z
            .string()
            .optional()
            .describe('The revision every Application must read'),
      },
      output: {
        versions: z =>
          z
            .record(z.string(), z.string().nullable())
            .describe('Resolved version per environment'),
      },
    },
    async handler(ctx) {
      const { pathTemplate, environments, expectedVersion } = ctx.input;
      const problem = pathTemplateProblem(pathTemplate);
      if (problem) throw new InputError(`pathTemplate: ${problem}`);
      const snapshot = await directorySnapshot(ctx.workspacePath);
      const versions: Record<string, string | null> = {};
      const paths = new Map<string, string>();
      for (const environment of environments) {
        const envPath = environmentPath(pathTemplate, environment);
        paths.set(environment, envPath);
        let resolved;
        try {
          resolved = await options.resolver.resolve(snapshot, envPath, {
            image: ctx.input.image,
            versionKey: ctx.input.versionKey,
          });
        } catch (error) {
          throw new InputError(
            `Environment "${environment}" cannot be resolved: ${
              (error as Error).message
            }`,
          );
        }
        if (expectedVersion && resolved.version !== expectedVersion) {
          throw new InputError(
            `Environment "${environment}" resolves to version ${
              resolved.version ?? '(none)'
            } in ${envPath}, not ${expectedVersion}`,
          );
        }
        versions[environment] = resolved.version;
        ctx.logger.info(
          `${environment}: ${envPath} deploys ${resolved.images
            .map(image => formatImage(image))
            .join(', ')}`,
        );
      }
      if (ctx.input.applicationSet) {
        // Read from the workspace's own files: links are not followed out of it.
        const appSetPath = path.posix.normalize(ctx.input.applicationSet);
        if (pathTemplateProblem(`${appSetPath}/{env}`)) {
          throw new InputError(
            `applicationSet "${ctx.input.applicationSet}" is outside the workspace`,
          );
        }
        const planned = new Map(
          (ctx.input.plan ?? []).map(e => [e.name, e] as const),
        );
        const unknown = [...planned.keys()].filter(n => !paths.has(n));
        if (unknown.length > 0) {
          throw new InputError(
            `plan names environments that are not checked: ${unknown.join(
              ', ',
            )}`,
          );
        }
        const problems = await applicationSetProblems(
          snapshot,
          appSetPath,
          [...paths].map(([name, envPath]) => ({
            ...planned.get(name),
            name,
            path: envPath,
          })),
          {
            repoURL: ctx.input.argocdRepoURL,
            targetRevision: ctx.input.targetRevision,
          },
        );
        if (problems.length > 0)
          throw new InputError(
            `The ApplicationSet is not valid: ${problems.join('; ')}`,
          );
      }
      ctx.output('versions', versions);
    },
  });
}
