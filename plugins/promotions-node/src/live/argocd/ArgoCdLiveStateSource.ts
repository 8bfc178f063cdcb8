import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  ANNOTATION_ARGOCD_APP_NAME,
  ANNOTATION_ARGOCD_APP_NAMESPACE,
  ANNOTATION_ARGOCD_APP_SELECTOR,
  ANNOTATION_ARGOCD_INSTANCE_NAME,
  LiveApplication,
  LiveRollout,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';
import {
  EnvironmentMappingRule,
  mapToEnvironment,
} from '../environmentMapping';
import {
  LabelRequirement,
  matchesLabels,
  parseLabelSelector,
} from '../labelSelector';
import { ArgoCdInstanceConfig, readLiveStateConfig } from '../liveStateConfig';
import { LiveStateRequest, LiveStateSource } from '../types';
import { ArgoCdClient } from './ArgoCdClient';
import { rolloutsOf, rolloutState, toLiveApplication } from './liveApplication';
import { ArgoCdApplication, ArgoCdWatchEvent } from './types';

/**
 * Options of the Argo CD live-state source.
 *
 * @public
 */
export interface ArgoCdLiveStateSourceOptions {
  instances: ArgoCdInstanceConfig[];
  mapping: EnvironmentMappingRule[];
  logger: LoggerService;
  /** Follow each instance's application stream (true by default); without it, every read polls. */
  stream?: boolean;
  /** How long to wait before reconnecting a dropped stream: doubled each time up to `maxMs`. */
  reconnect?: { initialMs: number; maxMs: number };
  /** A stream silent this long is reconnected; 60 s by default (Argo CD keeps it alive every 15 s). */
  streamIdleTimeoutMs?: number;
}

/** How long a result kept up to date by the stream is trusted before it is listed again. */
const STREAM_TRUST_MS = 10 * 60_000;

/** One question an entity's annotations ask an instance: a label selector, or one name. */
interface Query {
  key: string;
  selector?: { text: string; requirements: LabelRequirement[] };
  name?: string;
  appNamespace?: string;
  /** Entities asking it. */
  users: Set<string>;
  /** The applications of the last answer, by namespace and name, kept current by the stream. */
  result?: Map<string, ArgoCdApplication>;
  /** When it was last answered. */
  fetchedAt?: number;
  /** Why the last attempt failed, until one succeeds. */
  error?: string;
  inFlight?: Promise<void>;
}

interface Instance {
  config: ArgoCdInstanceConfig;
  client: ArgoCdClient;
  queries: Map<string, Query>;
  rollouts: Map<string, { resourceVersion?: string; rollout: LiveRollout }>;
  /** When the stream last opened, while it is open. */
  streamOpenedAt?: number;
}

const appKey = (app: ArgoCdApplication) =>
  `${app.metadata.namespace ?? ''}/${app.metadata.name}`;

const errorMessage = (error: unknown) =>
  error instanceof Error ? error.message : String(error);

const newer = (a: ArgoCdApplication, b: ArgoCdApplication | undefined) =>
  !b ||
  Number(a.metadata.resourceVersion ?? 0) >=
    Number(b.metadata.resourceVersion ?? 0);

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>(resolve => {
    let timer: NodeJS.Timeout | undefined = undefined;
    const wake = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    timer = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });

/**
 * Live state from Argo CD, for entities annotated as the Argo CD plugins annotate them
 * (`argocd/app-name`, `argocd/app-selector`, `argocd/instance-name`, `argocd/app-namespace`).
 * Each instance is asked once per annotation (a selector, or a name) and the answers are kept:
 * while the instance's application stream is open, it keeps them current and reads cost no
 * request; while it is not, each read asks again (polling). Each application is mapped to an
 * environment by the first matching rule of `promotions.live.mapping`.
 *
 * @public
 */
export class ArgoCdLiveStateSource implements LiveStateSource {
  readonly id = 'argocd';
  private readonly instances: Map<string, Instance>;
  private readonly entityQueries = new Map<
    string,
    Array<{ instance: Instance; query: Query }>
  >();
  private readonly listeners = new Set<(entityRefs?: string[]) => void>();
  private following?: AbortController;

  /** The source of `promotions.argocd`, or undefined when no instance is configured. */
  static fromConfig(
    config: Config,
    options: { logger: LoggerService },
  ): ArgoCdLiveStateSource | undefined {
    const live = readLiveStateConfig(config);
    if (live.argocd.instances.length === 0) return undefined;
    return new ArgoCdLiveStateSource({
      instances: live.argocd.instances,
      mapping: live.mapping,
      stream: live.argocd.stream,
      logger: options.logger,
    });
  }

