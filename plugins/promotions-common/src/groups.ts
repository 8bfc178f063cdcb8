import { Promotion } from './types';

/**
 * The routes of a system's grouped promotions, below the plugin's base URL.
 *
 * @public
 */
export const PROMOTION_GROUP_ROUTES = {
  systemPromotions: '/v1/systems/:namespace/:name/promotions',
  group: '/v1/promotion-groups/:id',
  groupMerge: '/v1/promotion-groups/:id/merge',
  groupClose: '/v1/promotion-groups/:id/close',
} as const;

/**
 * Where a group stands: `open` while its members are reviewed, `merging` while its members are
 * merged one after another (neither the group nor a member can be closed meanwhile; a merge a
 * crash interrupted is resumed by the backend), `merged` once every member is, `blocked` when a
 * member failed, was closed or could not be merged, `closed` when taken back.
 *
 * @public
 */
export type PromotionGroupState =
  | 'open'
  | 'merging'
  | 'merged'
  | 'blocked'
  | 'closed';

/**
 * A request to promote several components of a system to one environment as one release.
 *
 * @public
 */
export interface PromotionGroupRequest {
  to: string;
  members: Array<{ entityRef: string; version?: string }>;
}

/**
 * What happened to a group.
 *
 * @public
 */
export interface PromotionGroupEvent {
  at: string;
  /** `merge-interrupted`: the backend merging the group died midway, and another resumed it. */
  action:
    | 'requested'
    | 'merged'
    | 'blocked'
    | 'closed'
    | 'member-merged'
    | 'merge-interrupted';
  actor: string;
  reason: string | null;
}

/**
 * Promotions of several components of a system to one environment, merged together only when
 * every member's gates pass.
 *
 * @public
 */
export interface PromotionGroup {
  id: string;
  systemRef: string;
  environment: string;
  requestedBy: string;
  requestedAt: string;
  updatedAt: string;
  state: PromotionGroupState;
  reason: string | null;
  /** Each member's promotion the caller may read, in the order asked for. */
  members: Promotion[];
  /** How many members the caller may not read the promotions of, left out of `members`. */
  hiddenMembers: number;
  /**
   * Members whose gates do not all pass, each with why: the group cannot be merged meanwhile. A
   * member the caller may not read is named by neither: its entry has `entityRef` and
   * `promotionId` `''` and the reason `a member you may not read`. Likewise, the group's
   * `reason` and a `history` entry's that would name such a member say only that.
   */
  blocking: Array<{ entityRef: string; promotionId: string; reason: string }>;
  history: PromotionGroupEvent[];
}

/**
 * A system's components with the version each environment runs, and its groups, newest first.
 *
 * @public
 */
export interface SystemPromotions {
  systemRef: string;
  components: Array<{
    entityRef: string;
    title: string | null;
    /**
     * True when the caller may see the component in the catalog but not read its promotions:
     * each of its environments then has `version` null.
     */
    hidden: boolean;
    environments: Array<{ name: string; version: string | null }>;
    /**
     * When the component's repository was last read (ISO 8601): the age of its versions. Null
     * before the first read, and when `hidden`.
     */
    asOf: string | null;
    /**
     * The last refresh of the component's repository failed, when and why: the versions are the
     * last known ones, of age `asOf`. Absent when it succeeded, and when `hidden`.
     */
    refreshError?: { message: string; at: string };
  }>;
  groups: PromotionGroup[];
}

/**
 * One member's refusal when a group cannot be requested or merged.
 *
 * @public
 */
export interface PromotionGroupMemberError {
  entityRef: string;
  reason: string;
}
