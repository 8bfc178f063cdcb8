import { AuthService, PermissionsService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotAllowedError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import { PromotionsRepositoriesService } from '@gitops-promotions/plugin-promotions-node';
import { scaffolderRepoUrl } from './planEnvironments';
import {
  checkPublication,
  newServiceEntity,
  publicationInputSchema,
  publicationTarget,
  refuseCatalogedService,
  refuseExistingService,
} from './publishChecks';

/**
 * `promotions:check-publish`: the checks `promotions:publish-git` makes, for a template that
 * then publishes with `publish:github:pull-request`. The pull request goes to the configured
 * repository only, for someone `promotions.layout.publish` allows on the new service, holds
 * only the service's own files, and is refused when the service already exists in the
 * repository's branch or in the catalog.
 *
 * @public
 */
export function createCheckPublishAction(options: {
  repositories: PromotionsRepositoriesService;
  permissions: PermissionsService;
  auth: AuthService;
  catalog: CatalogService;
}) {
  return createTemplateAction({
    id: 'promotions:check-publish',
    description:
      "Checks that the workspace holds only a new service's own files, that the service is new, that the user may publish it, and where it goes",
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
              'Where the next step publishes (host?owner=&repo=); required for a github repository, and refused unless it is the repository of promotions.repositories',
            ),
        ...publicationInputSchema,
      },
    },
    async handler(ctx) {
      const { service } = ctx.input;
      const { layout, repository } = publicationTarget(
        options.repositories.config,
        ctx.input,
      );
      if (repository.provider === 'github' && ctx.input.repoUrl === undefined) {
        throw new InputError(
          `repoUrl is required: repository ${repository.id} uses provider github, and where the pull request goes must be checked`,
        );
      }
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
        service,
        layout,
        owner: ctx.input.owner,
      });
      if (changes.length === 0) {
        throw new NotAllowedError(
          `The workspace holds none of ${service}'s files; nothing would be published`,
        );
      }
      // The pull request is opened against the repository's branch: the service must not be there.
      const base = await (
        await options.repositories.get(repository.id)
      ).snapshot();
      refuseExistingService(base, layout, repository.id, service);
      await refuseCatalogedService({
        catalog: options.catalog,
        credentials: await options.auth.getOwnServiceCredentials(),
        entityRef: stringifyEntityRef(newServiceEntity(service, undefined)),
      });
      ctx.logger.info(
        `${changes.length} files of ${service} may be published to ${repository.id}`,
      );
    },
  });
}
