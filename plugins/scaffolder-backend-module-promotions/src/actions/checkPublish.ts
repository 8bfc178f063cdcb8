import { PermissionsService } from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { scaffolderRepoUrl } from './planEnvironments';
import {
  checkPublication,
  publicationInputSchema,
  publicationTarget,
} from './publishChecks';

/**
 * `promotions:check-publish`: the checks `promotions:publish-git` makes, for a template that
 * then publishes with `publish:github:pull-request`. The pull request goes to the configured
 * repository only, for someone `promotions.layout.publish` allows on the new service, and holds
 * only the service's own files.
 *
 * @public
 */
export function createCheckPublishAction(options: {
  config: PromotionsConfig;
  permissions: PermissionsService;
}) {
  return createTemplateAction({
    id: 'promotions:check-publish',
    description:
      "Checks that the workspace holds only a new service's own files, that the user may publish it, and where it goes",
    supportsDryRun: true,
    examples: [
      {
        description: 'Check a new service before opening its pull request',
        example: `steps:
  - id: check-publish
    action: promotions:check-publish
    input:
      repository: hub
      repoUrl: github.com?owner=acme&repo=gitops
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
            .describe('GitOps repository id from promotions.repositories'),
        repoUrl: z =>
          z
            .string()
            .optional()
            .describe(
              'Where the next step publishes (host?owner=&repo=); refused unless it is the repository of promotions.repositories',
            ),
        ...publicationInputSchema,
      },
    },
    async handler(ctx) {
      const { layout, repository } = publicationTarget(
        options.config,
        ctx.input,
      );
      if (ctx.input.repoUrl !== undefined) {
        const configured = scaffolderRepoUrl(
          repository.provider,
          repository.url,
        );
        if (!configured || ctx.input.repoUrl !== configured) {
          throw new InputError(
            `repoUrl "${ctx.input.repoUrl}" is not repository ${repository.id}${
              configured ? ` (${configured})` : ''
            }; a service is published only to its configured repository`,
          );
        }
      }
      const changes = await checkPublication({
        permissions: options.permissions,
        credentials: await ctx.getInitiatorCredentials(),
        repository,
        workspacePath: ctx.workspacePath,
        service: ctx.input.service,
        layout,
        owner: ctx.input.owner,
      });
      if (changes.length === 0) {
        throw new NotAllowedError(
          `The workspace holds none of ${ctx.input.service}'s files; nothing would be published`,
        );
      }
      ctx.logger.info(
        `${changes.length} files of ${ctx.input.service} may be published to ${repository.id}`,
      );
    },
  });
}