  constructor(private readonly options: ArgoCdLiveStateSourceOptions) {
    this.instances = new Map(
      options.instances.map(config => [
        config.name,
        {
          config,
          client: new ArgoCdClient(config),
          queries: new Map(),
          rollouts: new Map(),
        },
      ]),
    );
  }

  async read(request: LiveStateRequest): Promise<Map<string, LiveState>> {
    const { entity, environments, signal } = request;
    const entityRef = stringifyEntityRef(entity);
    const annotations = entity.metadata.annotations ?? {};
    const names = (annotations[ANNOTATION_ARGOCD_APP_NAME] ?? '')
      .split(',')
      .map(n => n.trim())
      .filter(Boolean);
    const selectorText = annotations[ANNOTATION_ARGOCD_APP_SELECTOR]?.trim();
    const appNamespace =
      annotations[ANNOTATION_ARGOCD_APP_NAMESPACE]?.trim() || undefined;
    const states = new Map<string, LiveState>();
    if (names.length === 0 && !selectorText) {
      this.forget(entityRef);
      return states;
    }
    const every = (state: Omit<LiveState, 'applications'>) => {
      for (const env of environments)
        states.set(env, { ...state, applications: [] });
      return states;
    };

    let selector: Query['selector'];
    if (selectorText) {
      try {
        selector = {
          text: selectorText,
          requirements: parseLabelSelector(selectorText),
        };
      } catch (error) {
        return every({
          reachable: true,
          asOf: null,
          error: `${ANNOTATION_ARGOCD_APP_SELECTOR} "${selectorText}": ${errorMessage(
            error,
          )}`,
        });
      }
    }
    const instanceNames = (annotations[ANNOTATION_ARGOCD_INSTANCE_NAME] ?? '')
      .split(',')
      .map(n => n.trim())
      .filter(Boolean);
    const unknown = instanceNames.filter(n => !this.instances.has(n));
    if (unknown.length > 0)
      return every({
        reachable: true,
        asOf: null,
        error: `${ANNOTATION_ARGOCD_INSTANCE_NAME} names ${unknown.join(
          ', ',
        )}, which is not a configured Argo CD instance (configured: ${[
          ...this.instances.keys(),
        ].join(', ')})`,
      });
    const instances = instanceNames.length
      ? instanceNames.map(n => this.instances.get(n)!)
      : [...this.instances.values()];

    const asked = this.register(entityRef, instances, {
      selector,
      names,
      appNamespace,
    });
    await Promise.all(
      asked.map(({ instance, query }) => this.answer(instance, query, signal)),
    );

    const now = Date.now();
    const errors: string[] = [];
    let asOf: number | undefined = now;
    const found: Array<{ instance: Instance; application: ArgoCdApplication }> =
      [];
    for (const { instance, query } of asked) {
      if (query.error) errors.push(query.error);
      const at = this.fresh(instance, query) ? now : query.fetchedAt;
      asOf =
        at === undefined || asOf === undefined ? undefined : Math.min(asOf, at);
      for (const application of query.result?.values() ?? []) {
        if (
          !found.some(
            f =>
              f.instance === instance &&
              appKey(f.application) === appKey(application),
          )
        )
          found.push({ instance, application });
      }
    }

    const byEnvironment = new Map<string, LiveApplication[]>();
    for (const { instance, application } of found) {
      const mapped = mapToEnvironment(
        {
          name: application.metadata.name,
          labels: application.metadata.labels,
          destinationNamespace: application.spec?.destination?.namespace,
        },
        {
          entityName: entity.metadata.name,
          environments,
          rules: this.options.mapping,
        },
      );
      if (!mapped) continue;
      const rollout = await this.rollout(instance, application, signal);
      const list = byEnvironment.get(mapped.environment) ?? [];
      list.push(
        toLiveApplication(application, {
          instance: instance.config.name,
          mapping: mapped.mapping,
          url: instance.client.applicationUrl(
            application.metadata.name,
            application.metadata.namespace,
          ),
          rollout,
        }),
      );
      byEnvironment.set(mapped.environment, list);
    }
    for (const env of environments) {
      states.set(env, {
        reachable: errors.length === 0,
        asOf: asOf === undefined ? null : new Date(asOf).toISOString(),
        applications: (byEnvironment.get(env) ?? []).sort((a, b) =>
          `${a.instance}/${a.namespace}/${a.name}`.localeCompare(
            `${b.instance}/${b.namespace}/${b.name}`,
          ),
        ),
        ...(errors.length ? { error: errors.join('; ') } : {}),
      });
    }
    return states;
  }

