import {
  PromotionGroupEvent,
  PromotionGroupState,
} from '@gitops-promotions/plugin-promotions-common';
import { Knex } from 'knex';

const GROUPS = 'promotions_groups';
const MEMBERS = 'promotions_group_members';
const HISTORY = 'promotions_group_history';

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
  state: PromotionGroupState;
  reason: string | null;
}

/** Groups of promotions, their members and what happened to them. */
export class GroupStore {
  constructor(private readonly db: Knex) {}

  /** Writes a group with its members and its first history entry, at once. */
  async create(
    group: Omit<StoredGroup, 'updatedAt'>,
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
        state: group.state,
        reason: group.reason,
      });
      if (group.members.length) {
        await trx(MEMBERS).insert(
          group.members.map((m, position) => ({
            group_id: group.id,
            promotion_id: m.promotionId,
            entity_ref: m.entityRef,
            position,
          })),
        );
      }
      await trx(HISTORY).insert({
        group_id: group.id,
        at: group.requestedAt,
        action: event.action,
        actor: event.actor,
        reason: event.reason,
      });
    });
  }

  async get(id: string): Promise<StoredGroup | undefined> {
    const [group] = await this.withMembers(
      await this.db<GroupRow>(GROUPS).where({ id }),
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
        .orderBy('requested_at', 'desc')
        .orderBy('id')
        .limit(limit),
    );
  }

  /**
   * Moves a group from one of `from` to `state`, with its history entry, in one write; false
   * when it was no longer in one of `from` (someone else moved it first).
   */
  async transition(
    id: string,
    from: PromotionGroupState[],
    to: { state: PromotionGroupState; reason: string | null },
    event: Omit<PromotionGroupEvent, 'at'>,
    at: string,
  ): Promise<boolean> {
    return this.db.transaction(async trx => {
      const changed = await trx<GroupRow>(GROUPS)
        .where({ id })
        .whereIn('state', from)
        .update({ state: to.state, reason: to.reason, updated_at: at });
      if (!changed) return false;
      await trx(HISTORY).insert({ group_id: id, at, ...event });
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
      state: r.state,
      reason: r.reason ?? null,
      members: members
        .filter(m => m.group_id === r.id)
        .map(m => ({ promotionId: m.promotion_id, entityRef: m.entity_ref })),
    }));
  }
}
