/**
 * A container image as an environment would deploy it.
 *
 * @public
 */
export interface ImageRef {
  /** Repository name, with registry when given (`ghcr.io/acme/payment`). */
  name: string;
  tag: string | null;
  digest: string | null;
}

/**
 * The commit that last changed any file an environment's version is read from.
 *
 * @public
 */
export interface LastChange {
  commit: string;
  author: string;
  /** ISO 8601 timestamp of the commit. */
  at: string;
  /** Pull-request number when the commit message names one (`Merge pull request #12`, `(#12)`). */
  pullRequest: number | null;
  message: string;
}

/** @public */
export interface DesiredState {
  /** The version shown for the environment: the tag, or the short digest when only pinned by digest. */
  version: string | null;
  images: ImageRef[];
  /** Path in the repository the environment is read from (directory or values file). */
  path: string;
  lastChange: LastChange | null;
}

/** @public */
export type DriftKind =
  | 'behind'
  | 'ahead'
  | 'config'
  | 'out-of-sync'
  | 'live-mismatch'
  | 'stale-promotion';

interface DriftBase {
  kind: DriftKind;
  /** One line that explains the drift to a person. */
  summary: string;
}

/** @public */
export interface VersionDrift extends DriftBase {
  kind: 'behind' | 'ahead';
  upstream: string;
  upstreamVersion: string | null;
  version: string | null;
  /** Versions the upstream went through since this environment's version, when known. */
  versions: number | null;
  /** Commits to the upstream's inputs since this environment's version, when known. */
  commits: number | null;
  /** When the upstream first differed from this environment (ISO 8601), when known. */
  since: string | null;
}

/** @public */
export interface ConfigDifference {
  /** Human readable key, such as `Deployment/payment containers[app].env.CACHE_SIZE`. */
  key: string;
  /** The value here; null when absent, or when it is a secret, which is never shown. */
  value: string | null;
  upstreamValue: string | null;
  /** The values are secrets: they differ, and that is all anyone is told. */
  secret?: boolean;
}

/** @public */
export interface ConfigDrift extends DriftBase {
  kind: 'config';
  upstream: string;
  differences: ConfigDifference[];
}

/** @public */
export interface OtherDrift extends DriftBase {
  kind: 'out-of-sync' | 'live-mismatch' | 'stale-promotion';
}

/** @public */
export type Drift = VersionDrift | ConfigDrift | OtherDrift;

/** @public */
export interface EnvironmentState {
  name: string;
  requires: string[];
  desired: DesiredState;
  /** Live state from Argo CD; null until live state exists. */
  live: null | Record<string, unknown>;
  drift: Drift[];
  /** Why this environment could not be resolved, when it could not; the others still show. */
  error?: string;
}

/** @public */
export interface EntityPromotions {
  entityRef: string;
  /** When the repository was last read (ISO 8601); null before the first read. */
  asOf: string | null;
  repository: { id: string; revision: string | null };
  pipeline: string;
  environments: EnvironmentState[];
  /** The last refresh failed; what is shown is the last known state, of age `asOf`. */
  error?: { message: string; at: string };
  /** The entity's layout was published by the template and is not merged yet. */
  waitingForMerge?: { branch: string; pullRequestUrl: string | null };
}

/**
 * Where a gate stands: met, still waiting (for what, until when), or not met (why).
 *
 * @public
 */
export type GateState = 'passed' | 'pending' | 'failed';

/**
 * One gate's judgement of a promotion.
 *
 * @public
 */
export interface GateEvaluation {
  /** The gate's policy key, such as `approvals`. */
  gate: string;
  state: GateState;
  /** One line for people: what passed, what it waits for, or why it failed. */
  summary: string;
  /** When a pending gate will be re-judged by itself (a window opening, a soak ending). */
  until?: string;
}

/**
 * One Argo CD application (or Flux object) deploying an environment, as last read.
 *
 * @public
 */
export interface LiveApplication {
  /** The Argo CD instance or Kubernetes cluster it was read from. */
  instance: string;
  name: string;
  namespace: string;
  syncStatus: 'Synced' | 'OutOfSync' | 'Unknown';
  healthStatus:
    | 'Healthy'
    | 'Progressing'
    | 'Degraded'
    | 'Suspended'
    | 'Missing'
    | 'Unknown';
  /** The revision it is synced to (the first source's, for multi-source applications). */
  revision: string | null;
  images: string[];
  /** When it last finished a sync (ISO 8601). */
  syncedAt: string | null;
  /** The last sync operation, with its message when it failed. */
  operation: {
    phase: string;
    message: string | null;
    startedAt: string | null;
    finishedAt: string | null;
  } | null;
  /** An Argo Rollout it deploys: the canary's step and weight. */
  rollout: {
    name: string;
    step: number | null;
    steps: number | null;
    weight: number | null;
    paused: boolean;
    aborted: boolean;
    stableImage: string | null;
    canaryImage: string | null;
  } | null;
}