  /**
   * Follows every instance's application stream, reconnecting with backoff when it drops;
   * `onChange` hears which entities' applications changed (all of an instance's, after a
   * reconnect, since changes may have been missed meanwhile).
   */
  watch(onChange: (entityRefs?: string[]) => void): () => void {
    this.listeners.add(onChange);
    if (this.options.stream !== false && !this.following) {
      this.following = new AbortController();
      for (const instance of this.instances.values())
        this.follow(instance, this.following.signal);
    }
    return () => {
      this.listeners.delete(onChange);
      if (this.listeners.size === 0) {
        this.following?.abort();
        this.following = undefined;
        for (const instance of this.instances.values())
          instance.streamOpenedAt = undefined;
      }
    };
  }

  private async follow(instance: Instance, signal: AbortSignal) {
    const { initialMs, maxMs } = this.options.reconnect ?? {
      initialMs: 1000,
      maxMs: 30_000,
    };
    // Shared with the stream's callbacks: the backoff resets once a stream opens.
    const backoff = { wait: initialMs, dropped: false };
    while (!signal.aborted) {
      try {
        await instance.client.watch({
          signal,
          idleTimeoutMs: this.options.streamIdleTimeoutMs ?? 60_000,
          onOpen: () => {
            instance.streamOpenedAt = Date.now();
            backoff.wait = initialMs;
            if (backoff.dropped) {
              this.options.logger.info(
                `Following Argo CD instance ${instance.config.name} again`,
              );
              // What changed while the stream was down is read again.
              this.notify(this.usersOf(instance));
            }
          },
          onEvent: event => this.apply(instance, event),
        });
        if (!signal.aborted)
          this.options.logger.warn(
            `The application stream of Argo CD instance ${instance.config.name} ended; reconnecting`,
          );
      } catch (error) {
        if (!signal.aborted)
          this.options.logger.warn(
            `The application stream of Argo CD instance ${
              instance.config.name
            } failed: ${errorMessage(error)}; reconnecting in ${
              backoff.wait
            } ms`,
          );
      }
      instance.streamOpenedAt = undefined;
      backoff.dropped = true;
      if (signal.aborted) break;
      await sleep(backoff.wait, signal);
      backoff.wait = Math.min(backoff.wait * 2, maxMs);
    }
  }

  /** Brings a stream's change into every kept answer it belongs to, and says whose changed. */
  private apply(instance: Instance, event: ArgoCdWatchEvent) {
    const application = event.application;
    if (!application?.metadata?.name) return;
    const key = appKey(application);
    const changed = new Set<string>();
    for (const query of instance.queries.values()) {
      if (!query.result) continue;
      const before = query.result.get(key);
      const belongs =
        event.type !== 'DELETED' && this.matches(query, application);
      if (belongs) {
        if (!newer(application, before)) continue;
        if (
          before?.metadata.resourceVersion ===
          application.metadata.resourceVersion
        )
          continue;
        query.result.set(key, application);
      } else if (before) {
        query.result.delete(key);
      } else continue;
      query.users.forEach(user => changed.add(user));
    }
    if (changed.size > 0) this.notify([...changed]);
  }

  private matches(query: Query, application: ArgoCdApplication): boolean {
    const namespace = application.metadata.namespace;
    if (query.appNamespace && namespace !== query.appNamespace) return false;
    if (query.name) return application.metadata.name === query.name;
    return matchesLabels(
      query.selector!.requirements,
      application.metadata.labels,
    );
  }

  private notify(entityRefs: string[]) {
    if (entityRefs.length === 0) return;
    for (const listener of this.listeners) listener(entityRefs);
  }

  private usersOf(instance: Instance): string[] {
    const users = new Set<string>();
    for (const query of instance.queries.values())
      query.users.forEach(user => users.add(user));
    return [...users];
  }

