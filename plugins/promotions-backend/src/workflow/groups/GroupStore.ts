import {
  PromotionGroupEvent,
  PromotionGroupState,
} from '@gitops-promotions/plugin-promotions-common';
import { Knex } from 'knex';

const GROUPS = 'promotions_groups';
const MEMBERS = 'promotions_group_members';
const HISTORY = 'promotions_group_history';

/** Stored, and not yet a group: its members are still being opened. */
export type GroupRowState = PromotionGroupState | 'opening';
/** Groups whose members merge with them only. */
const ACTIVE: GroupRowState[] = ['opening', 'open', 'blocked', 'merging'];

/** A group as stored: its members are promotion ids, read through the workflow. */
export interface StoredGroup {
  id: string;
  systemRef: string;
  environment: string;
  requestedBy: string;
  requestedAt: string;
  updatedAt: string;
  state: PromotionGroupState;
  reason: string | null;
  members: Array<{ promotionId: string; entityRef: string }>;
}

interface GroupRow {
  id: string;
  system_ref: string;
  environment: string;
  requested_by: string;
  requested_at: string;
  updated_at: string;
  state: GroupRowState;
  reason: string | null;
  merging_since?: string | null;
  merging_lease?: string | null;
  merging_by?: string | null;
  merging_by_service?: boolean | number | null;
}

/** Who holds a group being merged, and since when it last made progress. */
export interface MergeLease {
  lease: string;
  since: string;
  /** Who asked for the merge: a resumed merge is theirs. */
  by: { ref: string; service: boolean };
}

/** Groups of promotions, their members and what happened to them. */
export class GroupStore {
  constructor(private readonly db: Knex) {}

  /**
   * Writes a group still being opened, without members, and its first history entry, at once:
   * each member is added before its promotion is asked for, so that a crash leaves nothing
   * untracked.
   */
  async open(
    group: Omit<StoredGroup, 'updatedAt' | 'state' | 'reason' | 'members'>,
    event: Omit<PromotionGroupEvent, 'at'>,
  ): Promise<void> {
    await this.db.transaction(async trx => {
      await trx<GroupRow>(GROUPS).insert({
        id: group.id,
        system_ref: group.systemRef,
        environment: group.environment,
        requested_by: group.requestedBy,
        requested_at: group.requestedAt,
        updated_at: group.requestedAt,
        state: 'opening',
        reason: null,
      });
      await trx(HISTORY).insert({
        group_id: group.id,
        at: group.requestedAt,
        action: event.action,
        actor: event.actor,
        reason: event.reason,
      });
    });
  }

  /** Adds a member to a group being opened; its promotion is asked for next, with this id. */
  async addMember(
    id: string,
    member: { promotionId: string; entityRef: string; position: number },
    at: string,
  ): Promise<void> {
    await this.db.transaction(async trx => {
      await trx(MEMBERS).insert({
        group_id: id,
        promotion_id: member.promotionId,
        entity_ref: member.entityRef,
        position: member.position,
      });
      // Progress: the group is not stuck while its members still open.
      await trx<GroupRow>(GROUPS)
        .where({ id, state: 'opening' })
        .update({ updated_at: at });
    });
  }

  /** Drops a member whose promotion was never stored. */
  async removeMember(id: string, promotionId: string): Promise<void> {
    await this.db(MEMBERS)
      .where({ group_id: id, promotion_id: promotionId })
      .delete();
  }

  /** Forgets a group that was never opened, with its members and history. */
  async delete(id: string): Promise<void> {
    await this.db.transaction(async trx => {
      await trx(HISTORY).where({ group_id: id }).delete();
      await trx(MEMBERS).where({ group_id: id }).delete();
      await trx<GroupRow>(GROUPS).where({ id }).delete();
    });
  }

  /** The group a promotion belongs to while that group is still to be merged or closed. */
  async activeGroupOf(
    promotionId: string,
  ): Promise<
    { id: string; systemRef: string; state: GroupRowState } | undefined
  > {
    const row = await this.db(`${MEMBERS} as m`)
      .join(`${GROUPS} as g`, 'g.id', 'm.group_id')
      .where('m.promotion_id', promotionId)
      .whereIn('g.state', ACTIVE)
      .first('g.id as id', 'g.system_ref as system_ref', 'g.state as state');
    return row
      ? { id: row.id, systemRef: row.system_ref, state: row.state }
      : undefined;
  }

  /**
   * Takes a group in one of `from` for a merge, at once: false when it was in none of them (another
   * merge took it first, or it was closed). Writes no history: a merge that merges nothing leaves
   * none.
   */
  async takeMerge(
    id: string,
    from: GroupRowState[],
    lease: Omit<MergeLease, 'since'>,
    at: string,
  ): Promise<boolean> {
    const changed = await this.db<GroupRow>(GROUPS)
      .where({ id })
      .whereIn('state', from)
      .update({
        state: 'merging',
        updated_at: at,
        merging_since: at,
        merging_lease: lease.lease,
        merging_by: lease.by.ref,
        merging_by_service: lease.by.service,
      });
    return changed > 0;
  }

