import fs from 'node:fs/promises';
import path from 'node:path';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  AuthService,
  DiscoveryService,
  PermissionsService,
  resolveSafeChildPath,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  ResponseError,
} from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  gitopsLocationTarget,
  isBranchName,
  pathTemplateProblem,
  PROMOTIONS_API_ROUTES,
  Scaffold,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { parse } from 'yaml';
import {
  authorizePublish,
  catalogEntityProblem,
  refuseCatalogedService,
  withOwnerRelation,
} from './publishChecks';

/**
 * `promotions:register-entity`: records the new service with the promotions backend, whose
 * catalog module registers its catalog file from the branch it was published to, and from the
 * repository's own branch once the layout is merged. Until then, the service's Promotions tab
 * says what it waits for. Only a service that is new is recorded: one the catalog does not hold
 * and no other branch has published, for someone `promotions.layout.publish` allows on it.
 *
 * @public
 */
export function createRegisterEntityAction(options: {
  config: PromotionsConfig;
  discovery: DiscoveryService;
  auth: AuthService;
  permissions: PermissionsService;
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
      const entity = parse(generated, { maxAliasCount: 100 }) as Entity;
      const problem = catalogEntityProblem(relative, entity);
      if (problem) throw new InputError(problem);
      const entityRef = stringifyEntityRef(entity);
      const target = gitopsLocationTarget(repository.id, branch, relative);
      await authorizePublish({
        permissions: options.permissions,
        credentials: await ctx.getInitiatorCredentials(),
        entity: withOwnerRelation(entity),
        repository: repository.id,
      });
      const ownCredentials = await options.auth.getOwnServiceCredentials();
      // Only the entity this very branch registered may be there already (a retried step).
      await refuseCatalogedService({
        catalog: options.catalog,
        credentials: ownCredentials,
        entityRef,
        target,
      });
      const baseUrl = await options.discovery.getBaseUrl('promotions');
      const { token } = await options.auth.getPluginRequestToken({
        onBehalfOf: ownCredentials,
        targetPluginId: 'promotions',
      });
      const recorded = await fetch(
        `${baseUrl}${PROMOTIONS_API_ROUTES.scaffolds}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      if (!recorded.ok) throw await ResponseError.fromResponse(recorded);
      const scaffold = ((await recorded.json()).items as Scaffold[]).find(
        s => s.entityRef === entityRef,
      );
      if (
        scaffold &&
        (scaffold.repository !== repository.id || scaffold.branch !== branch)
      ) {
        throw new ConflictError(
          `${entityRef} was already published to ${gitopsLocationTarget(
            scaffold.repository,
            scaffold.branch,
            scaffold.path,
          )}; a new service needs a name of its own`,
        );
      }
      if (ctx.isDryRun) {
        ctx.logger.info(`Dry run: would register ${entityRef} from ${target}`);
      } else {
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
