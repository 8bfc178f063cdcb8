import path from 'node:path';
import { InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  directorySnapshot,
  PromotionsResolverService,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import {
  environmentPath,
  pathTemplateProblem,
} from '@gitops-promotions/plugin-promotions-common';
import { parseAllDocuments } from 'yaml';

/** Reads the list generator of an ApplicationSet and checks each element against the layout. */
async function applicationSetProblems(
  snapshot: RepositorySnapshot,
  file: string,
  environments: Map<string, string>,
): Promise<string[]> {
  const content = await snapshot.readFile(file);
  if (content === undefined) {
    return [`${path.posix.basename(file)} was not generated`];
  }
  const documents = parseAllDocuments(content.toString('utf8')).map(d =>
    d.toJS({ maxAliasCount: 100 }),
  );
  const appSet = documents.find(d => d?.kind === 'ApplicationSet');
  if (!appSet) return [`${path.basename(file)} holds no ApplicationSet`];
  const elements: Array<Record<string, unknown>> =
    appSet.spec?.generators?.find((g: any) => g.list)?.list?.elements ?? [];
  const problems: string[] = [];
  if (elements.length !== environments.size) {
    problems.push(
      `the ApplicationSet generates ${elements.length} Applications for ${environments.size} environments`,
    );
  }
  for (const element of elements) {
    const name = String(element.env ?? element.name);
    const expected = environments.get(name);
    if (!expected)
      problems.push(
        `the ApplicationSet has an element for unknown environment "${name}"`,
      );
    else if (element.path !== expected) {
      problems.push(
        `the ApplicationSet points ${name} at "${element.path}", not "${expected}"`,
      );
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
            .map(i => `${i.name}:${i.tag}`)
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
        const problems = await applicationSetProblems(
          snapshot,
          appSetPath,
          paths,
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
