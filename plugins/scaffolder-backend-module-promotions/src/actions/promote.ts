import {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  AuthenticationError,
  ConflictError,
  InputError,
  isError,
  NotAllowedError,
  NotFoundError,
  ResponseError,
} from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  entityPromotionsPath,
  GateEvaluation,
  Promotion,
  PromotionPreview,
} from '@gitops-promotions/plugin-promotions-common';
import { parsePromotableEntityRef } from '@gitops-promotions/plugin-promotions-node';
import type { z as zod } from 'zod/v3';

/**
 * The promotions backend's refusal as an error of its kind, with the backend's reason as the
 * message, so that the task log says why (and, for a 409, which promotion is open).
 */
async function refusal(response: Response): Promise<Error> {
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const reason: unknown = body?.error?.message;
  if (typeof reason !== 'string' || !reason) {
    return ResponseError.fromResponse(
      new Response(text, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      }),
    );
  }
  switch (response.status) {
    case 400:
      return new InputError(reason);
    case 401:
      return new AuthenticationError(reason);
    case 403:
      return new NotAllowedError(reason);
    case 404:
      return new NotFoundError(reason);
    case 409:
      return Object.assign(new ConflictError(reason), {
        ...(body.error.openPromotion
          ? { openPromotion: body.error.openPromotion }
          : {}),
      });
    default:
      return new Error(
        `The promotions backend answered ${response.status}: ${reason}`,
      );
  }
}

/** An environment's name, as the promotions API accepts it. */
const environmentName = (z: typeof zod) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
      message: 'must be a lowercase name such as staging',
    });

/**
 * The subject of a service that started the task, such as external:ci; undefined for a person.
 * A service's task reaches the promotions backend as plugin:scaffolder, since a plugin's token
 * on behalf of a service names the plugin, not the service.
 */
function serviceOf(credentials: BackstageCredentials): string | undefined {
  const principal = credentials.principal as {
    type?: unknown;
    subject?: unknown;
  };
  return principal?.type === 'service'
    ? String(principal.subject ?? 'unknown').slice(0, 200)
    : undefined;
}

const gatesOf = (gates: GateEvaluation[]) =>
  gates.map(({ gate, state, summary }) => ({ gate, state, summary }));

/**
 * `promotions:promote`: asks the promotions backend for a promotion of an entity's version to an
 * environment, as the task's initiator, so that the same permissions, policies and gates apply
 * as when they click Promote. A task a service started (CI through an external access token)
 * promotes as plugin:scaffolder, which an environment's policy must list in its services. In a
 * dry run it only previews what would be promoted.
 *
 * @public
 */
