import {
  LiveApplication,
  LiveRollout,
} from '@gitops-promotions/plugin-promotions-common';
import {
  ArgoCdApplication,
  ArgoCdResourceTree,
  ArgoRolloutManifest,
} from './types';

const SYNC_STATUSES = ['Synced', 'OutOfSync', 'Unknown'] as const;
const HEALTH_STATUSES = [
  'Healthy',
  'Progressing',
  'Degraded',
  'Suspended',
  'Missing',
  'Unknown',
] as const;

const oneOf = <T extends string>(
  values: readonly T[],
  value: string | undefined,
): T =>
  values.includes(value as T) ? (value as T) : values[values.length - 1];

/** The Rollouts among an application's resources (Argo Rollouts' `argoproj.io/Rollout`). */
export function rolloutsOf(application: ArgoCdApplication) {
  return (application.status?.resources ?? []).filter(
    r => r.kind === 'Rollout' && r.group === 'argoproj.io' && r.name,
  );
}

/**
 * Where a Rollout's canary stands, from its live manifest and the application's resource tree:
 * the step and weight from its status, the stable image from the pods of its stable
 * ReplicaSet, the canary image from its pod template.
 */
export function rolloutState(
  manifest: ArgoRolloutManifest,
  tree: ArgoCdResourceTree,
  name: string,
): LiveRollout {
  const status = manifest.status ?? {};
  const steps = manifest.spec?.strategy?.canary?.steps;
  const canaryImage =
    manifest.spec?.template?.spec?.containers?.[0]?.image ?? null;
  const nodes = tree.nodes ?? [];
  const replicaSetOf = (hash: string | undefined) =>
    hash ? `${name}-${hash}` : undefined;
  const stableSet = replicaSetOf(status.stableRS);
  const imagesUnder = (replicaSet: string | undefined) =>
    nodes
      .filter(
        n =>
          n.kind === 'Pod' &&
          n.parentRefs?.some(
            p => p.kind === 'ReplicaSet' && p.name === replicaSet,
          ),
      )
      .flatMap(n => n.images ?? []);
  const stableImages = imagesUnder(stableSet);
  const updating =
    status.stableRS !== undefined &&
    status.currentPodHash !== undefined &&
    status.stableRS !== status.currentPodHash;
  return {
    name,
    step:
      typeof status.currentStepIndex === 'number'
        ? status.currentStepIndex
        : null,
    steps: steps ? steps.length : null,
    weight: updating ? status.canary?.weights?.canary?.weight ?? null : null,
    paused:
      manifest.spec?.paused === true ||
      status.controllerPause === true ||
      (status.pauseConditions?.length ?? 0) > 0,
    aborted: status.abort === true,
    stableImage: stableImages[0] ?? (updating ? null : canaryImage),
    canaryImage,
    phase: status.phase ?? null,
    message: status.message ?? null,
  };
}

/** The deployment an application last made: the newest entry of its history. */
function lastDeployment(application: ArgoCdApplication) {
  const history = application.status?.history ?? [];
  return history[history.length - 1];
}

/**
 * An Argo CD application as the API shows it under an environment's `live`: sync and health,
 * the revision(s) and images it runs, when it last synced, and its last operation.
 */
export function toLiveApplication(
  application: ArgoCdApplication,
  options: {
    instance: string;
    mapping: string;
    url: string | null;
    rollout: LiveRollout | null;
  },
): LiveApplication {
  const { metadata, status } = application;
  const deployed = lastDeployment(application);
  const multi = (application.spec?.sources?.length ?? 0) > 0;
  const synced = status?.sync?.status === 'Synced';
  const revisions =
    deployed?.revisions ??
    (deployed?.revision ? [deployed.revision] : undefined) ??
    (synced
      ? status?.sync?.revisions ??
        (status?.sync?.revision ? [status.sync.revision] : [])
      : []);
  const operation = status?.operationState;
  return {
    source: 'argocd',
    instance: options.instance,
    kind: 'Application',
    name: metadata.name,
    namespace: metadata.namespace ?? '',
    mapping: options.mapping,
    url: options.url,
    syncStatus: oneOf(SYNC_STATUSES, status?.sync?.status),
    outOfSyncSince: null,
    healthStatus: oneOf(HEALTH_STATUSES, status?.health?.status),
    healthMessage: status?.health?.message ?? null,
    revision: revisions[0] ?? null,
    revisions: multi ? revisions : [],
    images: [...(status?.summary?.images ?? [])],
    syncedAt:
      deployed?.deployedAt ??
      (operation?.phase === 'Succeeded' ? operation.finishedAt ?? null : null),
    reconciledAt: status?.reconciledAt ?? null,
    operation: operation?.phase
      ? {
          phase: operation.phase,
          message: operation.message ?? null,
          startedAt: operation.startedAt ?? null,
          finishedAt: operation.finishedAt ?? null,
        }
      : null,
    rollout: options.rollout,
  };
}
