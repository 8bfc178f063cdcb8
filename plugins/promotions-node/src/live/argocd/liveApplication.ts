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

const oneOf = <T extends string>(values: readonly T[], value: unknown): T =>
  values.includes(value as T) ? (value as T) : values[values.length - 1];

// What Argo CD answers is read as it is, not as its schema promises: a field of another shape
// is left out rather than let one odd application break the entity it belongs to.

/** A string field, or null when it is absent or not a string. */
const text = (value: unknown): string | null =>
  typeof value === 'string' ? value : null;

/** The strings of a list field; anything else in it, or a field that is no list, is dropped. */
const texts = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];

const list = <T>(value: T[] | undefined): T[] =>
  Array.isArray(value) ? value : [];

/** The Rollouts among an application's resources (Argo Rollouts' `argoproj.io/Rollout`). */
export function rolloutsOf(application: ArgoCdApplication) {
  return list(application.status?.resources).filter(
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
  const canaryImage = text(
    list(manifest.spec?.template?.spec?.containers)[0]?.image,
  );
  const nodes = list(tree?.nodes);
  const replicaSetOf = (hash: string | undefined) =>
    hash ? `${name}-${hash}` : undefined;
  const stableSet = replicaSetOf(status.stableRS);
  const imagesUnder = (replicaSet: string | undefined) =>
    nodes
      .filter(
        n =>
          n.kind === 'Pod' &&
          list(n.parentRefs).some(
            p => p.kind === 'ReplicaSet' && p.name === replicaSet,
          ),
      )
      .flatMap(n => texts(n.images));
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
    steps: Array.isArray(steps) ? steps.length : null,
    weight:
      updating && typeof status.canary?.weights?.canary?.weight === 'number'
        ? status.canary.weights.canary.weight
        : null,
    paused:
      manifest.spec?.paused === true ||
      status.controllerPause === true ||
      list(status.pauseConditions).length > 0,
    aborted: status.abort === true,
    stableImage: stableImages[0] ?? (updating ? null : canaryImage),
    canaryImage,
    phase: text(status.phase),
    message: text(status.message),
  };
}

/** The deployment an application last made: the newest entry of its history. */
function lastDeployment(application: ArgoCdApplication) {
  const history = list(application.status?.history);
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
  const multi = list(application.spec?.sources).length > 0;
  const synced = status?.sync?.status === 'Synced';
  const revisionsOf = (from?: { revisions?: unknown; revision?: unknown }) =>
    Array.isArray(from?.revisions)
      ? texts(from?.revisions)
      : texts([from?.revision]);
  const deployedRevisions = revisionsOf(deployed);
  const syncedRevisions = synced ? revisionsOf(status?.sync) : [];
  const revisions =
    deployedRevisions.length > 0 ? deployedRevisions : syncedRevisions;
  const operation = status?.operationState;
  return {
    source: 'argocd',
    instance: options.instance,
    kind: 'Application',
    name: metadata.name,
    namespace: text(metadata.namespace) ?? '',
    mapping: options.mapping,
    url: options.url,
    syncStatus: oneOf(SYNC_STATUSES, status?.sync?.status),
    outOfSyncSince: null,
    healthStatus: oneOf(HEALTH_STATUSES, status?.health?.status),
    healthMessage: text(status?.health?.message),
    revision: revisions[0] ?? null,
    revisions: multi ? revisions : [],
    images: texts(status?.summary?.images),
    syncedAt:
      text(deployed?.deployedAt) ??
      (operation?.phase === 'Succeeded' ? text(operation.finishedAt) : null),
    reconciledAt: text(status?.reconciledAt),
    operation:
      typeof operation?.phase === 'string'
        ? {
            phase: operation.phase,
            message: text(operation.message),
            startedAt: text(operation.startedAt),
            finishedAt: text(operation.finishedAt),
          }
        : null,
    rollout: options.rollout,
  };
}
