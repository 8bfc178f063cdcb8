import { DriftKind } from './types';

/**
 * One service's environment on the fleet page: its version and what drifts.
 *
 * @public
 */
export interface FleetCell {
  version: string | null;
  /** Each kind of drift the environment has, once. */
  drift: DriftKind[];
  /** The worst health the live-state sources report; null when none knows the environment. */
  health: string | null;
}

/**
 * One annotated service on the fleet page.
 *
 * @public
 */
export interface FleetRow {
  entityRef: string;
  title: string;
  owner: string | null;
  system: string | null;
  lifecycle: string | null;
  /** Keyed by environment name; an environment the service lacks is absent. */
  environments: Record<string, FleetCell>;
  /** When the service's repository was last read (ISO 8601): the age of its environments. */
  asOf: string | null;
  /**
   * The last refresh of the service's repository failed, when and why: the environments shown
   * are the last known state, of age `asOf`. Absent when the last refresh succeeded.
   */
  refreshError?: { message: string; at: string };
}

/**
 * How many of the matching services an environment's column holds, per drift kind.
 *
 * @public
 */
export interface FleetColumn {
  environment: string;
  services: number;
  drift: Partial<Record<DriftKind, number>>;
}

/**
 * What the fleet page sorts by: the service's name or owner, or an environment's version or drift.
 *
 * @public
 */
export type FleetSort =
  | { by: 'name' | 'owner' }
  | { by: 'version' | 'drift'; environment: string };

/**
 * A request for one page of the fleet.
 *
 * @public
 */
export interface FleetQuery {
  owner?: string;
  system?: string;
  lifecycle?: string;
  /** Only services with this kind of drift, in `driftEnvironment` when given, else anywhere. */
  drift?: DriftKind;
  driftEnvironment?: string;
  sort?: FleetSort;
  order?: 'asc' | 'desc';
  offset?: number;
  limit?: number;
}

/**
 * One page of the fleet, with the counts of every matching service the caller may see.
 *
 * @public
 */
export interface FleetPage {
  rows: FleetRow[];
  /** Matching services the caller may see, on every page. */
  total: number;
  /** Environments in pipeline order, each with its counts over every page. */
  columns: FleetColumn[];
  /** The owners, systems and lifecycles there are to filter by. */
  facets: { owners: string[]; systems: string[]; lifecycles: string[] };
}

/**
 * Every kind of drift, in the order the fleet page lists them.
 *
 * @public
 */
export const DRIFT_KINDS: DriftKind[] = [
  'behind',
  'ahead',
  'differs',
  'config',
  'out-of-sync',
  'live-mismatch',
  'waiting-for-sync',
  'stale-promotion',
];

/** The largest page the fleet route serves. @public */
export const FLEET_PAGE_LIMIT = 200;
