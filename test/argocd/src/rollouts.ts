import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import { modelProblems, rolloutModels } from './kubernetesModels';
import { podTemplateHash } from './names';

/**
 * Argo Rollouts canary rollouts, built with `@kubernetes-models/argo-rollouts` and checked with
 * its schema, in the state a test describes: which step, which weight, paused or aborted, and
 * the stable and canary images.
 */

/** A step of a canary strategy. */
export type CanaryStep =
  | { setWeight: number }
  | { pause: { duration?: string | number } };

/** The state of an application's Argo Rollout. */
export interface RolloutSeed {
  /** The Rollout's name; the application's workload name by default. */
  name?: string;
  /** The image of the stable ReplicaSet. */
  stableImage: string;
  /** The image being rolled out; the stable one when no rollout is under way. */
  canaryImage?: string;
  /** Canary steps; by default 20%, pause, 50%, pause 1m, 100%. */
  steps?: CanaryStep[];
  /** `status.currentStepIndex`; once it reaches the number of steps, the canary is promoted. */
  step?: number;
  /** Canary traffic weight; by default the last `setWeight` before the current step. */
  weight?: number;
  /** Paused at a step; by default when the current step is a pause. */
  paused?: boolean;
  aborted?: boolean;
  replicas?: number;
  /** `rollout.argoproj.io/revision`: 2 while an update is under way, 1 otherwise, by default. */
  revision?: number;
}

/** One ReplicaSet of a Rollout. */
export interface RolloutReplicaSet {
  hash: string;
  image: string;
  pods: number;
  revision: number;
}

/** A Rollout as Argo CD sees it: the live object, its health, and its ReplicaSets. */
export interface BuiltRollout {
  manifest: IRollout;
  health: { status: string; message?: string };
  replicaSets: RolloutReplicaSet[];
  /** The schema errors of the Rollout, if `@kubernetes-models` finds any. */
  problems: string[];
}

export const DEFAULT_CANARY_STEPS: CanaryStep[] = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 50 },
  { pause: { duration: '1m' } },
  { setWeight: 100 },
];

/** The container name a workload gives an image: its repository's last path segment. */
export const containerName = (image: string) =>
  image
    .replace(/[@:][^/]*$/, '')
    .split('/')
    .pop()!
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');

/** Argo CD's health of a Rollout: its built-in `argoproj.io/Rollout` health check. */
export function rolloutHealth(rollout: IRollout): BuiltRollout['health'] {
  const observed = Number(rollout.status?.observedGeneration);
  const generation = rollout.metadata?.generation ?? 0;
  if (!rollout.status || (!Number.isNaN(observed) && observed < generation))
    return {
      status: 'Progressing',
      message: 'Waiting for rollout spec update to be observed',
    };
  const { phase, message } = rollout.status;
  if (phase)
    return {
      status: phase === 'Paused' ? 'Suspended' : phase,
      ...(message ? { message } : {}),
    };
  return {
    status: 'Progressing',
    message: 'Waiting for rollout to finish: status has not been reconciled.',
  };
}

interface RolloutContext {
  name: string;
  namespace: string;
  uid: string;
  createdAt: string;
  /** Since when the rollout is in its current state. */
  since: string;
  annotations: Record<string, string>;
}

