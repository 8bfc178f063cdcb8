/** A container image as an environment would deploy it. */
export interface ImageRef {
  /** Repository name, with registry when given (`ghcr.io/acme/payment`). */
  name: string;
  tag: string | null;
  digest: string | null;
}

/** The commit that last changed any file an environment's version is read from. */
export interface LastChange {
  commit: string;
  author: string;
  /** ISO 8601 timestamp of the commit. */
  at: string;
  /** Pull-request number when the commit message names one (`Merge pull request #12`, `(#12)`). */
  pullRequest: number | null;
  message: string;
}

export interface DesiredState {
  /** The version shown for the environment: the tag, or the short digest when only pinned by digest. */
  version: string | null;
  images: ImageRef[];
  /** Path in the repository the environment is read from (directory or values file). */
  path: string;
  lastChange: LastChange | null;
}

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

export interface ConfigDifference {
  /** Human readable key, such as `Deployment/payment containers[app].env.CACHE_SIZE`. */
  key: string;
  value: string | null;
  upstreamValue: string | null;
}

export interface ConfigDrift extends DriftBase {
  kind: 'config';
  upstream: string;
  differences: ConfigDifference[];
}

export interface OtherDrift extends DriftBase {
  kind: 'out-of-sync' | 'live-mismatch' | 'stale-promotion';
}

export type Drift = VersionDrift | ConfigDrift | OtherDrift;

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

export interface EntityPromotions {
  entityRef: string;
  /** When the repository was last read (ISO 8601); null before the first read. */
  asOf: string | null;
  repository: { id: string; revision: string | null };
  pipeline: string;
  environments: EnvironmentState[];
  /** The last refresh failed; what is shown is the last known state, of age `asOf`. */
  error?: { message: string; at: string };
}
