import { commitFor, kubeTime, secondsBefore, uidFor } from './names';
import { applyOverrides, Overrides } from './overrides';
import {
  HealthStatus,
  HealthStatusCode,
  liveResources,
  ResourceNode,
  ResourceRef,
  worstHealth,
} from './resources';
import { RolloutSeed } from './rollouts';

/**
 * Argo CD Applications built from compact seeds: a test says what matters (sources, sync and
 * health, revisions, images, the last operation, a rollout) and gets the complete object Argo CD
 * would send, with spec, status, history and resources all consistent with each other.
 */

export type SyncStatusCode = 'Synced' | 'OutOfSync' | 'Unknown';
export type OperationPhase =
  | 'Running'
  | 'Terminating'
  | 'Failed'
  | 'Error'
  | 'Succeeded';

/** Where an application's manifests come from (`v1alpha1ApplicationSource`). */
export interface ApplicationSource {
  repoURL: string;
  path?: string;
  chart?: string;
  targetRevision?: string;
  /** Names this source so other sources can use its files as `$ref/…`. */
  ref?: string;
  name?: string;
  helm?: {
    valueFiles?: string[];
    parameters?: Array<{ name: string; value: string; forceString?: boolean }>;
    valuesObject?: Record<string, unknown>;
    values?: string;
    releaseName?: string;
  };
  kustomize?: {
    images?: string[];
    namePrefix?: string;
    nameSuffix?: string;
    namespace?: string;
    commonLabels?: Record<string, string>;
    commonAnnotations?: Record<string, string>;
  };
  directory?: { recurse?: boolean; exclude?: string; include?: string };
}

/** Where an application deploys to (`v1alpha1ApplicationDestination`). */
export interface ApplicationDestination {
  server?: string;
  name?: string;
  namespace?: string;
}

/** The last sync operation of an application. */
export interface OperationSeed {
  phase: OperationPhase;
  message?: string;
  startedAt?: string;
  /** When it ended; none while it runs. */
  finishedAt?: string;
  /** The revision synced; the desired revision by default. */
  revision?: string;
  revisions?: string[];
  /** Who started it: the automated sync policy by default. */
  username?: string;
}

/** An earlier deployment, for `status.history`. */
export interface DeploymentSeed {
  revision?: string;
  revisions?: string[];
  deployedAt: string;
}

/** What a test says about an application; everything else follows from it. */
export interface ApplicationSeed {
  name: string;
  /** The application's own namespace; `argocd` by default. */
  namespace?: string;
  /** `default` by default. */
  project?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** One source, or several in `sources`; a Git path of an example repository by default. */
  source?: ApplicationSource;
  sources?: ApplicationSource[];
  /** The in-cluster server and a namespace named after the application by default. */
  destination?: ApplicationDestination;
  /** Whether the sync policy is automated (prune and self-heal); true by default. */
  automated?: boolean;
  /** Synced when the desired revision is the deployed one, OutOfSync otherwise, by default. */
  sync?: SyncStatusCode;
  /** The application's health; by default the worst health of its resources. */
  health?: HealthStatusCode;
  healthMessage?: string;
  /** The deployed revision (single source): a commit id, or a chart version for a chart source. */
  revision?: string;
  /** The deployed revisions, one per source (multi-source). */
  revisions?: string[];
  /** The revision Git holds now (`status.sync.revision`); the deployed one by default. */
  desiredRevision?: string;
  desiredRevisions?: string[];
  /** When the deployed revision was synced. */
  syncedAt?: string;
  /** The last operation; a sync of the deployed revision that succeeded by default. */
  operation?: OperationSeed;
  /** Earlier deployments, oldest first; the deployed revision is added after them. */
  history?: DeploymentSeed[];
  /** The Deployment's (or Rollout's) name; the application's name by default. */
  workload?: string;
  replicas?: number;
  /** The Deployment's images, one container each. */
  images?: string[];
  /** Makes the workload an Argo Rollout instead of a Deployment. */
  rollout?: RolloutSeed;
  /** Fields that replace those built, at any depth, to give the object a shape seeds never build. */
  overrides?: Overrides;
}