/** Builds the live Rollout for a seed and checks it against the Argo Rollouts schema. */
export function buildRollout(
  seed: RolloutSeed,
  context: RolloutContext,
): BuiltRollout {
  const { name, namespace, since } = context;
  const steps = seed.steps ?? DEFAULT_CANARY_STEPS;
  const replicas = seed.replicas ?? 4;
  const canaryImage = seed.canaryImage ?? seed.stableImage;
  const updating = canaryImage !== seed.stableImage;
  const step = Math.min(
    seed.step ?? (updating ? 0 : steps.length),
    steps.length,
  );
  const aborted = updating && (seed.aborted ?? false);
  // Past the last step the canary is promoted: it becomes the stable ReplicaSet.
  const promoted = !aborted && step >= steps.length;
  const inProgress = updating && !promoted && !aborted;
  const stableImage = promoted ? canaryImage : seed.stableImage;
  const lastWeight =
    steps
      .slice(0, step)
      .flatMap(s => ('setWeight' in s ? [s.setWeight] : []))
      .pop() ?? 0;
  const weight = inProgress ? seed.weight ?? lastWeight : 0;
  const current = steps[step];
  const paused =
    inProgress &&
    (seed.paused ?? (current !== undefined && 'pause' in current));
  const revision = seed.revision ?? (updating ? 2 : 1);

  const stable: RolloutReplicaSet = {
    hash: podTemplateHash(`${name}/${stableImage}`),
    image: stableImage,
    pods: replicas,
    revision: updating && !promoted ? revision - 1 : revision,
  };
  const canary: RolloutReplicaSet = {
    hash: podTemplateHash(`${name}/${canaryImage}`),
    image: canaryImage,
    pods: inProgress ? Math.ceil((replicas * weight) / 100) : 0,
    revision,
  };
  const replicaSets = stable.hash === canary.hash ? [stable] : [stable, canary];
  const updatedReplicas = stable.hash === canary.hash ? replicas : canary.pods;
  const total = replicaSets.reduce((sum, rs) => sum + rs.pods, 0);

  let phase: string;
  let message: string | undefined;
  let progressing: { reason: string; message: string };
  const canaryRs = `${name}-${canary.hash}`;
  if (aborted) {
    phase = 'Degraded';
    message = `RolloutAborted: Rollout aborted update to revision ${revision}`;
    progressing = {
      reason: 'RolloutAborted',
      message: `Rollout aborted update to revision ${revision}`,
    };
  } else if (paused) {
    phase = 'Paused';
    message = 'CanaryPauseStep';
    progressing = { reason: 'RolloutPaused', message: 'Rollout is paused' };
  } else if (inProgress) {
    phase = 'Progressing';
    message = 'more replicas need to be updated';
    progressing = {
      reason: 'ReplicaSetUpdated',
      message: `ReplicaSet "${canaryRs}" is progressing.`,
    };
  } else {
    phase = 'Healthy';
    progressing = {
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "${canaryRs}" has successfully progressed.`,
    };
  }
  const condition = (
    type: string,
    status: 'True' | 'False',
    reason: string,
    text: string,
  ) => ({
    type,
    status,
    reason,
    message: text,
    lastTransitionTime: since,
    lastUpdateTime: since,
  });
  const healthy = phase === 'Healthy';
  const generation = 1 + revision;

  const { Rollout } = rolloutModels();
  const rollout = new Rollout({
    metadata: {
      name,
      namespace,
      uid: context.uid,
      generation,
      creationTimestamp: context.createdAt,
      labels: { app: name },
      annotations: {
        ...context.annotations,
        'rollout.argoproj.io/revision': String(revision),
      },
    },
    spec: {
      replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: containerName(canaryImage),
              image: canaryImage,
              ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            },
          ],
        },
      },
      strategy: {
        canary: {
          canaryService: `${name}-canary`,
          stableService: name,
          trafficRouting: { nginx: { stableIngress: name } },
          steps,
        },
      },
    },
    status: {
      replicas: total,
      updatedReplicas,
      readyReplicas: total,
      availableReplicas: total,
      currentPodHash: canary.hash,
      currentStepHash: podTemplateHash(JSON.stringify(steps)),
      currentStepIndex: step,
      stableRS: stable.hash,
      observedGeneration: String(generation),
      selector: `app=${name}`,
      phase,
      ...(message ? { message } : {}),
      ...(paused
        ? {
            controllerPause: true,
            pauseConditions: [{ reason: 'CanaryPauseStep', startTime: since }],
          }
        : {}),
      ...(aborted ? { abort: true, abortedAt: since } : {}),
      canary: {
        weights: {
          canary: {
            podTemplateHash: canary.hash,
            serviceName: `${name}-canary`,
            weight,
          },
          stable: {
            podTemplateHash: stable.hash,
            serviceName: name,
            weight: 100 - weight,
          },
        },
      },
      conditions: [
        condition(
          'Available',
          'True',
          'AvailableReason',
          'Rollout has minimum availability',
        ),
        condition(
          'Progressing',
          'True',
          progressing.reason,
          progressing.message,
        ),
        condition(
          'Healthy',
          healthy ? 'True' : 'False',
          'RolloutHealthy',
          healthy ? 'Rollout is healthy' : 'Rollout is not healthy',
        ),
        ...(paused
          ? [condition('Paused', 'True', 'RolloutPaused', 'Rollout is paused')]
          : []),
      ],
    },
  });
  const manifest = rollout.toJSON() as IRollout;
  return {
    manifest,
    health: rolloutHealth(manifest),
    replicaSets,
    problems: modelProblems(rollout, `Rollout ${namespace}/${name}`),
  };
}
