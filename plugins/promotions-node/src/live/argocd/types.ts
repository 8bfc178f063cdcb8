/**
 * The parts of Argo CD's API objects the live-state source reads (`v1alpha1Application`,
 * `v1alpha1ApplicationTree`), all optional as Argo CD omits empty fields.
 */

export interface ArgoCdApplicationSource {
  repoURL?: string;
  path?: string;
  chart?: string;
  targetRevision?: string;
}

export interface ArgoCdApplication {
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec?: {
    project?: string;
    source?: ArgoCdApplicationSource;
    sources?: ArgoCdApplicationSource[];
    destination?: { server?: string; name?: string; namespace?: string };
  };
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    summary?: { images?: string[] };
    operationState?: {
      phase?: string;
      message?: string;
      startedAt?: string;
      finishedAt?: string;
      syncResult?: { revision?: string; revisions?: string[] };
    };
    history?: Array<{
      id?: number | string;
      revision?: string;
      revisions?: string[];
      deployedAt?: string;
    }>;
    reconciledAt?: string;
    resources?: Array<{
      group?: string;
      version?: string;
      kind?: string;
      namespace?: string;
      name?: string;
    }>;
  };
}

export interface ArgoCdResourceNode {
  group?: string;
  version?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  images?: string[];
  health?: { status?: string; message?: string };
  parentRefs?: Array<{ group?: string; kind?: string; name?: string }>;
}

export interface ArgoCdResourceTree {
  nodes?: ArgoCdResourceNode[];
}

/** The parts of an Argo Rollout's live manifest that say where its canary stands. */
export interface ArgoRolloutManifest {
  metadata?: { name?: string };
  spec?: {
    paused?: boolean;
    template?: { spec?: { containers?: Array<{ image?: string }> } };
    strategy?: {
      canary?: { steps?: Array<Record<string, unknown>> };
      blueGreen?: Record<string, unknown>;
    };
  };
  status?: {
    phase?: string;
    message?: string;
    abort?: boolean;
    controllerPause?: boolean;
    pauseConditions?: unknown[];
    currentStepIndex?: number;
    currentPodHash?: string;
    stableRS?: string;
    canary?: { weights?: { canary?: { weight?: number } } };
  };
}

/** One message of the application watch stream. */
export interface ArgoCdWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  application: ArgoCdApplication;
}