/** An Argo CD Application as the API sends it (`v1alpha1Application`). */
export interface Application {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    generation: number;
    creationTimestamp: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
  };
  spec: {
    project: string;
    source?: ApplicationSource;
    sources?: ApplicationSource[];
    destination: ApplicationDestination;
    syncPolicy?: {
      automated?: { prune?: boolean; selfHeal?: boolean };
      syncOptions?: string[];
    };
  };
  status: {
    sync: {
      status: SyncStatusCode;
      revision?: string;
      revisions?: string[];
      comparedTo: {
        source?: ApplicationSource;
        sources?: ApplicationSource[];
        destination: ApplicationDestination;
      };
    };
    health: HealthStatus & { lastTransitionTime?: string };
    summary: { images?: string[] };
    operationState?: Record<string, unknown> & {
      phase: OperationPhase;
      message?: string;
      startedAt: string;
      finishedAt?: string;
    };
    history?: Array<{
      id: number;
      revision?: string;
      revisions?: string[];
      deployedAt: string;
      deployStartedAt?: string;
      source?: ApplicationSource;
      sources?: ApplicationSource[];
      initiatedBy?: { automated?: boolean; username?: string };
    }>;
    reconciledAt: string;
    resources: Array<ResourceRef & { status?: string; health?: HealthStatus }>;
    sourceType?: string;
    sourceTypes?: string[];
    controllerNamespace?: string;
  };
  operation?: Record<string, unknown>;
}

/** An application's resource tree (`v1alpha1ApplicationTree`). */
export interface ApplicationTree {
  nodes: ResourceNode[];
}

/** What the simulator keeps of an application between changes. */
export interface ApplicationMeta {
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  createdAt?: string;
  /** Since when the application has its current health. */
  healthSince?: string;
}

/** An application with its live resources. */
export interface BuiltApplication {
  application: Application;
  tree: ApplicationTree;
  /** Live manifests of the tree's nodes, by `resourceKey`. */
  manifests: Map<string, object>;
  /** Schema errors of live objects built for it (a Rollout's). */
  problems: string[];
}

export const DEFAULT_SERVER = 'https://kubernetes.default.svc';
export const CONTROL_PLANE_NAMESPACE = 'argocd';

const OPERATION_MESSAGES: Record<OperationPhase, string> = {
  Succeeded: 'successfully synced (all tasks run)',
  Running: 'one or more tasks are running',
  Terminating: 'operation is terminating',
  Failed: 'one or more synchronization tasks completed unsuccessfully',
  Error: 'rpc error: code = Unknown desc = Manifest generation error (cached)',
};

/** Argo CD's name for how a source is rendered. */
const sourceType = (source: ApplicationSource) => {
  if (source.chart || source.helm) return 'Helm';
  if (source.kustomize) return 'Kustomize';
  return source.path ? 'Kustomize' : 'Directory';
};

/** A chart source's revision is its version; a Git source's a commit id. */
const defaultRevision = (source: ApplicationSource, text: string) =>
  source.chart && source.targetRevision
    ? source.targetRevision
    : commitFor(text);

/** The full application for a seed; see `buildApplication` for its live resources too. */
export function application(
  seed: ApplicationSeed,
  meta: ApplicationMeta = {},
): Application {
  return buildApplication(seed, meta).application;
}

