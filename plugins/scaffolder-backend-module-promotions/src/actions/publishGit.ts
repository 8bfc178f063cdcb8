import fs from 'node:fs/promises';
import path from 'node:path';
import { PermissionsService } from '@backstage/backend-plugin-api';
import {
  Entity,
  parseEntityRef,
  RELATION_OWNED_BY,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  environmentNameProblem,
  isBranchName,
  promotionsLayoutPublishPermission,
} from '@gitops-promotions/plugin-promotions-common';
import {
  entityPathRules,
  FileChange,
  isReadable,
  PromotionsRepositoriesService,
} from '@gitops-promotions/plugin-promotions-node';
import { parseAllDocuments } from 'yaml';
import {
  isOwnedPath,
  repositoryPathProblem,
  serviceLayout,
} from '../serviceLayout';
import {
  controlCharacterProblem,
  dnsLabelProblem,
  ownerProblem,
} from '../validation';
import { allowsNewEntity } from './newEntityDecision';

/** The workspace's files as changes to commit; links are refused rather than followed. */
async function workspaceChanges(root: string): Promise<FileChange[]> {
  const changes: FileChange[] = [];
  const walk = async (dir: string) => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full).split(path.sep).join('/');
      if (entry.isSymbolicLink()) {
        throw new InputError(
          `the workspace has a symbolic link at ${relative}; nothing is published through it`,
        );
      }
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        changes.push({ path: relative, content: await fs.readFile(full) });
      }
    }
  };
  await walk(root);
  return changes;
}

/** The owner of the entities a catalog file declares, checked to be the service's. */
function catalogFileOwner(
  change: FileChange | undefined,
  service: string,
): string | undefined {
  if (!change) return undefined;
  const owners = new Set<string>();
  const text = change.content?.toString('utf8') ?? '';
  for (const document of parseAllDocuments(text)) {
    const entity = document.toJS({ maxAliasCount: 100 }) as Entity | null;
    if (!entity) continue;
    if (
      entity.metadata?.name !== service ||
      (entity.metadata.namespace ?? 'default') !== 'default'
    ) {
      throw new NotAllowedError(
        `${change.path} declares ${JSON.stringify(
          entity.metadata?.name,
        )}, not the service ${service}; nothing was published`,
      );
    }
    if (typeof entity.spec?.owner === 'string') owners.add(entity.spec.owner);
  }
  if (owners.size > 1) {
    throw new InputError(`${change.path} names several owners`);
  }
  return [...owners][0];
}

/** The service as the catalog will hold it once registered, for the permission decision. */
function newServiceEntity(service: string, owner: string | undefined): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name: service, namespace: 'default' },
    spec: owner ? { owner } : {},
    relations: owner
      ? [
          {
            type: RELATION_OWNED_BY,
            targetRef: stringifyEntityRef(
              parseEntityRef(owner, {
                defaultKind: 'group',
                defaultNamespace: 'default',
              }),
            ),
          },
        ]
      : [],
  };
}

/**
 * `promotions:publish-git`: commits the workspace onto a new branch of a GitOps repository of
 * the `git` provider (a local path or any Git URL), the counterpart of
 * `publish:github:pull-request` for repositories that are not on GitHub. It writes through the
 * backend's one shared writer of the repository, and only the new service's own files: those
 * its layout plans (base or chart, each environment's directory or values file, its catalog file
 * and its `argocd/` manifest), for someone `promotions.layout.publish` allows on the service.
 *
 * @public
 */
