import fs from 'node:fs/promises';
import path from 'node:path';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  AuthService,
  DiscoveryService,
  resolveSafeChildPath,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, ResponseError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  gitopsLocationTarget,
  isBranchName,
  pathTemplateProblem,
  PROMOTIONS_API_ROUTES,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { parse } from 'yaml';

/**
 * `promotions:register-entity`: records the new service with the promotions backend, whose
 * catalog module registers its catalog file from the branch it was published to, and from the
 * repository's own branch once the layout is merged. Until then, the service's Promotions tab
 * says what it waits for.
 *
 * @public
 */
export function createRegisterEntityAction(options: {
  config: PromotionsConfig;
  discovery: DiscoveryService;
  auth: AuthService;
}) {
  return createTemplateAction({
    id: 'promotions:register-entity',
    description:
      'Registers a catalog file published to a branch of a promotions GitOps repository',
    supportsDryRun: true,
    examples: [
      {
        description: 'Register the new service from its branch',
        example: `steps:
  - id: register
    action: promotions:register-entity
    input:
      repository: example-gitops
      branch: scaffold/payment
      path: payment/catalog-info.yaml
`,
      },
    ],
    schema: {
      input: {
        repository: z =>
          z
            .string()
            .describe('GitOps repository id from promotions.repositories'),
        branch: z =>
          z.string().describe('Branch the catalog file was published to'),
        path: z =>
          z
            .string()
            .describe(
              'Path of the catalog file in the repository (and the workspace)',
            ),
        pullRequestUrl: z =>
          z
            .string()
            .optional()
            .describe('The pull request that merges the layout, if any'),
      },
      output: {
        entityRef: z =>
          z.string().describe('Reference of the registered entity'),
        location: z => z.string().describe('Registered location target'),
      },
    },
    async handler(ctx) {
      const { branch } = ctx.input;
      const repository = options.config.repositories.get(ctx.input.repository);
      if (!repository)
        throw new InputError(
          `repository "${ctx.input.repository}" is not in promotions.repositories`,
        );
      if (!isBranchName(branch)) {
        throw new InputError(`"${branch}" is not a valid branch name`);
      }
      const relative = path.posix.normalize(ctx.input.path);
      if (pathTemplateProblem(`${relative}/{env}`)) {
        throw new InputError(
          `path "${ctx.input.path}" is outside the repository`,
        );
      }
      // resolveSafeChildPath follows links and refuses any that leads out of the workspace.
      const generated = await fs
        .readFile(resolveSafeChildPath(ctx.workspacePath, relative), 'utf8')
        .catch(error => {
          if (error instanceof NotAllowedError) throw error;
          throw new InputError(
            `${relative} was not generated in the workspace`,
          );
        });
      const entity = parse(generated, { maxAliasCount: 100 });
      const entityRef = stringifyEntityRef(entity);
      const target = gitopsLocationTarget(repository.id, branch, relative);
      if (ctx.isDryRun) {
        ctx.logger.info(`Dry run: would register ${entityRef} from ${target}`);
      } else {
        const baseUrl = await options.discovery.getBaseUrl('promotions');
        const { token } = await options.auth.getPluginRequestToken({
          onBehalfOf: await options.auth.getOwnServiceCredentials(),
          targetPluginId: 'promotions',
        });
        const response = await fetch(
          `${baseUrl}${PROMOTIONS_API_ROUTES.scaffolds}`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${token}`,
            },
            body: JSON.stringify({
              entityRef,
              repository: repository.id,
              branch,
              path: relative,
              pullRequestUrl: ctx.input.pullRequestUrl || null,
            }),
          },
        );
        if (!response.ok) throw await ResponseError.fromResponse(response);
        ctx.logger.info(`Registered ${entityRef} from ${target}`);
      }
      ctx.output('entityRef', entityRef);
      ctx.output('location', target);
    },
  });
}
