import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import {
  ANNOTATION_FLUX_SELECTOR,
  LiveApplication,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';
import {
  EnvironmentMappingRule,
  mapToEnvironment,
} from '../environmentMapping';
import { requestJson } from '../http';
import { parseLabelSelector } from '../labelSelector';
import { FluxClusterConfig, readLiveStateConfig } from '../liveStateConfig';
import { LiveStateRequest, LiveStateSource } from '../types';

/**
 * Options of the Flux live-state source.
 *
 * @public
 */
export interface FluxLiveStateSourceOptions {
  clusters: FluxClusterConfig[];
  mapping: EnvironmentMappingRule[];
  logger: LoggerService;
  /** Answers this recent are shared by entities with the same selector; 5 s by default. */
  maxAgeMs?: number;
}

/** The parts of a Flux object's status the source reads. */
interface FluxObject {
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
  };
  spec?: { targetNamespace?: string; suspend?: boolean };
  status?: {
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    history?: Array<{ chartVersion?: string; appVersion?: string }>;
    conditions?: Array<{
      type?: string;
      status?: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
  };
}

const KINDS = [
  {
    kind: 'Kustomization',
    path: '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations',
  },
  { kind: 'HelmRelease', path: '/apis/helm.toolkit.fluxcd.io/v2/helmreleases' },
];
const PAGE = 500;
/** The most pages of one kind read: a server that always says there is more is not followed forever. */
export const MAX_PAGES = 100;

interface Answer {
  objects: FluxObject[];
  fetchedAt?: number;
  error?: string;
  inFlight?: Promise<void>;
}

const errorMessage = (error: unknown) =>
  error instanceof Error ? error.message : String(error);

/** A Git revision as Flux writes it (`main@sha1:<commit>`), reduced to the commit. */
const commitOf = (revision: string | undefined) =>
  revision ? revision.replace(/^.*@(sha1|sha256):/, '') : null;

/**
 * A Flux Kustomization or HelmRelease as the API shows it under an environment's `live`: its
 * Ready condition as health, the revision applied against the one last attempted as sync.
 */
export function fluxToLiveApplication(
  object: FluxObject,
  options: { cluster: string; kind: string; mapping: string },
): LiveApplication {
  const status = object.status ?? {};
  const ready = status.conditions?.find(c => c.type === 'Ready');
  const helm = options.kind === 'HelmRelease';
  const applied = helm
    ? status.history?.[0]?.chartVersion
    : status.lastAppliedRevision;
  const attempted = status.lastAttemptedRevision;
  let healthStatus: LiveApplication['healthStatus'] = 'Unknown';
  if (object.spec?.suspend) healthStatus = 'Suspended';
  else if (ready?.status === 'True') healthStatus = 'Healthy';
  else if (ready?.status === 'False') healthStatus = 'Degraded';
  else if (ready?.status === 'Unknown') healthStatus = 'Progressing';
  let syncStatus: LiveApplication['syncStatus'] = 'Unknown';
  if (applied && attempted)
    syncStatus =
      commitOf(applied) === commitOf(attempted) ? 'Synced' : 'OutOfSync';
  let phase = 'Succeeded';
  if (ready?.status === 'False') phase = 'Failed';
  else if (ready?.status !== 'True') phase = 'Running';
  return {
    source: 'flux',
    instance: options.cluster,
    kind: options.kind,
    name: object.metadata.name,
    namespace: object.metadata.namespace ?? '',
    mapping: options.mapping,
    url: null,
    syncStatus,
    outOfSyncSince: null,
    healthStatus,
    healthMessage: ready?.message ?? null,
    revision: helm ? applied ?? null : commitOf(applied),
    revisions: [],
    images: [],
    syncedAt:
      ready?.status === 'True' ? ready.lastTransitionTime ?? null : null,
    reconciledAt: ready?.lastTransitionTime ?? null,
    operation: ready
      ? {
          phase,
          message: ready.message ?? null,
          startedAt: null,
          finishedAt:
            phase === 'Running' ? null : ready.lastTransitionTime ?? null,
        }
      : null,
    rollout: null,
  };
}

/**
 * Live state from Flux: the `Kustomization` and `HelmRelease` objects an entity's
 * `gitops-promotions/flux-selector` selects, read from the Kubernetes API of the clusters of
 * Backstage's `kubernetes` config (type `config`, service account tokens), and mapped to
 * environments by the same rules as Argo CD applications. Flux has no stream to follow: each
 * read asks the clusters, sharing answers between entities with the same selector.
 *
 * @public
 */
export class FluxLiveStateSource implements LiveStateSource {
  readonly id = 'flux';
  private readonly answers = new Map<string, Answer>();

  /** The source of the `kubernetes` clusters, or undefined when none is configured. */
  static fromConfig(
    config: Config,
    options: { logger: LoggerService },
  ): FluxLiveStateSource | undefined {
    const live = readLiveStateConfig(config);
    if (live.flux.clusters.length === 0) return undefined;
    return new FluxLiveStateSource({
      clusters: live.flux.clusters,
      mapping: live.mapping,
      logger: options.logger,
    });
  }

  constructor(private readonly options: FluxLiveStateSourceOptions) {}

  async read(request: LiveStateRequest): Promise<Map<string, LiveState>> {
    const { entity, environments, signal } = request;
    const selector =
      entity.metadata.annotations?.[ANNOTATION_FLUX_SELECTOR]?.trim();
    const states = new Map<string, LiveState>();
    if (!selector) return states;
    try {
      parseLabelSelector(selector);
    } catch (error) {
      for (const env of environments)
        states.set(env, {
          reachable: true,
          asOf: null,
          applications: [],
          error: `${ANNOTATION_FLUX_SELECTOR} "${selector}": ${errorMessage(
            error,
          )}`,
        });
      return states;
    }

    const errors: string[] = [];
    let asOf: number | undefined = Date.now();
    const byEnvironment = new Map<string, LiveApplication[]>();
    for (const cluster of this.options.clusters) {
      for (const { kind, path } of KINDS) {
        const answer = await this.answer(cluster, kind, path, selector, signal);
        if (answer.error) errors.push(answer.error);
        asOf =
          answer.fetchedAt === undefined || asOf === undefined
            ? undefined
            : Math.min(asOf, answer.fetchedAt);
        for (const object of answer.objects) {
          const mapped = mapToEnvironment(
            {
              name: object.metadata.name,
              labels: object.metadata.labels,
              destinationNamespace:
                object.spec?.targetNamespace ?? object.metadata.namespace,
            },
            {
              entityName: entity.metadata.name,
              environments,
              rules: this.options.mapping,
            },
          );
          if (!mapped) continue;
          const list = byEnvironment.get(mapped.environment) ?? [];
          list.push(
            fluxToLiveApplication(object, {
              cluster: cluster.name,
              kind,
              mapping: mapped.mapping,
            }),
          );
          byEnvironment.set(mapped.environment, list);
        }
      }
    }
    for (const env of environments) {
      states.set(env, {
        reachable: errors.length === 0,
        asOf: asOf === undefined ? null : new Date(asOf).toISOString(),
        applications: byEnvironment.get(env) ?? [],
        ...(errors.length ? { error: [...new Set(errors)].join('; ') } : {}),
      });
    }
    return states;
  }

  private async answer(
    cluster: FluxClusterConfig,
    kind: string,
    path: string,
    selector: string,
    signal?: AbortSignal,
  ): Promise<Answer> {
    const key = `${cluster.name}\0${kind}\0${selector}`;
    let answer = this.answers.get(key);
    if (!answer) {
      answer = { objects: [] };
      this.answers.set(key, answer);
    }
    const kept = answer;
    if (
      kept.fetchedAt !== undefined &&
      !kept.error &&
      Date.now() - kept.fetchedAt < (this.options.maxAgeMs ?? 5000)
    )
      return kept;
    kept.inFlight ??= (async () => {
      const startedAt = Date.now();
      try {
        kept.objects = await this.list(cluster, path, selector, signal);
        kept.fetchedAt = startedAt;
        kept.error = undefined;
      } catch (error) {
        kept.error = `Kubernetes cluster ${
          cluster.name
        } (${kind}): ${errorMessage(error)}`;
        this.options.logger.warn(
          `Could not read Flux live state: ${kept.error}`,
        );
      } finally {
        kept.inFlight = undefined;
      }
    })();
    await kept.inFlight;
    return kept;
  }

  /** Every object of a kind the selector selects, in all namespaces, page by page. */
  private async list(
    cluster: FluxClusterConfig,
    path: string,
    selector: string,
    signal?: AbortSignal,
  ): Promise<FluxObject[]> {
    const objects: FluxObject[] = [];
    let next: string | undefined;
    let pages = 0;
    do {
      if (pages++ === MAX_PAGES)
        throw new Error(
          `listed more than ${MAX_PAGES} pages of ${PAGE} objects; read no further`,
        );
      const query = new URLSearchParams({
        labelSelector: selector,
        limit: String(PAGE),
      });
      if (next) query.set('continue', next);
      const answer = await requestJson(`${cluster.url}${path}?${query}`, {
        headers: cluster.token
          ? { authorization: `Bearer ${cluster.token}` }
          : {},
        timeoutMs: cluster.timeoutMs,
        signal,
        caData: cluster.caData,
        insecure: cluster.insecure,
      });
      const body = answer.body as
        | {
            items?: FluxObject[];
            metadata?: { continue?: string };
            message?: string;
          }
        | undefined;
      if (answer.status !== 200)
        throw new Error(
          `answered ${answer.status}${
            body?.message ? `: ${body.message}` : ''
          }`,
        );
      if (Array.isArray(body?.items)) objects.push(...body!.items);
      next =
        typeof body?.metadata?.continue === 'string'
          ? body.metadata.continue || undefined
          : undefined;
    } while (next);
    return objects;
  }
}
