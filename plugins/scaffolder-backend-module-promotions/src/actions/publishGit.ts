import { PermissionsService } from '@backstage/backend-plugin-api';
import { ConflictError, InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { isBranchName } from '@gitops-promotions/plugin-promotions-common';
import { PromotionsRepositoriesService } from '@gitops-promotions/plugin-promotions-node';
import {
  checkPublication,
  publicationInputSchema,
  publicationTarget,
  refuseExistingService,
} from './publishChecks';

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
        ...publicationInputSchema,
      },
      output: {
        branch: z => z.string(),
        commit: z => z.string(),
        baseBranch: z => z.string(),
      },
    },
    async handler(ctx) {
      const { branch, message, service } = ctx.input;
      const { layout, repository: configured } = publicationTarget(
        options.repositories.config,
        ctx.input,
      );
      if (configured.provider === 'github') {
        throw new InputError(
          `repository "${configured.id}" uses provider github; publish it with publish:github:pull-request`,
        );
      }
      if (!isBranchName(branch)) {
        throw new InputError(`"${branch}" is not a valid branch name`);
      }
      const changes = await checkPublication({
        permissions: options.permissions,
        credentials: await ctx.getInitiatorCredentials(),
        repository: configured,
        workspacePath: ctx.workspacePath,
        service,
        layout,
        owner: ctx.input.owner,
      });
      const repository = await options.repositories.get(configured.id);
      const base = await repository.snapshot();
      refuseExistingService(base, layout, configured.id, service);
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
