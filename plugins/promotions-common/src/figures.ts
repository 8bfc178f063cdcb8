/**
 * The windows delivery figures are computed over, in days.
 *
 * @public
 */
export const DELIVERY_FIGURE_WINDOWS = [7, 30, 90] as const;

/**
 * A window delivery figures are computed over, in days.
 *
 * @public
 */
export type DeliveryFigureWindow = (typeof DELIVERY_FIGURE_WINDOWS)[number];

/**
 * The window used when none is asked for.
 *
 * @public
 */
export const DEFAULT_DELIVERY_FIGURE_WINDOW: DeliveryFigureWindow = 30;

/**
 * How often an environment's version changed in the window.
 *
 * @public
 */
export interface DeploymentFrequency {
  /** Changes of the environment's version in the window. */
  count: number;
  /** `count` per 7 days of the window. */
  perWeek: number;
  /** Changes per week of the window, oldest week first; the last one may be shorter. */
  weeks: Array<{ start: string; count: number }>;
}

/**
 * How often a promotion to an environment went wrong in the window.
 *
 * @public
 */
export interface ChangeFailureRate {
  /** Promotions, rollbacks included, requested in the window. */
  promotions: number;
  /** Of those, rollbacks. */
  rollbacks: number;
  /** Of those, promotions (not rollbacks) that ended failed. */
  failed: number;
  /** `(rollbacks + failed) / promotions`, between 0 and 1; null without promotions. */
  rate: number | null;
}

/**
 * How long the rollbacks requested in the window took to merge.
 *
 * @public
 */
export interface TimeToRestore {
  /** Median of the merged rollbacks' open-to-merge times; null when none merged. */
  medianMs: number | null;
  rollbacks: Array<{
    promotionId: string;
    version: string | null;
    requestedAt: string;
    /** Null while it is not merged (open, closed or failed). */
    mergedAt: string | null;
    ms: number | null;
  }>;
}

/**
 * Delivery figures of one environment of a service.
 *
 * @public
 */
export interface EnvironmentDeliveryFigures {
  environment: string;
  production: boolean;
  deployments: DeploymentFrequency;
  changeFailure: ChangeFailureRate;
  restore: TimeToRestore;
}

/**
 * How long versions took from the pipeline's first environment to one production environment.
 *
 * @public
 */
export interface LeadTimeFigures {
  /** The production environment. */
  environment: string;
  medianMs: number | null;
  p90Ms: number | null;
  /** Versions that first ran in the production environment within the window. */
  versions: Array<{
    version: string;
    /** The environment that ran it first, and when. */
    firstEnvironment: string;
    firstAt: string;
    productionAt: string;
    ms: number;
  }>;
  /** Versions that reached production within the window without running anywhere before it. */
  direct: number;
  /**
   * Versions that reached production within the window but already ran elsewhere at the oldest
   * commit read, so that when they first ran is not known: left out of the median and p90.
   */
  unknownStart: number;
}

/**
 * Delivery figures of one service, over a window.
 *
 * @public
 */
export interface DeliveryFigures {
  entityRef: string;
  /** The window, `to` being when the figures were computed. */
  window: { days: number; from: string; to: string };
  /** Per environment, in pipeline order. */
  environments: EnvironmentDeliveryFigures[];
  /** Per production environment (`production: true` in the pipeline); empty when it has none. */
  leadTime: LeadTimeFigures[];
}

/**
 * Delivery figures of every visible service of one owner, pooled.
 *
 * @public
 */
export interface OwnerDeliveryFigures {
  owner: string;
  services: number;
  /** Changes of every environment's version, and per week. */
  deployments: { count: number; perWeek: number };
  /** Changes of production environments' versions, and per week. */
  productionDeployments: { count: number; perWeek: number };
  /** Over the lead times of every service's versions to production. */
  leadTime: { medianMs: number | null; p90Ms: number | null; versions: number };
  changeFailure: ChangeFailureRate;
  restore: { medianMs: number | null; restored: number; unrestored: number };
}

/** The most owners one request for fleet figures may name. @public */
export const FLEET_FIGURES_OWNER_LIMIT = 20;

/**
 * The fleet's figures for some owners.
 *
 * @public
 */
export interface FleetDeliveryFigures {
  window: { days: number; from: string; to: string };
  owners: OwnerDeliveryFigures[];
  /** More services matched than one answer reads: the figures cover the first ones only. */
  truncated: boolean;
}