export function createPublishGitAction(options: {
  repositories: PromotionsRepositoriesService;
  permissions: PermissionsService;
}) {
  return createTemplateAction({
    id: 'promotions:publish-git',
    description:
      'Commits the workspace on a new branch of a git-provider GitOps repository',
    supportsDryRun: true,
    examples: [
      {
        description:
          'Publish a new service layout on a branch of the example repository',
        example: `steps:
  - id: publish
    action: promotions:publish-git
    input:
      repository: example-gitops
      branch: scaffold/payment
      message: Add payment with its environments
      service: payment
      layout: kustomize
      environments: [dev, staging, prod]
      owner: group:default/shop-team
`,
      },
    ],
    schema: {
      input: {
        repository: z =>
          z
            .string()
            .describe(
              'GitOps repository id from promotions.repositories (provider git)',
            ),
        branch: z => z.string().describe('New branch to create'),
        message: z => z.string().min(1).describe('Commit message'),
        service: z =>
          z
            .string()
            .describe(
              'The new service (DNS-1123 label): only its own files may be written',
            ),
        layout: z =>
          z
            .enum(['kustomize', 'helm'])
            .default('kustomize')
            .describe('The layout promotions:plan-environments planned'),
        environments: z =>
          z
            .array(z.string())
            .min(1)
            .describe(
              "The planned environments' names (plan-environments' environmentNames)",
            ),
        serviceDirectory: z =>
          z
            .string()
            .optional()
            .describe(
              "The service's directory as plan-environments gives it; refused when it is not the plan's",
            ),
        owner: z =>
          z
            .string()
            .optional()
            .describe(
              "The service's owner: whom the permission is decided for, and the repository's paths rules may name",
            ),
      },
      output: {
        branch: z => z.string(),
        commit: z => z.string(),
        baseBranch: z => z.string(),
      },
    },
    async handler(ctx) {
      const { branch, message, service } = ctx.input;
      const kind = ctx.input.layout ?? 'kustomize';
      const environments = ctx.input.environments ?? [];
      // Whatever the form let through, no control character reaches a path, a ref or a commit.
      const problems = [
        ...Object.entries(ctx.input).flatMap(([key, value]) =>
          (Array.isArray(value) ? value : [value]).map(item =>
            controlCharacterProblem(key, item),
          ),
        ),
        dnsLabelProblem('service name', service),
        environments.length === 0
          ? 'environments: the plan names none'
          : undefined,
        ...environments.map(environmentNameProblem),
        ctx.input.owner === undefined
          ? undefined
          : ownerProblem(ctx.input.owner),
        ctx.input.serviceDirectory === undefined
          ? undefined
          : repositoryPathProblem(
              'serviceDirectory',
              ctx.input.serviceDirectory,
            ),
      ].filter((p): p is string => p !== undefined);
      if (problems.length > 0) {
        throw new InputError(
          `Nothing was published: ${[...new Set(problems)].join('; ')}`,
        );
      }
      const layout = serviceLayout(service, kind, environments);
      if (
        ctx.input.serviceDirectory !== undefined &&
        ctx.input.serviceDirectory !== layout.serviceDirectory
      ) {
        throw new InputError(
          `serviceDirectory "${ctx.input.serviceDirectory}" is not where a ${kind} layout of ${service} lives (${layout.serviceDirectory}); nothing was published`,
        );
      }
      const configured = options.repositories.config.repositories.get(
        ctx.input.repository,
      );
      if (!configured) {
        throw new InputError(
          `repository "${ctx.input.repository}" is not in promotions.repositories`,
        );
      }
      if (configured.provider === 'github') {
        throw new InputError(
          `repository "${configured.id}" uses provider github; publish it with publish:github:pull-request`,
        );
      }
      if (!isBranchName(branch)) {
        throw new InputError(`"${branch}" is not a valid branch name`);
      }
      const changes = await workspaceChanges(ctx.workspacePath);
      const catalogOwner = catalogFileOwner(
        changes.find(
          c => c.path === `${layout.serviceDirectory}/catalog-info.yaml`,
        ),
        service,
      );
      if (
        ctx.input.owner !== undefined &&
        catalogOwner !== undefined &&
        catalogOwner !== ctx.input.owner
      ) {
        throw new NotAllowedError(
          `The catalog file names owner ${catalogOwner}, not ${ctx.input.owner}; nothing was published`,
        );
      }
      const owner = ctx.input.owner ?? catalogOwner;
      const entity = newServiceEntity(service, owner);
      const credentials = await ctx.getInitiatorCredentials();
      const [decision] = await options.permissions.authorizeConditional(
        [{ permission: promotionsLayoutPublishPermission }],
        { credentials },
      );
      if (!allowsNewEntity(decision, entity)) {
        throw new NotAllowedError(
          `You may not publish the layout of ${stringifyEntityRef(entity)}${
            owner ? ` owned by ${owner}` : ''
          } to repository ${configured.id}`,
        );
      }
      const readable = configured.paths
        ? entityPathRules(configured.paths, entity)
        : undefined;
      const outside = changes
        .map(change => change.path)
        .filter(
          file =>
            repositoryPathProblem('file', file) !== undefined ||
            !isOwnedPath(layout, file) ||
            (readable && !isReadable(readable, file)),
        );
      if (outside.length > 0) {
        throw new NotAllowedError(
          `The workspace holds files outside ${service}'s own paths (${layout.ownedPaths.join(
            ', ',
          )}): ${outside.slice(0, 5).join(', ')}; nothing was published`,
        );
      }
      const repository = await options.repositories.get(configured.id);
      const base = await repository.snapshot();
      if (await repository.branchHead(branch)) {
        throw new ConflictError(
          `branch "${branch}" already exists in repository ${configured.id}`,
        );
      }
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would commit ${changes.length} files on ${branch} of ${configured.id}, from ${base.commit}`,
        );
        ctx.output('branch', branch);
        ctx.output('commit', base.commit);
        ctx.output('baseBranch', repository.branch);
        return;
      }
      const profile = (ctx.user?.entity?.spec?.profile ?? {}) as {
        displayName?: string;
        email?: string;
      };
      await repository.createBranch(branch, base.commit);
      const commit = await repository
        .commitFiles({
          branch,
          parent: base.commit,
          message,
          author: {
            name:
              profile.displayName ??
              ctx.user?.entity?.metadata.name ??
              'Backstage Scaffolder',
            email: profile.email ?? 'scaffolder@backstage.invalid',
          },
          changes,
        })
        .catch(async error => {
          // A branch left with nothing on it would block the next attempt.
          await repository.deleteBranch(branch, base.commit).catch(() => {});
          throw error;
        });
      ctx.logger.info(
        `Committed ${commit} on branch ${branch} of ${configured.id}`,
      );
      ctx.output('branch', branch);
      ctx.output('commit', commit);
      ctx.output('baseBranch', repository.branch);
    },
  });
}
