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
const ACTIVE: GroupRowState[] = ['opening', 'open', 'blocked'];

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
  ): Promise<{ id: string; systemRef: string } | undefined> {
    const row = await this.db(`${MEMBERS} as m`)
      .join(`${GROUPS} as g`, 'g.id', 'm.group_id')
      .where('m.promotion_id', promotionId)
      .whereIn('g.state', ACTIVE)
      .first('g.id as id', 'g.system_ref as system_ref');
    return row ? { id: row.id, systemRef: row.system_ref } : undefined;
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
   * when it was no longer in one of `from` (someone else moved it first).
   */
  async transition(
    id: string,
    from: GroupRowState[],
    to: { state: PromotionGroupState; reason: string | null },
    event: Omit<PromotionGroupEvent, 'at'> | null,
    at: string,
  ): Promise<boolean> {
    return this.db.transaction(async trx => {
      const changed = await trx<GroupRow>(GROUPS)
        .where({ id })
        .whereIn('state', from)
        .update({ state: to.state, reason: to.reason, updated_at: at });
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
