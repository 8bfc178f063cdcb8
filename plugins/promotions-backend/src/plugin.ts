import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import {
  actionsRegistryServiceRef,
  metricsServiceRef,
} from '@backstage/backend-plugin-api/alpha';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { Handler } from 'express';
import { parseEntityRef } from '@backstage/catalog-model';
import { readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds } from '@backstage/types';
import {
  promotionsEnvironmentPermissions,
  promotionsPermissions,
} from '@gitops-promotions/plugin-promotions-common';
import {
  ArgoCdLiveStateSource,
  FluxLiveStateSource,
  GitOpsRepositoryProvider,
  gitRepositoryProvider,
  githubRepositoryProvider,
  LiveStateSource,
  PromotionGate,
  promotionsGatesExtensionPoint,
  promotionsLiveStateExtensionPoint,
  promotionsRepositoriesServiceRef,
  promotionsRepositoryProvidersExtensionPoint,
  PromotionsRepositoryProvidersExtensionPoint,
  promotionsEnvironmentResourceRef,
  promotionsEnvironmentRules,
  promotionsResolverServiceRef,
} from '@gitops-promotions/plugin-promotions-node';
import { registerPromotionsActions } from './actions';
import { FiguresService } from './figures/FiguresService';
import { createFiguresRouter } from './figures/router';
import { GithubWebhookListener } from './events/GithubWebhookListener';
import { WebhookDeliveries } from './events/WebhookDeliveries';
import { countGateFailures, PromotionsMetrics } from './metrics';
import { followLiveStates } from './live/followLiveStates';
import { createRouter } from './router';
import { EntityVisibility } from './service/EntityVisibility';
import { databaseUnavailable } from './service/databaseUnavailable';
import { FleetStore } from './fleet/FleetStore';
import { PromotionsService } from './service/PromotionsService';
import { NotifyingWorkflowStore } from './notifications/NotifyingWorkflowStore';
import { PromotionNotifier } from './notifications/PromotionNotifier';
import { EntitySignals } from './signals/EntitySignals';
import { PromotionsStore } from './state/PromotionsStore';
import { RefreshRunner } from './state/RefreshRunner';
import { secretProtection } from './state/secrets';
import { RepositoryRefresher } from './state/RepositoryRefresher';
import { checkGateKeys, checkModuleGate } from './workflow/gates';
import { PromotionsWorkflow } from './workflow/PromotionsWorkflow';
import { OPEN_STATES } from './workflow/WorkflowStore';
import { createWorkflowRouter } from './workflow/router';
import { createInboxRouter } from './workflow/inboxRouter';
import { PromotionsInbox } from './workflow/PromotionsInbox';
import { WorkflowStore } from './workflow/WorkflowStore';
import { GroupStore } from './workflow/groups/GroupStore';
import { PromotionGroups } from './workflow/groups/PromotionGroups';
import { createPromotionGroupsRouter } from './workflow/groups/router';

/** The scheduled task that refreshes one repository. */
export const refreshTaskId = (repositoryId: string) =>
  `promotions-refresh:${repositoryId}`;

/**
 * The GitOps Promotions backend plugin.
 *
 * @public
 */
