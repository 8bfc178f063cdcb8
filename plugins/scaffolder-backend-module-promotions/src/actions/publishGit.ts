import fs from 'node:fs/promises';
import path from 'node:path';
import { PermissionsService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError, NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  isBranchName,
  pathTemplateProblem,
  promotionsLayoutPublishPermission,
} from '@gitops-promotions/plugin-promotions-common';
import {
  entityPathRules,
  FileChange,
  isReadable,
  PromotionsRepositoriesService,
} from '@gitops-promotions/plugin-promotions-node';

/** Whether a file is the service's own: under its directory, or its ApplicationSet. */
function ownedBy(
  file: string,
  input: { service: string; serviceDirectory: string },
): boolean {
  const directory = path.posix.normalize(input.serviceDirectory);
  if (pathTemplateProblem(`${directory}/{env}`)) return false;
  return (
    file.startsWith(`${directory}/`) ||
    file === `argocd/${input.service}-applicationset.yaml`
  );
}

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

/**
 * `promotions:publish-git`: commits the workspace onto a new branch of a GitOps repository of
 * the `git` provider (a local path or any Git URL), the counterpart of
 * `publish:github:pull-request` for repositories that are not on GitHub. It writes through the
 * backend's one shared writer of the repository.
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
      serviceDirectory: payment
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
            .describe('The new service: only its own files may be written'),
        serviceDirectory: z =>
          z
            .string()
            .describe(
              'Where the service keeps its files (plan-environments gives it); with argocd/<service>-applicationset.yaml, the only paths written',
            ),
        owner: z =>
          z
            .string()
            .optional()
            .describe(
              "The service's owner, for the repository's paths rules that name it",
            ),
      },
      output: {
        branch: z => z.string(),
        commit: z => z.string(),
        baseBranch: z => z.string(),
      },
    },
    async handler(ctx) {
      const { branch, message } = ctx.input;
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
      const credentials = await ctx.getInitiatorCredentials();
      const [decision] = await options.permissions.authorize(
        [{ permission: promotionsLayoutPublishPermission }],
        { credentials },
      );
      if (decision.result !== AuthorizeResult.ALLOW) {
        throw new NotAllowedError(
          `You may not publish service layouts to repository ${configured.id}`,
        );
      }
      const repository = await options.repositories.get(configured.id);
      const changes = await workspaceChanges(ctx.workspacePath);
      const outside = changes
        .map(change => change.path)
        .filter(
          file =>
            !ownedBy(file, ctx.input) ||
            (configured.paths &&
              !isReadable(
                entityPathRules(configured.paths, {
                  apiVersion: 'backstage.io/v1alpha1',
                  kind: 'Component',
                  metadata: { name: ctx.input.service },
                  spec: { owner: ctx.input.owner },
                }),
                file,
              )),
        );
      if (outside.length > 0) {
        throw new NotAllowedError(
          `The workspace holds files outside ${
            ctx.input.service
          }'s own paths (${ctx.input.serviceDirectory}/, argocd/${
            ctx.input.service
          }-applicationset.yaml): ${outside
            .slice(0, 5)
            .join(', ')}; nothing was published`,
        );
      }
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
