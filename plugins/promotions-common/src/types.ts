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
  /**
   * `appVersion` when the version is not written in the values but derived from the chart's
   * `appVersion`, as a chart's templates do with an empty tag. Absent otherwise.
   */
  versionSource?: 'appVersion';
  images: ImageRef[];
  /** Path in the repository the environment is read from (directory or values file). */
  path: string;
  lastChange: LastChange | null;
  /**
   * Where the environment is read from when it is not the entity's repository at its configured
   * branch: another branch, a tag, or another repository. Absent otherwise.
   */
  source?: EnvironmentSource;
}

/**
 * The branch, tag or repository an environment is read from.
 *
 * @public
 */
export interface EnvironmentSource {
  /** The configured repository it is read from. */
  repositoryId: string;
  /** `branch` or `tag`: a name of the repository; `commit`: a fixed commit. */
  kind: 'branch' | 'tag' | 'commit';
  /** The branch or tag name (the tag the pattern picked), or the commit. */
  ref: string;
  /** The commit read. */
  revision: string;
  /** The `gitops-promotions/tag` pattern the tag was picked by, when there is one. */
  pattern?: string;
  /** The Argo CD Application that names this source, when a manifest does. */
  application?: string;
}

/** @public */
export type DriftKind =
  | 'behind'
  | 'ahead'
  | 'differs'
  | 'config'
  | 'out-of-sync'
  | 'live-mismatch'
  | 'waiting-for-sync'
  | 'stale-promotion';

/**
 * What every drift says: its kind and one line for a person.
 *
 * @public
 */
export interface DriftBase {
  kind: DriftKind;
  /** One line that explains the drift to a person. */
  summary: string;
}

/**
 * An environment's version against one upstream's: older (`behind`), newer (`ahead`), or
 * different with no way to tell which is newer (`differs`).
 *
 * @public
 */
export interface VersionDrift extends DriftBase {
  kind: 'behind' | 'ahead' | 'differs';
  upstream: string;
  upstreamVersion: string | null;
  version: string | null;
  /**
   * Versions the newer side went through since it ran the older one (the upstream's when behind,
   * this environment's when ahead), when its timeline shows it; null for `differs`.
   */
  versions: number | null;
  /** Commits to the newer side's inputs since it ran the older version, when known. */
  commits: number | null;
  /** When the newer side moved past the older version (ISO 8601), when known. */
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
  /** The first differences found, each value and key cut to a few KB. */
  differences: ConfigDifference[];
  /** Differences found beyond those kept in `differences`; absent when none were left out. */
  omittedDifferences?: number;
}

/**
 * Git against live: what runs differs from what the repository says, or has not caught up yet.
 *
 * @public
 */
export interface LiveDrift extends DriftBase {
  kind: 'out-of-sync' | 'live-mismatch' | 'waiting-for-sync';
  /** The source (`argocd`, `flux`), instance and application that reported it. */
  source: string;
  instance: string;
  application: string;
  /** Since when (ISO 8601), when known: first seen OutOfSync, or the first change not synced. */
  since: string | null;
  /** `live-mismatch`: the image repository, the version Git has, and the versions running. */
  image?: { name: string; desired: string; live: string[] };
  /** `waiting-for-sync`: the revision synced, the latest change not synced, how many changes. */
  revision?: { synced: string; latest: string; commits: number };
}

/** @public */
export interface OtherDrift extends DriftBase {
  kind: 'stale-promotion';
}

/** @public */
export type Drift = VersionDrift | ConfigDrift | LiveDrift | OtherDrift;