  /**
   * Renews a merge's lease, or hands it to `next` (a merge resumed); false when the merge no
   * longer holds it.
   */
  async renewMerge(
    id: string,
    lease: string,
    at: string,
    next = lease,
  ): Promise<boolean> {
    const changed = await this.db<GroupRow>(GROUPS)
      .where({ id, state: 'merging', merging_lease: lease })
      .update({ merging_since: at, merging_lease: next, updated_at: at });
    return changed > 0;
  }

  /** Groups being merged with no progress since `before`: the backend merging them died. */
  async stuckMerging(
    before: string,
  ): Promise<Array<Omit<StoredGroup, 'state'> & { merging: MergeLease }>> {
    const rows = await this.db<GroupRow>(GROUPS)
      .where({ state: 'merging' })
      .where('merging_since', '<', before)
      .orderBy('requested_at', 'asc');
    const groups = await this.withMembers(rows);
    return groups.map(({ state: _merging, ...group }) => {
      const row = rows.find(r => r.id === group.id)!;
      return {
        ...group,
        merging: {
          lease: row.merging_lease ?? '',
          since: row.merging_since ?? '',
          by: {
            ref: row.merging_by ?? '',
            service: Boolean(row.merging_by_service),
          },
        },
      };
    });
  }

  /** Groups still being opened with no progress since `before`: their request died. */
  async stuckOpening(before: string): Promise<Omit<StoredGroup, 'state'>[]> {
    const groups = await this.withMembers(
      await this.db<GroupRow>(GROUPS)
        .where({ state: 'opening' })
        .where('updated_at', '<', before)
        .orderBy('requested_at', 'asc'),
    );
    return groups.map(({ state: _opening, ...group }) => group);
  }

  async get(id: string): Promise<StoredGroup | undefined> {
    const [group] = await this.withMembers(
      await this.db<GroupRow>(GROUPS)
        .where({ id })
        .whereNot({ state: 'opening' }),
    );
    return group;
  }

  /** A system's groups, newest first. */
  async ofSystem(systemRef: string, limit = 50): Promise<StoredGroup[]> {
    return this.withMembers(
      await this.db<GroupRow>(GROUPS)
        .whereRaw('lower(system_ref) = ?', [
          systemRef.toLocaleLowerCase('en-US'),
        ])
        .whereNot({ state: 'opening' })
        .orderBy('requested_at', 'desc')
        .orderBy('id')
        .limit(limit),
    );
  }

  /**
   * Moves a group from one of `from` to `state`, with its history entry if any, in one write; false
   * when it was no longer in one of `from` (someone else moved it first), or, given a `lease`, when
   * that merge no longer holds it. A group leaving `merging` lets go of its lease.
   */
  async transition(
    id: string,
    from: GroupRowState[],
    to: {
      state: Exclude<PromotionGroupState, 'merging'>;
      reason: string | null;
    },
    event: Omit<PromotionGroupEvent, 'at'> | null,
    at: string,
    lease?: string,
  ): Promise<boolean> {
    return this.db.transaction(async trx => {
      const changed = await trx<GroupRow>(GROUPS)
        .where({ id })
        .whereIn('state', from)
        .where(q => {
          if (lease !== undefined) q.where({ merging_lease: lease });
        })
        .update({
          state: to.state,
          reason: to.reason,
          updated_at: at,
          merging_since: null,
          merging_lease: null,
          merging_by: null,
          merging_by_service: null,
        });
      if (!changed) return false;
      if (event) await trx(HISTORY).insert({ group_id: id, at, ...event });
      return true;
    });
  }

  /** Records what happened without moving the group. */
  async record(id: string, event: Omit<PromotionGroupEvent, 'at'>, at: string) {
    await this.db(HISTORY).insert({ group_id: id, at, ...event });
  }

  async history(id: string): Promise<PromotionGroupEvent[]> {
    const rows = await this.db(HISTORY)
      .where({ group_id: id })
      .orderBy('id', 'asc');
    return rows.map(r => ({
      at: r.at,
      action: r.action,
      actor: r.actor,
      reason: r.reason ?? null,
    }));
  }

  private async withMembers(rows: GroupRow[]): Promise<StoredGroup[]> {
    if (!rows.length) return [];
    const members = await this.db(MEMBERS)
      .whereIn(
        'group_id',
        rows.map(r => r.id),
      )
      .orderBy('position', 'asc');
    return rows.map(r => ({
      id: r.id,
      systemRef: r.system_ref,
      environment: r.environment,
      requestedBy: r.requested_by,
      requestedAt: r.requested_at,
      updatedAt: r.updated_at,
      // Only `stuckOpening` reads groups being opened, and it leaves their state out.
      state: r.state as PromotionGroupState,
      reason: r.reason ?? null,
      members: members
        .filter(m => m.group_id === r.id)
        .map(m => ({ promotionId: m.promotion_id, entityRef: m.entity_ref })),
    }));
  }
}
