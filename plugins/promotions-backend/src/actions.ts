import { ActionsRegistryService } from '@backstage/backend-plugin-api/alpha';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  EntityPromotions,
  Promotion,
} from '@gitops-promotions/plugin-promotions-common';
import { parsePromotableEntityRef } from '@gitops-promotions/plugin-promotions-node';
import { PromotionsService } from './service/PromotionsService';
import { PromotionsWorkflow } from './workflow/PromotionsWorkflow';

type Zod = Parameters<
  Parameters<ActionsRegistryService['register']>[0]['schema']['input']
>[0];

const entityRefInput = (z: Zod) =>
  z
    .string()
    .min(1)
    .max(400)
    .describe(
      'The catalog entity, such as component:default/shop (kind and namespace default to component and default)',
    );
/** An environment's name, as the REST API accepts it. */
const environmentName = (z: Zod) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, {
      message: 'must be a lowercase name such as staging',
    });

const gatesOutput = (z: Zod) =>
  z.array(
    z.object({
      gate: z.string(),
      state: z.enum(['passed', 'pending', 'failed']),
      summary: z.string(),
      until: z.string().optional(),
    }),
  );

const promotionOutput = (z: Zod) =>
  z.object({
    id: z.string(),
    entityRef: z.string(),
    environment: z.string(),
    version: z.string(),
    previousVersion: z.string().nullable(),
    kind: z.enum(['promotion', 'rollback']),
    state: z.string(),
    requestedBy: z.string(),
    requestedAt: z.string(),
    pullRequestUrl: z.string().nullable(),
    gates: gatesOutput(z),
  });

/** What an agent is told of a promotion: enough to follow it, not its whole record. */
function promotionSummary(promotion: Promotion) {
  return {
    id: promotion.id,
    entityRef: promotion.entityRef,
    environment: promotion.environment,
    version: promotion.version,
    previousVersion: promotion.previousVersion,
    kind: promotion.kind,
    state: promotion.state,
    requestedBy: promotion.requestedBy,
    requestedAt: promotion.requestedAt,
    pullRequestUrl: promotion.pullRequest?.url || null,
    gates: promotion.gates.map(({ gate, state, summary, until }) => ({
      gate,
      state,
      summary,
      ...(until ? { until } : {}),
    })),
  };
}

const OPEN_STATES = new Set(['opening', 'open', 'merging']);

/**
 * The promotions actions of Backstage's actions registry, for agents: read an entity's
 * promotions and ask for one. Each runs with the caller's credentials through the same service
 * and workflow methods as the REST API, so the same permissions and checks decide.
 */
export function registerPromotionsActions(options: {
  actionsRegistry: ActionsRegistryService;
  service: PromotionsService;
  workflow: PromotionsWorkflow;
}) {
  const { actionsRegistry, service, workflow } = options;

  actionsRegistry.register({
    name: 'get-promotions',
    title: 'Get the promotions of a service',
    description:
      'The environments of a catalog entity in promotion order, with the version each deploys, its drift from its upstreams, the open promotions with their gates, and what the caller may do in each environment.',
    attributes: { readOnly: true, idempotent: true, destructive: false },
    schema: {
      input: z => z.object({ entityRef: entityRefInput(z) }),
      output: z =>
        z.object({
          entityRef: z.string(),
          asOf: z
            .string()
            .nullable()
            .describe('When the GitOps repository was last read'),
          pipeline: z.string(),
          error: z
            .string()
            .optional()
            .describe('Why the last read failed; the state shown is older'),
          environments: z.array(
            z.object({
              name: z.string(),
              requires: z.array(z.string()),
              version: z.string().nullable(),
              path: z.string(),
              drift: z.array(
                z.object({ kind: z.string(), summary: z.string() }),
              ),
              error: z.string().optional(),
              notPromotable: z.string().optional(),
            }),
          ),
          openPromotions: z.array(promotionOutput(z)),
          allowedActions: z
            .record(z.array(z.string()))
            .describe('Per environment, what the caller may do there'),
        }),
    },
    examples: [
      {
        title: 'Where does shop stand?',
        input: { entityRef: 'component:default/shop' },
      },
    ],
    action: async ({ input, credentials }) => {
      const ref = parsePromotableEntityRef(input.entityRef);
      const entityRef = stringifyEntityRef(ref);
      const state = JSON.parse(
        await service.getEntityPromotions(ref, credentials),
      ) as EntityPromotions;
      const { promotions, actions } = await workflow.list(
        entityRef,
        credentials,
      );
      return {
        output: {
          entityRef: state.entityRef,
          asOf: state.asOf,
          pipeline: state.pipeline,
          ...(state.error ? { error: state.error.message } : {}),
          environments: state.environments.map(environment => ({
            name: environment.name,
            requires: environment.requires,
            version: environment.desired.version,
            path: environment.desired.path,
            drift: environment.drift.map(({ kind, summary }) => ({
              kind,
              summary,
            })),
            ...(environment.error ? { error: environment.error } : {}),
            ...(environment.notPromotable
              ? { notPromotable: environment.notPromotable }
              : {}),
          })),
          openPromotions: promotions
            .filter(p => OPEN_STATES.has(p.state))
            .map(promotionSummary),
          allowedActions: actions,
        },
      };
    },
  });

  actionsRegistry.register({
    name: 'request-promotion',
    title: 'Request a promotion',
    description:
      'Asks for a version of a catalog entity to be promoted to an environment: the version its upstream runs unless one is named. Opens the promotion (a branch and, on GitHub, a pull request) for its gates and approvers; it never merges. Refused when the caller may not promote there, the version is not one an upstream runs (unless allowUnknownVersion), or a promotion to that environment is already open (unless supersede).',
    attributes: { readOnly: false, destructive: false, idempotent: false },
    schema: {
      input: z =>
        z
          .object({
            entityRef: entityRefInput(z),
            to: environmentName(z).describe('The environment to promote to'),
            version: z
              .string()
              .min(1)
              .max(200)
              .optional()
              .describe(
                'The version (image tag or digest); the upstream’s when left out',
              ),
            from: environmentName(z)
              .optional()
              .describe('The upstream environment to take the version from'),
            allowUnknownVersion: z
              .boolean()
              .optional()
              .describe('Promote a version no upstream runs'),
            supersede: z
              .boolean()
              .optional()
              .describe('Replace the open promotion to the environment'),
          })
          .strict(),
      output: z => z.object({ promotion: promotionOutput(z) }),
    },
    examples: [
      {
        title: 'Promote what dev runs to staging',
        input: { entityRef: 'component:default/shop', to: 'staging' },
      },
      {
        title: 'Promote a named version to staging, replacing an open one',
        input: {
          entityRef: 'component:default/shop',
          to: 'staging',
          version: '1.2.0',
          supersede: true,
        },
      },
    ],
    action: async ({ input, credentials }) => {
      const { entityRef, ...request } = input;
      const promotion = await workflow.request(
        stringifyEntityRef(parsePromotableEntityRef(entityRef)),
        credentials,
        request,
      );
      return { output: { promotion: promotionSummary(promotion) } };
    },
  });
}