/** @public */
export interface EnvironmentState {
  name: string;
  requires: string[];
  desired: DesiredState;
  /**
   * What runs in the environment, from Argo CD or Flux; null when no live-state source knows
   * this entity ("not configured").
   */
  live: LiveState | null;
  drift: Drift[];
  /** Why this environment could not be resolved, when it could not; the others still show. */
  error?: string;
  /**
   * Why the portal does not promote or roll back this environment (it is read from a branch, a
   * tag, another repository or an Argo CD manifest, and promoted there); absent when it does.
   */
  notPromotable?: string;
  /**
   * What the resolver skipped without failing, one sentence each for a person, naming the file:
   * `Not read: vars (services/x/overlays/prod/kustomization.yaml)` for a kustomize field or remote
   * resource it does not apply, or a patch target that matches nothing. The version shown may be
   * wrong when one of them matters. Deduplicated, each cut to a few hundred characters, and at
   * most a few dozen, the last then saying how many more were left out. Absent when nothing was
   * skipped, and in states computed before notes existed.
   */
  notes?: string[];
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
 * The last sync operation of a live application: its phase, and its message when it failed.
 *
 * @public
 */
export interface LiveOperation {
  /** `Running`, `Succeeded`, `Failed`, `Error` or `Terminating`. */
  phase: string;
  message: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * An Argo Rollout deploying an environment: where its canary stands.
 *
 * @public
 */
export interface LiveRollout {
  name: string;
  /** The current step (`status.currentStepIndex`), counted from 0; `steps` once promoted. */
  step: number | null;
  /** How many steps the canary strategy has. */
  steps: number | null;
  /** The canary's traffic weight in percent. */
  weight: number | null;
  paused: boolean;
  aborted: boolean;
  /** The image of the stable ReplicaSet, and the one being rolled out (equal when none is). */
  stableImage: string | null;
  canaryImage: string | null;
  /** The rollout's own phase and message (`Paused`, `Progressing`, `Degraded: RolloutAborted…`). */
  phase: string | null;
  message: string | null;
}

/**
 * One Argo CD application (or Flux object) deploying an environment, as last read.
 *
 * @public
 */
export interface LiveApplication {
  /** The live-state source it was read from: `argocd`, `flux`, or a module's. */
  source: string;
  /** The Argo CD instance or Kubernetes cluster it was read from. */
  instance: string;
  /** `Application`, `Kustomization` or `HelmRelease`. */
  kind: string;
  name: string;
  namespace: string;
  /** How it was mapped to this environment, such as `label env=prod` or `name payment-{env}`. */
  mapping: string;
  /** Where to see it in its own tool (the Argo CD UI), when known. */
  url: string | null;
  syncStatus: 'Synced' | 'OutOfSync' | 'Unknown';
  /** Since when it is OutOfSync, as first seen by the backend (ISO 8601). */
  outOfSyncSince: string | null;
  healthStatus:
    | 'Healthy'
    | 'Progressing'
    | 'Degraded'
    | 'Suspended'
    | 'Missing'
    | 'Unknown';
  healthMessage: string | null;
  /** The revision it is synced to (the first source's, for multi-source applications). */
  revision: string | null;
  /** Every source's revision, for multi-source applications. */
  revisions: string[];
  images: string[];
  /** When it last finished a sync (ISO 8601). */
  syncedAt: string | null;
  /** When its tool last compared it with Git (ISO 8601). */
  reconciledAt: string | null;
  /** The last sync operation, with its message when it failed. */
  operation: LiveOperation | null;
  /** An Argo Rollout it deploys: the canary's step and weight. */
  rollout: LiveRollout | null;
}

/**
 * What really runs in one environment, from every live-state source that knows it.
 *
 * @public
 */
export interface LiveState {
  /** False when a source did not answer; `applications` are then the last known ones. */
  reachable: boolean;
  /** When the applications were last read (ISO 8601); the oldest, when several sources answer. */
  asOf: string | null;
  applications: LiveApplication[];
  /** Why a source could not be read, when it could not. */
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
 * The open promotion a second request for the same service and environment ran into: the
 * `openPromotion` of a 409 answer's error.
 *
 * @public
 */
export interface OpenPromotionConflict {
  /** The open promotion's id. */
  id: string;
  /** The entity's Promotions tab, where the open promotion is shown. */
  url: string;
  /** Its pull request, when it has one. */
  pullRequestUrl: string | null;
}

/**
 * The open promotion a 409 answer names, if it names one.
 *
 * @public
 */
export function openPromotionOf(
  errorBody: unknown,
): OpenPromotionConflict | undefined {
  const open = (errorBody as { error?: { openPromotion?: unknown } })?.error
    ?.openPromotion as Partial<OpenPromotionConflict> | undefined;
  if (typeof open?.id !== 'string' || typeof open.url !== 'string') {
    return undefined;
  }
  return {
    id: open.id,
    url: open.url,
    pullRequestUrl:
      typeof open.pullRequestUrl === 'string' ? open.pullRequestUrl : null,
  };
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
  /** The commit the preview was made on; a request naming it is refused if the branch moved. */
  baseCommit: string;
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
    | 'queued'
    | 'unqueued';
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

/**
 * An open promotion waiting for the signed-in person: one they may approve or merge and have
 * not decided on.
 *
 * @public
 */
export interface InboxItem {
  promotion: Promotion;
  /** What they may do to it: `approve`, `merge`, or both. */
  actions: Array<'approve' | 'merge'>;
  /** The service's owners, as entity refs. */
  owners: string[];
}

/**
 * A page of the approver inbox, oldest promotion first.
 *
 * @public
 */
export interface InboxPage {
  items: InboxItem[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}