/**
 * What really runs in one environment, from one live-state source.
 *
 * @public
 */
export interface LiveState {
  /** The source: `argocd` or `flux`. */
  source: string;
  /** False when the source did not answer; `applications` are then the last known ones. */
  reachable: boolean;
  /** When the applications were last read (ISO 8601). */
  asOf: string | null;
  applications: LiveApplication[];
  /** Why the source could not be read, when it could not. */
  error?: string;
}

/**
 * A new service whose layout was published by the software template and waits to be merged:
 * its entity is read from the branch until then, from the repository's branch afterwards.
 *
 * @public
 */
export interface Scaffold {
  entityRef: string;
  repository: string;
  /** The branch the layout was published to. */
  branch: string;
  /** The catalog file's path in the repository. */
  path: string;
  /** The pull request that merges it, where the repository has pull requests. */
  pullRequestUrl: string | null;
  state: 'pending' | 'merged';
  createdAt: string;
  mergedAt: string | null;
}

/**
 * Where a promotion stands. `opening` and `merging` are steps a restart completes.
 *
 * @public
 */
export type PromotionState =
  | 'opening'
  | 'open'
  | 'merging'
  | 'merged'
  | 'closed'
  | 'failed';

/**
 * An approval or rejection of a promotion, from the portal or a pull-request review.
 *
 * @public
 */
export interface PromotionDecision {
  by: string;
  at: string;
  decision: 'approve' | 'reject';
  comment: string;
  source: 'portal' | 'github';
  /** Given on an earlier head of the change: it no longer counts. */
  stale?: boolean;
}

/**
 * A request to move one environment of one service to a version, through a change to review.
 *
 * @public
 */
export interface Promotion {
  id: string;
  entityRef: string;
  environment: string;
  /** The environments the version comes from (its upstreams), or empty for a rollback. */
  from: string[];
  version: string;
  /** What the environment ran when the promotion was asked for. */
  previousVersion: string | null;
  kind: 'promotion' | 'rollback';
  state: PromotionState;
  requestedBy: string;
  requestedAt: string;
  updatedAt: string;
  /** The version is one no upstream runs; allowed only when asked for explicitly. */
  unknownVersion: boolean;
  branch: string | null;
  /** The commit that would be merged. */
  headCommit: string | null;
  pullRequest: { number: number; url: string } | null;
  decisions: PromotionDecision[];
  /** Each gate's judgement, as last evaluated. */
  gates: GateEvaluation[];
  mergedCommit: string | null;
  /** Why it was closed or failed. */
  reason: string | null;
  /** A merge waiting for a change window to open (ISO 8601). */
  queuedUntil?: string | null;
}

/**
 * A commit shown as part of what would ship.
 *
 * @public
 */
export interface CommitSummary {
  sha: string;
  author: string;
  at: string;
  message: string;
  pullRequest: number | null;
}

/**
 * Exactly what a promotion would do, shown before it is asked for.
 *
 * @public
 */
export interface PromotionPreview {
  environment: string;
  version: string;
  previousVersion: string | null;
  from: string[];
  unknownVersion: boolean;
  /** Unified diff of the files the promotion changes: only the version lines. */
  fileDiff: string;
  /** Unified diff of the environment's rendered manifests, before and after. */
  renderedDiff: string;
  /** Commits that touched the upstream's inputs since the target's current version. */
  commits: CommitSummary[];
  configDifferences: ConfigDifference[];
  gates: GateEvaluation[];
}

/**
 * One line of an environment's history, kept without limit.
 *
 * @public
 */
export interface HistoryEntry {
  id: number;
  entityRef: string;
  environment: string;
  action:
    | 'requested'
    | 'approved'
    | 'rejected'
    | 'merged'
    | 'closed'
    | 'superseded'
    | 'overridden'
    | 'frozen'
    | 'unfrozen'
    | 'failed'
    | 'changed'
    | 'queued';
  actor: string;
  at: string;
  version: string | null;
  kind: 'promotion' | 'rollback' | null;
  promotionId: string | null;
  pullRequest: number | null;
  comment: string | null;
}

/**
 * An environment frozen for every service, or one service's.
 *
 * @public
 */
export interface Freeze {
  id: number;
  /** `*` for every service. */
  entityRef: string;
  /** `*` for every environment. */
  environment: string;
  reason: string;
  by: string;
  at: string;
}