export const promotionsPlugin = createBackendPlugin({
  pluginId: 'promotions',
  register(env) {
    const providers: GitOpsRepositoryProvider[] = [];
    const liveStateSources: LiveStateSource[] = [];
    const gates: PromotionGate[] = [];
    const providersExtension: PromotionsRepositoryProvidersExtensionPoint = {
      addProvider: (...added) => providers.push(...added),
    };
    // The built-in providers arrive the way a module's do, so that there is one way in.
    providersExtension.addProvider(
      gitRepositoryProvider,
      githubRepositoryProvider,
    );
    env.registerExtensionPoint(
      promotionsRepositoryProvidersExtensionPoint,
      providersExtension,
    );
    env.registerExtensionPoint(promotionsLiveStateExtensionPoint, {
      addLiveStateSource: (...added) => liveStateSources.push(...added),
    });
    env.registerExtensionPoint(promotionsGatesExtensionPoint, {
      addGate: (...added) => {
        for (const gate of added) {
          checkModuleGate(gate, gates);
          gates.push(gate);
        }
      },
    });

    env.registerInit({
      deps: {
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        catalog: catalogServiceRef,
        events: eventsServiceRef,
        signals: signalsServiceRef,
        notifications: notificationService,
        repositories: promotionsRepositoriesServiceRef,
        resolver: promotionsResolverServiceRef,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        userInfo: coreServices.userInfo,
        rootConfig: coreServices.rootConfig,
        lifecycle: coreServices.lifecycle,
        actionsRegistry: actionsRegistryServiceRef,
        metricsService: metricsServiceRef,
      },
      async init({
        logger,
        database,
        scheduler,
        httpRouter,
        httpAuth,
        auth,
        catalog,
        events,
        signals,
        notifications,
        repositories,
        resolver,
        permissions,
        permissionsRegistry,
        auditor,
        userInfo,
        rootConfig,
        lifecycle,
        actionsRegistry,
        metricsService,
      }) {
        permissionsRegistry.addPermissions(promotionsPermissions);
        for (const provider of providers) repositories.addProvider(provider);
        const { config } = repositories;
        // Modules have registered their providers by now: a repository nobody reads is a mistake.
        for (const repository of config.repositories.values()) {
          if (!repositories.providerTypes().includes(repository.provider)) {
            throw new Error(
              `promotions.repositories[${
                repository.id
              }]: no installed module provides "${
                repository.provider
              }" (installed: ${repositories.providerTypes().join(', ')})`,
            );
          }
        }
        // Modules have added their gates by now: a key no gate has is a mistake, never ignored.
        checkGateKeys(config.pipelines, gates);
        const store = await PromotionsStore.create(database);
        const metrics = new PromotionsMetrics({
          metrics: metricsService,
          db: store.client,
          logger,
        });
        repositories.observeRequests?.((repositoryId, request) =>
          metrics.requested(repositoryId, request),
        );
        const secrets = secretProtection(
          await store.secretKey(),
          config.drift.secretKeys,
        );
        // The built-in sources of `promotions.argocd` and Backstage's `kubernetes` clusters, then modules'.
        liveStateSources.unshift(
          ...[
            ArgoCdLiveStateSource.fromConfig(rootConfig, { logger }),
            FluxLiveStateSource.fromConfig(rootConfig, { logger }),
          ].flatMap(source => (source ? [source] : [])),
        );
        const refresher = new RepositoryRefresher({
          config,
          repositories,
          resolver,
          store,
          secrets,
          catalog,
          auth,
          logger,
          liveStateSources,
          liveStateTimeoutMs: rootConfig.has('promotions.live.timeout')
            ? durationToMilliseconds(
                readDurationFromConfig(rootConfig, {
                  key: 'promotions.live.timeout',
                }),
              )
            : undefined,
        });
        if (liveStateSources.length > 0) {
          logger.info(
            `Reading live state from ${liveStateSources
              .map(source => source.id)
              .join(', ')} for every entity at each repository refresh`,
          );
        }

        const entitySignals = new EntitySignals({ signals, logger });
        const runner = new RefreshRunner({
          refresher,
          store,
          logger,
          onFailed: repositoryId => metrics.refreshFailed(repositoryId),
          onRefreshed: ({ changedEntities = [], ...summary }) => {
            metrics.refreshed(summary);
            entitySignals.changed(changedEntities, 'state');
            logger.info(
              `Refreshed repository ${summary.repositoryId} at ${
                summary.revision ?? 'no revision'
              }: ${summary.entities} entities, ${
                summary.environments
              } environments, ${summary.resolved} resolved again, ${
                summary.recomputed
              } entities recomputed, ${summary.failed} failed, in ${
                summary.durationMs
              } ms`,
              { ...summary, readAt: summary.readAt.toISOString() },
            );
          },
        });
        const stopFollowing = followLiveStates({
          sources: liveStateSources,
          repositoryOf: async entityRef =>
            (await store.get(entityRef))?.repositoryId,
          repositories: [...config.repositories.keys()],
          refresh: repositoryId => runner.request(repositoryId),
          logger,
        });
        lifecycle.addShutdownHook(stopFollowing);
        for (const repositoryId of config.repositories.keys()) {
          await scheduler.scheduleTask({
            id: refreshTaskId(repositoryId),
            scope: 'global',
            ...config.refresh,
            fn: async (signal?: AbortSignal) => {
              try {
                await runner.run(repositoryId, signal);
              } catch (error) {
                // Said with the repository, whether the refresh failed or ran out of time.
                logger.warn(
                  `The refresh of repository ${repositoryId} failed: ${error}`,
                );
                throw error;
              }
            },
          });
        }

        const visibility = new EntityVisibility({
          permissions,
          catalog,
          logger,
        });
        const appBaseUrl = (
          rootConfig.getOptionalString('app.baseUrl') ?? ''
        ).replace(/\/+$/, '');
        const entityUrl = (entityRef: string) => {
          const { kind, namespace, name } = parseEntityRef(entityRef);
          return `${appBaseUrl}/catalog/${[namespace, kind.toLowerCase(), name]
            .map(encodeURIComponent)
            .join('/')}/promotions`;
        };
        const notifier = new PromotionNotifier({
          db: store.client,
          notifications,
          config,
          logger,
          entityOf: async entityRef => (await store.get(entityRef))?.entity,
          entityUrl,
        });
        const workflowStore = new NotifyingWorkflowStore(
          store.client,
          entitySignals,
          notifier,
        );
        const service = new PromotionsService({
          config,
          store,
          visibility,
          requestRefresh: repositoryId => runner.request(repositoryId),
          workflowDrift: entityRef => notifier.staleDrift(entityRef),
        });
        const groupStore = new GroupStore(store.client);
        let workflow: PromotionsWorkflow | undefined = undefined;
        permissionsRegistry.addResourceType({
          resourceRef: promotionsEnvironmentResourceRef,
          permissions: promotionsEnvironmentPermissions,
          rules: Object.values(promotionsEnvironmentRules),
          getResources: refs => workflow!.environmentResources(refs),
        });
        workflow = new PromotionsWorkflow({
          config,
          store,
          workflow: countGateFailures(workflowStore, metrics),
          repositories,
          resolver,
          visibility,
          permissions,
          permissionsRegistry,
          userInfo,
          auth,
          catalog,
          auditor,
          logger,
          gates,
          groups: groupStore,
          secrets,
          requestRefresh: repositoryId => runner.request(repositoryId),
          entityUrl,
        });
        const following = workflow;
        const promotionGroups = new PromotionGroups({
          workflow,
          groups: groupStore,
          store,
          promotions: workflowStore,
          visibility,
          catalog,
          config,
          auditor,
          logger,
        });
        const deliveries = new WebhookDeliveries(store.client);
        await new GithubWebhookListener({
          repositories: () => config.repositories.values(),
          logger,
          requestRefresh: repositoryId => runner.request(repositoryId),
          unfinished: repositoryIds => following.unfinished(repositoryIds),
          sync: promotionId => following.syncNow(promotionId),
          takeDelivery: deliveryId => deliveries.take(deliveryId),
        }).subscribe(events);
        await scheduler.scheduleTask({
          id: 'promotions-workflow-sync',
          scope: 'global',
          frequency: { seconds: 30 },
          timeout: { minutes: 5 },
          initialDelay: { seconds: 5 },
          fn: async (signal?: AbortSignal) => {
            await following.sync({ signal });
            await promotionGroups.recover({ signal });
            await notifier.staleCheck(
              await workflowStore.list({ states: OPEN_STATES }),
            );
          },
        });
        httpRouter.use(
          await createRouter({
            service,
            httpAuth,
            permissions,
            config,
            refresh: repositoryId => runner.run(repositoryId),
            recordScaffold: async scaffold => {
              await store.recordScaffold(scaffold);
              runner.request(scaffold.repository);
            },
            scaffolds: () => store.scaffolds(),
            fleet: new FleetStore({ db: store.client, visibility }),
          }),
        );
        httpRouter.use(createWorkflowRouter({ workflow, httpAuth }));
        httpRouter.use(
          createPromotionGroupsRouter({
            groups: promotionGroups,
            httpAuth,
          }),
        );
        httpRouter.use(
          createFiguresRouter({
            figures: new FiguresService({ config, store, visibility, catalog }),
            httpAuth,
          }),
        );
        httpRouter.use(
          createInboxRouter({
            httpAuth,
            inbox: new PromotionsInbox({
              db: store.client,
              workflow: new WorkflowStore(store.client),
              store,
              visibility,
              permissions,
              permissionsRegistry,
              userInfo,
              resources: refs => following.environmentResources(refs),
            }),
          }),
        );
        // After every route, so that any of them losing the database answers 503.
        httpRouter.use(databaseUnavailable(logger) as unknown as Handler);
        registerPromotionsActions({ actionsRegistry, service, workflow });
      },
    });
  },
});