export function createPromoteAction(options: {
  discovery: DiscoveryService;
  auth: AuthService;
}) {
  const { discovery, auth } = options;

  /** Calls the promotions backend with a token on behalf of the task's initiator. */
  async function call<T>(
    credentials: BackstageCredentials,
    path: string,
    body: object,
  ): Promise<T> {
    const service = serviceOf(credentials);
    const [baseUrl, { token }] = await Promise.all([
      discovery.getBaseUrl('promotions'),
      auth
        .getPluginRequestToken({
          onBehalfOf: credentials,
          targetPluginId: 'promotions',
        })
        .catch(error => {
          if (service && isError(error) && error.name === 'NotAllowedError') {
            throw new NotAllowedError(
              `The task was started by the service ${service} with a token whose access restrictions the scaffolder cannot pass on to the promotions backend (${error.message}): start the task with an external access token without accessRestrictions, or let the service call the promotions API itself`,
            );
          }
          throw error;
        }),
    ]);
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      const error = await refusal(response);
      if (service && response.status === 403) {
        throw new NotAllowedError(
          `The task was started by the service ${service}, so it promotes as plugin:scaffolder, which may promote only to environments whose services list plugin:scaffolder: ${error.message}`,
        );
      }
      throw error;
    }
    // Parsed here, so that the arrays output to the template are this module's own.
    return JSON.parse(await response.text()) as T;
  }

  return createTemplateAction({
    id: 'promotions:promote',
    description:
      'Asks for a promotion of a version of a catalog entity to an environment of its GitOps pipeline, as the person who runs the task: the promotion opens a branch (and, on GitHub, a pull request) and waits for its gates',
    supportsDryRun: true,
    examples: [
      {
        description: 'Move dev to the image a build just pushed',
        example: `steps:
  - id: promote
    action: promotions:promote
    input:
      entityRef: component:default/shop
      to: dev
      version: \${{ parameters.version }}
`,
      },
      {
        description:
          'Promote what staging runs to production, replacing an open promotion',
        example: `steps:
  - id: promote
    action: promotions:promote
    input:
      entityRef: component:default/shop
      from: staging
      to: prod
      version: 1.4.2
      supersede: true
`,
      },
      {
        description: 'Promote a version no upstream runs yet, such as a hotfix',
        example: `steps:
  - id: promote
    action: promotions:promote
    input:
      entityRef: component:default/shop
      to: staging
      version: 1.4.3-hotfix.1
      allowUnknownVersion: true
`,
      },
    ],
    schema: {
      input: {
        entityRef: z =>
          z
            .string()
            .min(1)
            .max(400)
            .describe(
              'The catalog entity to promote, such as component:default/shop',
            ),
        to: z => environmentName(z).describe('The environment to promote to'),
        version: z =>
          z
            .string()
            .min(1)
            .max(200)
            .describe('The version to promote: an image tag or digest'),
        from: z =>
          environmentName(z)
            .optional()
            .describe(
              'The upstream environment the version comes from; any that runs it when left out',
            ),
        allowUnknownVersion: z =>
          z
            .boolean()
            .optional()
            .describe('Promote a version no upstream environment runs'),
        supersede: z =>
          z
            .boolean()
            .optional()
            .describe(
              'Close the open promotion to the environment and open this one',
            ),
      },
      output: {
        id: z =>
          z
            .string()
            .optional()
            .describe('The promotion’s id; absent in a dry run'),
        state: z =>
          z
            .string()
            .describe(
              'The promotion’s state (open, merged, …), or preview in a dry run',
            ),
        version: z => z.string().describe('The version promoted'),
        previousVersion: z =>
          z.string().nullable().describe('What the environment ran before'),
        pullRequestUrl: z =>
          z
            .string()
            .nullable()
            .describe('The pull request of the promotion, where there is one'),
        gates: z =>
          z
            .array(
              z.object({
                gate: z.string(),
                state: z.string(),
                summary: z.string(),
              }),
            )
            .describe('Each gate and where it stands'),
      },
    },
    async handler(ctx) {
      const { to, version, from, allowUnknownVersion, supersede } = ctx.input;
      const entity = parsePromotableEntityRef(ctx.input.entityRef);
      const entityRef = stringifyEntityRef(entity);
      const path = `${entityPromotionsPath(entity)}/promotions`;
      const credentials = await ctx.getInitiatorCredentials();
      const request = {
        to,
        version,
        ...(from !== undefined ? { from } : {}),
        ...(allowUnknownVersion !== undefined ? { allowUnknownVersion } : {}),
      };

      if (ctx.isDryRun) {
        const preview = await call<PromotionPreview>(
          credentials,
          `${path}/preview`,
          request,
        );
        ctx.logger.info(
          `Dry run: would ask to promote ${entityRef} to ${to}: ${
            preview.previousVersion ?? 'nothing'
          } → ${preview.version}, from ${
            preview.from.join(', ') || 'no upstream'
          }, on ${preview.baseCommit.slice(0, 12)}`,
        );
        for (const gate of preview.gates) {
          ctx.logger.info(`Gate ${gate.gate}: ${gate.state}, ${gate.summary}`);
        }
        ctx.output('state', 'preview');
        ctx.output('version', preview.version);
        ctx.output('previousVersion', preview.previousVersion);
        ctx.output('pullRequestUrl', null);
        ctx.output('gates', gatesOf(preview.gates));
        return;
      }

      // A task resumed after a crash gets the promotion it asked for, not a second request.
      const promotion = await ctx.checkpoint({
        key: `promotions:promote:${entityRef}:${to}`,
        fn: async () => {
          const created = await call<Promotion>(credentials, path, {
            ...request,
            ...(supersede !== undefined ? { supersede } : {}),
          });
          return {
            id: created.id,
            state: created.state,
            version: created.version,
            previousVersion: created.previousVersion,
            pullRequestUrl: created.pullRequest?.url || null,
            gates: gatesOf(created.gates),
          };
        },
      });
      ctx.logger.info(
        `Asked to promote ${entityRef} to ${to}: ${
          promotion.previousVersion ?? 'nothing'
        } → ${promotion.version}, promotion ${promotion.id} is ${
          promotion.state
        }${promotion.pullRequestUrl ? ` (${promotion.pullRequestUrl})` : ''}`,
      );
      ctx.output('id', promotion.id);
      ctx.output('state', promotion.state);
      ctx.output('version', promotion.version);
      ctx.output('previousVersion', promotion.previousVersion);
      ctx.output('pullRequestUrl', promotion.pullRequestUrl);
      ctx.output('gates', promotion.gates);
    },
  });
}
