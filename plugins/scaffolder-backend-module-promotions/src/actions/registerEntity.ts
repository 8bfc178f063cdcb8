import fs from 'node:fs/promises';
import path from 'node:path';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { resolveSafeChildPath } from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  GITOPS_LOCATION_TYPE,
  gitopsLocationTarget,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { parse } from 'yaml';

/**
 * `promotions:register-entity`: registers the generated catalog file from the branch it was
 * published to: a GitHub blob URL for `github` repositories, a `gitops-promotions` location
 * (read by the promotions catalog module) for `git` repositories.
 */
export function createRegisterEntityAction(options: {
  config: PromotionsConfig;
  catalog: CatalogService;
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
      const relative = path.posix.normalize(ctx.input.path);
      if (relative.startsWith('..') || path.posix.isAbsolute(relative)) {
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

      const location =
        repository.provider === 'github'
          ? {
              type: 'url',
              target: `${repository.url.replace(
                /\/$/,
                '',
              )}/blob/${branch}/${relative}`,
            }
          : {
              type: GITOPS_LOCATION_TYPE,
              target: gitopsLocationTarget(repository.id, branch, relative),
            };
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would register ${location.type} ${location.target}`,
        );
      } else {
        await options.catalog.addLocation(location, {
          credentials: await ctx.getInitiatorCredentials(),
        });
        ctx.logger.info(`Registered ${entityRef} from ${location.target}`);
      }
      ctx.output('entityRef', entityRef);
      ctx.output('location', location.target);
    },
  });
}
