import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { RefreshSummary } from './state/RepositoryRefresher';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import {
  isBranchName,
  pathTemplateProblem,
  PROMOTIONS_API_ROUTES,
  promotionsRepositoryRefreshPermission,
  Scaffold,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsService, Timings } from './service/PromotionsService';
import { createFleetRouter } from './fleet/fleetRouter';
import { FleetStore } from './fleet/FleetStore';

const entityParams = z.object({
  kind: z.string().min(1).max(63),
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(253),
});

/** The REST API: parses requests and hands them to the service. */
export async function createRouter(options: {
  service: PromotionsService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  config: PromotionsConfig;
  /** Refreshes a repository now; undefined when a refresh of it is already running. */
  refresh: (repositoryId: string) => Promise<RefreshSummary | undefined>;
  recordScaffold: (scaffold: {
    entityRef: string;
    repository: string;
    branch: string;
    path: string;
    pullRequestUrl: string | null;
  }) => Promise<void>;
  scaffolds: () => Promise<Scaffold[]>;
  /** Serves the fleet page, where the plugin has one. */
  fleet?: FleetStore;
}): Promise<express.Router> {
  const { service, httpAuth, permissions, config } = options;
  const router = Router();
  // Parses every JSON body of the plugin first, so its limit is the one the workflow routes set.
  router.use(express.json({ limit: '64kb' }));
  if (options.fleet) {
    router.use(createFleetRouter({ fleet: options.fleet, httpAuth }));
  }

  router.get(PROMOTIONS_API_ROUTES.entity, async (req, res) => {
    const started = performance.now();
    const timings: Timings = {};
    // Every answer, refusals and errors too, says what it spent its time on.
    const setServerTiming = () =>
      res.setHeader(
        'Server-Timing',
        [
          ...Object.entries(timings).map(
            ([name, ms]) => `${name};dur=${ms.toFixed(1)}`,
          ),
          `total;dur=${(performance.now() - started).toFixed(1)}`,
        ].join(', '),
      );
    try {
      const parsed = entityParams.safeParse(req.params);
      if (!parsed.success) {
        throw new InputError(
          `Invalid entity reference: ${parsed.error.issues
            .map(i => i.message)
            .join(', ')}`,
        );
      }
      const credentials = await httpAuth.credentials(req);
      const json = await service.getEntityPromotions(
        parsed.data,
        credentials,
        timings,
      );
      setServerTiming();
      res.type('application/json').send(json);
    } catch (error) {
      setServerTiming();
      throw error;
    }
  });

  // CI after a push, or an operator: read a repository now rather than at the next tick.
  router.post(PROMOTIONS_API_ROUTES.repositoryRefresh, async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const [decision] = await permissions.authorize(
      [{ permission: promotionsRepositoryRefreshPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError('You may not refresh promotions repositories');
    }
    const { id } = req.params;
    if (!config.repositories.has(id)) {
      throw new NotFoundError(`"${id}" is not a configured repository`);
    }
    const summary = await options.refresh(id);
    res.status(summary ? 200 : 202).json(
      summary
        ? {
            repository: id,
            revision: summary.revision,
            resolved: summary.resolved,
            recomputed: summary.recomputed,
            failed: summary.failed,
            durationMs: summary.durationMs,
          }
        : { repository: id, queued: true },
    );
  });

  const scaffoldBody = z
    .object({
      entityRef: z.string().min(1).max(255),
      repository: z.string().min(1).max(255),
      branch: z.string().min(1).max(200),
      path: z.string().min(1).max(1024),
      // Shown as a link: only a web address, never javascript: or data:.
      pullRequestUrl: z
        .string()
        .max(2048)
        .url()
        .refine(url => /^https?:\/\//i.test(url), 'must be an http(s) URL')
        .nullable()
        .default(null),
    })
    .strict();

  // The scaffolder records a service it published; only the scaffolder itself may.
  router.post(PROMOTIONS_API_ROUTES.scaffolds, async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['service'] });
    if (credentials.principal.subject !== 'plugin:scaffolder') {
      throw new NotAllowedError(
        'Only the scaffolder records published layouts',
      );
    }
    const parsed = scaffoldBody.safeParse(req.body);
    if (!parsed.success) {
      throw new InputError(
        `Invalid scaffold: ${parsed.error.issues
          .map(i => `${i.path.join('.') || 'body'}: ${i.message}`)
          .join(', ')}`,
      );
    }
    const scaffold = parsed.data;
    const repository = config.repositories.get(scaffold.repository);
    if (!repository) {
      throw new InputError(
        `"${scaffold.repository}" is not a configured repository`,
      );
    }
    if (
      !isBranchName(scaffold.branch) ||
      pathTemplateProblem(`${scaffold.path}/{env}`)
    ) {
      throw new InputError('Invalid scaffold: bad branch or path');
    }
    await options.recordScaffold(scaffold);
    res.status(201).json(scaffold);
  });

  // Backend plugins (the catalog module) read the published layouts.
  router.get(PROMOTIONS_API_ROUTES.scaffolds, async (req, res) => {
    await httpAuth.credentials(req, { allow: ['service'] });
    res.json({ items: await options.scaffolds() });
  });

  return router;
}