/** The full application for a seed, with its resource tree and live manifests. */
export function buildApplication(
  seed: ApplicationSeed,
  meta: ApplicationMeta = {},
): BuiltApplication {
  if (seed.source && seed.sources)
    throw new Error(
      `application ${seed.name}: give either source or sources, not both`,
    );
  const namespace = seed.namespace ?? CONTROL_PLANE_NAMESPACE;
  const multi = seed.sources !== undefined;
  const sources = seed.sources ?? [
    seed.source ?? {
      repoURL: 'https://github.com/example/gitops.git',
      path: `apps/${seed.name}`,
      targetRevision: 'HEAD',
    },
  ];
  const revisions =
    seed.revisions ??
    (multi
      ? sources.map((s, i) =>
          defaultRevision(s, `${namespace}/${seed.name}/${i}`),
        )
      : [
          seed.revision ??
            defaultRevision(sources[0], `${namespace}/${seed.name}`),
        ]);
  const desired =
    seed.desiredRevisions ??
    (seed.desiredRevision ? [seed.desiredRevision] : revisions);
  const sync =
    seed.sync ?? (desired.join() === revisions.join() ? 'Synced' : 'OutOfSync');
  const syncedAt = seed.syncedAt ?? kubeTime();
  const destination = seed.destination ?? {
    server: DEFAULT_SERVER,
    namespace: seed.name,
  };
  // Fields that hold one value for a single source, and a list for several.
  const sourceFields = multi ? { sources } : { source: sources[0] };
  const revisionFields = (list: string[]) =>
    multi ? { revisions: list } : { revision: list[0] };

  const live = liveResources({
    appName: seed.name,
    appNamespace: namespace,
    namespace: destination.namespace ?? namespace,
    name: seed.workload ?? seed.name,
    replicas: seed.replicas ?? 2,
    images: seed.images ?? [
      `ghcr.io/example/${seed.workload ?? seed.name}:1.0.0`,
    ],
    health: seed.rollout ? undefined : seed.health,
    healthMessage: seed.healthMessage,
    rollout: seed.rollout,
    createdAt: meta.createdAt ?? syncedAt,
    since: meta.healthSince ?? syncedAt,
  });
  const health =
    seed.health ??
    worstHealth(live.managed.map(r => r.health?.status ?? 'Healthy'));

  const operation = seed.operation ?? { phase: 'Succeeded' as const };
  const running =
    operation.phase === 'Running' || operation.phase === 'Terminating';
  const operationRevisions =
    operation.revisions ??
    (operation.revision ? [operation.revision] : desired);
  const finishedAt = running ? undefined : operation.finishedAt ?? syncedAt;
  const startedAt =
    operation.startedAt ?? secondsBefore(finishedAt ?? kubeTime(), 12);
  const initiatedBy = operation.username
    ? { username: operation.username }
    : { automated: true };
  const requested = {
    sync: {
      ...revisionFields(operationRevisions),
      ...(multi ? { sources } : {}),
      syncStrategy: { hook: {} },
    },
    initiatedBy,
    retry: { limit: 5 },
  };
  const resourceResults = live.managed.map(r => ({
    ...(r.group ? { group: r.group } : {}),
    version: r.version,
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    status: operation.phase === 'Succeeded' ? 'Synced' : 'SyncFailed',
    message: `${r.kind.toLowerCase()}${r.group ? `.${r.group}` : ''}/${
      r.name
    } ${operation.phase === 'Succeeded' ? 'configured' : 'failed to apply'}`,
    hookPhase: operation.phase === 'Succeeded' ? 'Running' : 'Failed',
    syncPhase: 'Sync',
  }));

  const history = [
    ...(seed.history ?? []).map(d => ({
      revisions: d.revisions ?? [d.revision ?? ''],
      deployedAt: d.deployedAt,
    })),
    { revisions, deployedAt: syncedAt },
  ].map((deployment, id) => ({
    id,
    ...revisionFields(deployment.revisions),
    deployedAt: kubeTime(deployment.deployedAt),
    deployStartedAt: secondsBefore(deployment.deployedAt, 12),
    ...sourceFields,
    initiatedBy: { automated: true },
  }));

  const workloadKind = seed.rollout ? 'Rollout' : 'Deployment';
  const app: Application = {
    metadata: {
      name: seed.name,
      namespace,
      uid: meta.uid ?? uidFor(`${namespace}/${seed.name}`),
      resourceVersion: meta.resourceVersion ?? '1',
      generation: meta.generation ?? 1,
      creationTimestamp: meta.createdAt ?? syncedAt,
      ...(seed.labels ? { labels: seed.labels } : {}),
      ...(seed.annotations ? { annotations: seed.annotations } : {}),
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    },
    spec: {
      project: seed.project ?? 'default',
      ...sourceFields,
      destination,
      syncPolicy: {
        ...(seed.automated === false
          ? {}
          : { automated: { prune: true, selfHeal: true } }),
        syncOptions: ['CreateNamespace=true'],
      },
    },
    status: {
      sync: {
        status: sync,
        ...revisionFields(desired),
        comparedTo: { ...sourceFields, destination },
      },
      health: {
        status: health,
        ...(seed.health && seed.healthMessage
          ? { message: seed.healthMessage }
          : {}),
        lastTransitionTime: meta.healthSince ?? syncedAt,
      },
      summary: live.images.length ? { images: live.images } : {},
      operationState: {
        operation: requested,
        phase: operation.phase,
        message: operation.message ?? OPERATION_MESSAGES[operation.phase],
        startedAt,
        ...(finishedAt ? { finishedAt: kubeTime(finishedAt) } : {}),
        syncResult: {
          ...(running ? {} : { resources: resourceResults }),
          ...revisionFields(operationRevisions),
          ...sourceFields,
        },
      },
      history,
      reconciledAt: kubeTime(),
      resources: live.managed.map(r => ({
        ...r,
        status: r.kind === workloadKind && sync !== 'Synced' ? sync : 'Synced',
      })),
      ...(multi
        ? { sourceTypes: sources.map(sourceType) }
        : { sourceType: sourceType(sources[0]) }),
      controllerNamespace: CONTROL_PLANE_NAMESPACE,
    },
    ...(running ? { operation: requested } : {}),
  };
  return {
    application: applyOverrides(app, seed.overrides),
    tree: { nodes: live.nodes },
    manifests: live.manifests,
    problems: live.problems,
  };
}