  /** Records what an entity asks of which instances, and forgets what nobody asks any more. */
  private register(
    entityRef: string,
    instances: Instance[],
    ask: {
      selector?: Query['selector'];
      names: string[];
      appNamespace?: string;
    },
  ): Array<{ instance: Instance; query: Query }> {
    const previous = this.entityQueries.get(entityRef) ?? [];
    const asked: Array<{ instance: Instance; query: Query }> = [];
    for (const instance of instances) {
      const wanted: Array<Omit<Query, 'users'>> = [
        ...(ask.selector
          ? [
              {
                key: `selector\0${ask.appNamespace ?? ''}\0${
                  ask.selector.text
                }`,
                selector: ask.selector,
                appNamespace: ask.appNamespace,
              },
            ]
          : []),
        ...ask.names.map(name => ({
          key: `name\0${ask.appNamespace ?? ''}\0${name}`,
          name,
          appNamespace: ask.appNamespace,
        })),
      ];
      for (const want of wanted) {
        let query = instance.queries.get(want.key);
        if (!query) {
          query = { ...want, users: new Set() };
          instance.queries.set(want.key, query);
        }
        query.users.add(entityRef);
        asked.push({ instance, query });
      }
    }
    this.release(
      entityRef,
      previous.filter(old => !asked.some(a => a.query === old.query)),
    );
    this.entityQueries.set(entityRef, asked);
    return asked;
  }

  private forget(entityRef: string) {
    this.release(entityRef, this.entityQueries.get(entityRef) ?? []);
    this.entityQueries.delete(entityRef);
  }

  private release(
    entityRef: string,
    asked: Array<{ instance: Instance; query: Query }>,
  ) {
    for (const { instance, query } of asked) {
      query.users.delete(entityRef);
      if (query.users.size === 0) instance.queries.delete(query.key);
    }
  }

  /** Whether a kept answer is current: the stream was open before it was read, and still is. */
  private fresh(instance: Instance, query: Query): boolean {
    return (
      query.fetchedAt !== undefined &&
      !query.error &&
      instance.streamOpenedAt !== undefined &&
      query.fetchedAt >= instance.streamOpenedAt &&
      Date.now() - query.fetchedAt < STREAM_TRUST_MS
    );
  }

  /** Asks the instance unless the kept answer is current; concurrent readers share one request. */
  private async answer(instance: Instance, query: Query, signal?: AbortSignal) {
    if (this.fresh(instance, query)) return;
    query.inFlight ??= (async () => {
      const startedAt = Date.now();
      try {
        const applications = query.name
          ? [
              await instance.client.getApplication(
                query.name,
                { appNamespace: query.appNamespace },
                signal,
              ),
            ].filter((a): a is ArgoCdApplication => a !== undefined)
          : await instance.client.listApplications(
              {
                selector: query.selector!.text,
                appNamespace: query.appNamespace,
              },
              signal,
            );
        const result = new Map<string, ArgoCdApplication>();
        for (const application of applications) {
          // A change the stream brought while the list was on its way is newer than the list.
          const streamed = query.result?.get(appKey(application));
          result.set(
            appKey(application),
            streamed && !newer(application, streamed) ? streamed : application,
          );
        }
        query.result = result;
        query.fetchedAt = startedAt;
        query.error = undefined;
      } catch (error) {
        query.error = errorMessage(error);
        this.options.logger.warn(
          `Could not read live state from Argo CD instance ${instance.config.name}: ${query.error}`,
        );
      } finally {
        query.inFlight = undefined;
      }
    })();
    await query.inFlight;
  }

  /**
   * The Argo Rollout an application deploys, read from its resource tree and the Rollout's live
   * manifest once per change of the application; the last known one when they cannot be read.
   */
  private async rollout(
    instance: Instance,
    application: ArgoCdApplication,
    signal?: AbortSignal,
  ): Promise<LiveRollout | null> {
    const [resource] = rolloutsOf(application);
    const key = appKey(application);
    const cached = instance.rollouts.get(key);
    if (!resource) {
      instance.rollouts.delete(key);
      return null;
    }
    if (
      cached &&
      cached.resourceVersion === application.metadata.resourceVersion
    )
      return cached.rollout;
    try {
      const [tree, manifest] = await Promise.all([
        instance.client.resourceTree(application, signal),
        instance.client.resource(
          application,
          {
            group: resource.group,
            version: resource.version,
            kind: 'Rollout',
            namespace: resource.namespace,
            name: resource.name!,
          },
          signal,
        ),
      ]);
      const rollout = rolloutState(
        (manifest ?? {}) as Parameters<typeof rolloutState>[0],
        tree,
        resource.name!,
      );
      instance.rollouts.set(key, {
        resourceVersion: application.metadata.resourceVersion,
        rollout,
      });
      return rollout;
    } catch (error) {
      this.options.logger.warn(
        `Could not read Rollout ${resource.name} of ${
          application.metadata.name
        } from Argo CD instance ${instance.config.name}: ${errorMessage(
          error,
        )}`,
      );
      return cached?.rollout ?? null;
    }
  }
}
