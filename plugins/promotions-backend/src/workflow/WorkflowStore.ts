import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  Freeze,
  GateEvaluation,
  HistoryEntry,
  Promotion,
  PromotionDecision,
  PromotionState,
} from '@gitops-promotions/plugin-promotions-common';
import { FileChange } from '@gitops-promotions/plugin-promotions-node';
import { Knex } from 'knex';

const REQUESTS = 'promotions_requests';
const DECISIONS = 'promotions_decisions';
const HISTORY = 'promotions_history';
const FREEZES = 'promotions_freezes';

/** States a promotion is not finished in: one such per service and environment. */
export const OPEN_STATES: PromotionState[] = ['opening', 'open', 'merging'];

/** A promotion as stored, with what the workflow needs that the API does not show. */
export interface StoredPromotion extends Omit<Promotion, 'decisions'> {
  decisions: StoredDecision[];
  repositoryId: string;
  baseBranch: string;
  baseCommit: string;
  branch: string;
  /**
   * The head the portal wrote on the branch. `headCommit` may be a later one someone pushed and
   * the sync took in: the cleanup deletes only what the portal wrote.
   */
  writtenCommit?: string | null;
  /** The files the promotion writes, as stored (contents in base64). */
  changes: Array<{ path: string; content: string | null }>;
  /** While merging: who merges, and the override they gave, if any. */
  merging?: {
    by: string;
    overrideReason: string | null;
    overriddenGates: GateEvaluation[] | null;
  } | null;
  /** Finished, and its branch or pull request may still be left: the sync removes them. */
  cleanupPending?: boolean;
  /** While queued: who queued the merge, checked again when it runs. */
  queuedBy?: { ref: string; service: boolean } | null;
}

/** A decision with the groups its author belonged to, for gates that name groups. */
export interface StoredDecision extends PromotionDecision {
  ownership: string[];
  /** The head commit decided on. */
  commit: string | null;
}

interface RequestRow {
  id: string;
  entity_ref: string;
  environment: string;
  repository_id: string;
  kind: 'promotion' | 'rollback';
  from_environments: string;
  version: string;
  previous_version: string | null;
  unknown_version: boolean | number;
  state: PromotionState;
  open_key: string | null;
  requested_by: string;
  requested_at: Date | string;
  updated_at: Date | string;
  base_branch: string;
  base_commit: string;
  branch: string;
  head_commit: string | null;
  written_commit?: string | null;
  pull_request_number: number | null;
  pull_request_url: string | null;
  changes: string;
  gates: string | null;
  merged_commit: string | null;
  reason: string | null;
  queued_until: Date | string | null;
  queued_by?: string | null;
  queued_by_service?: boolean | number | null;
  merging_by?: string | null;
  override_reason?: string | null;
  overridden_gates?: string | null;
  cleanup_pending?: boolean | number;
}

const iso = (value: Date | string | null) =>
  value === null ? null : new Date(value).toISOString();

const openKey = (entityRef: string, environment: string) =>
  `${entityRef}#${environment}`;

/** Whether an error is the database refusing a duplicate key. */
function isDuplicate(error: unknown): boolean {
  const text = String((error as { code?: string; message?: string })?.message);
  const code = (error as { code?: string })?.code;
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    /UNIQUE constraint failed|duplicate key/i.test(text)
  );
}

/** The workflow's tables: promotions, their decisions, freezes and a history kept forever. */
export class WorkflowStore {
  constructor(private readonly db: Knex) {}

  /**
   * Stores a new promotion, with its history. The database refuses a second open one for the
   * same service and environment, also when two requests race: a `ConflictError` naming the first.
   */
  async create(
    promotion: StoredPromotion,
    history: Array<Omit<HistoryEntry, 'id'>> = [],
  ): Promise<void> {
    try {
      await this.db.transaction(async trx => {
        await trx<RequestRow>(REQUESTS).insert(toRow(promotion));
        if (history.length > 0) {
          await trx(HISTORY).insert(history.map(historyRow));
        }
      });
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      throw await this.alreadyOpen(promotion);
    }
  }

  /**
   * Stores a new promotion in place of an open one, in one transaction: the open one closed with
   * the reason, its branch and pull request left to the cleanup, the new one inserted, and the
   * history of both. If any of it fails, nothing changes. A `ConflictError` when the open one
   * moved on meanwhile, as when two requests supersede it at once: only one of them does.
   */
  async supersede(
    open: { id: string; reason: string },
    promotion: StoredPromotion,
    history: Array<Omit<HistoryEntry, 'id'>>,
  ): Promise<void> {
    try {
      await this.db.transaction(async trx => {
        const closed = await trx<RequestRow>(REQUESTS)
          .where({ id: open.id, state: 'open' })
          .update(
            changeRow({
              state: 'closed',
              reason: open.reason,
              cleanupPending: true,
            }),
          );
        if (closed !== 1) {
          throw new ConflictError(
            `Promotion ${open.id} is no longer open; nothing was written`,
          );
        }
        await trx<RequestRow>(REQUESTS).insert(toRow(promotion));
        await trx(HISTORY).insert(history.map(historyRow));
      });
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      throw await this.alreadyOpen(promotion);
    }
  }

  /**
   * Marks a promotion that could not be opened failed, with its history, and in the same
   * transaction reopens the promotion it superseded, if that one still waits for its branch and
   * pull request to be removed: so that exactly one of the two stays open, the first with its
   * branch, pull request and decisions. The failed one leaves the open slot before the other takes
   * it back. False, and nothing written, when it was no longer being opened.
   */
  async failOpening(
    id: string,
    reason: string,
    history: Array<Omit<HistoryEntry, 'id'>>,
    reopened: (superseded: StoredPromotion) => Omit<HistoryEntry, 'id'>,
  ): Promise<boolean> {
    return this.db.transaction(async trx => {
      const failed = await trx<RequestRow>(REQUESTS)
        .where({ id, state: 'opening' })
        .update(changeRow({ state: 'failed', reason, cleanupPending: true }));
      if (failed !== 1) return false;
      if (history.length > 0) {
        await trx(HISTORY).insert(history.map(historyRow));
      }
      const superseded = await supersededIn(trx, id);
      if (superseded) {
        await trx<RequestRow>(REQUESTS)
          .where({ id: superseded.id, state: 'closed', cleanup_pending: true })
          .update({
            ...changeRow({
              state: 'open',
              reason: null,
              cleanupPending: false,
            }),
            open_key: openKey(superseded.entity_ref, superseded.environment),
          });
        await trx(HISTORY).insert(historyRow(reopened(fromRow(superseded))));
      }
      return true;
    });
  }

  /**
   * The promotion another one superseded, while it waits for its branch and pull request to be
   * removed: the other may still fail to open, and then this one is reopened.
   */
  async supersededBy(id: string): Promise<StoredPromotion | undefined> {
    const row = await supersededIn(this.db, id);
    return row ? this.withDecisions(fromRow(row)) : undefined;
  }

  private async alreadyOpen(promotion: StoredPromotion) {
    const open = await this.findOpen(
      promotion.entityRef,
      promotion.environment,
    );
    return new ConflictError(
      `A promotion to ${promotion.environment} of ${
        promotion.entityRef
      } is already open: ${open?.id ?? 'being opened'}`,
    );
  }

  async get(id: string): Promise<StoredPromotion> {
    const row = await this.db<RequestRow>(REQUESTS).where({ id }).first();
    if (!row) throw new NotFoundError(`No promotion ${id}`);
    return this.withDecisions(fromRow(row));
  }

  async findOpen(
    entityRef: string,
    environment: string,
  ): Promise<StoredPromotion | undefined> {
    const row = await this.db<RequestRow>(REQUESTS)
      .where({ open_key: openKey(entityRef, environment) })
      .first();
    return row ? this.withDecisions(fromRow(row)) : undefined;
  }

  /** Promotions in some states, oldest first; of one entity when given. */
  async list(options: {
    states?: PromotionState[];
    entityRef?: string;
    limit?: number;
    newestFirst?: boolean;
    /** Only finished promotions whose branch or pull request may still be left. */
    cleanupPending?: boolean;
  }): Promise<StoredPromotion[]> {
    const query = this.db<RequestRow>(REQUESTS).orderBy(
      'requested_at',
      options.newestFirst ? 'desc' : 'asc',
    );
    if (options.states) query.whereIn('state', options.states);
    if (options.entityRef) query.where({ entity_ref: options.entityRef });
    if (options.cleanupPending) query.where({ cleanup_pending: true });
    if (options.limit) query.limit(options.limit);
    const rows = await query;
    const promotions = rows.map(fromRow);
    const decisions = await this.decisionsOf(promotions.map(p => p.id));
    return promotions.map(p => ({
      ...p,
      decisions: decisions.get(p.id) ?? [],
    }));
  }

  /**
   * Changes a promotion only if it is still in the state the caller saw: two approvers merging
   * at once, or a restart finishing a step, change it once. False when it had moved on. The
   * history entries are written with the change, in one transaction, or not at all.
   */
  async transition(
    id: string,
    from: PromotionState[],
    change: Partial<
      Pick<
        StoredPromotion,
        | 'state'
        | 'headCommit'
        | 'writtenCommit'
        | 'pullRequest'
        | 'mergedCommit'
        | 'reason'
        | 'gates'
        | 'queuedUntil'
        | 'queuedBy'
        | 'merging'
        | 'cleanupPending'
      >
    >,
    history: Array<Omit<HistoryEntry, 'id'>> = [],
  ): Promise<boolean> {
    const row = changeRow(change);
    const update = (db: Knex) =>
      db<RequestRow>(REQUESTS).where({ id }).whereIn('state', from).update(row);
    if (history.length === 0) return (await update(this.db)) === 1;
    return this.db.transaction(async trx => {
      if ((await update(trx)) !== 1) return false;
      await trx(HISTORY).insert(history.map(historyRow));
      return true;
    });
  }

  /**
   * Records a person's decision on the promotion's head: `recorded` when it is their first on
   * it, `replaced` when it changes their earlier one, `unchanged` when they decided so already.
   * `entry`, its line of history, is written with the decision, in one transaction, or not at all.
   */
  async decide(
    promotionId: string,
    decision: StoredDecision,
    entry?: Omit<HistoryEntry, 'id'>,
  ): Promise<'recorded' | 'replaced' | 'unchanged'> {
    const key = {
      request_id: promotionId,
      decided_by: decision.by,
      source: decision.source,
      commit_sha: decision.commit ?? '',
    };
    const values = {
      ownership: JSON.stringify(decision.ownership),
      decision: decision.decision,
      comment: decision.comment,
      decided_at: new Date(decision.at),
    };
    return this.db.transaction(async trx => {
      const existing = await trx(DECISIONS).where(key).first();
      let outcome: 'recorded' | 'replaced';
      if (existing) {
        if (existing.decision === decision.decision) return 'unchanged';
        await trx(DECISIONS).where(key).update(values);
        outcome = 'replaced';
      } else {
        // The same person deciding twice at once: the first one stands.
        const inserted = await trx(DECISIONS)
          .insert({ ...key, ...values })
          .onConflict(['request_id', 'decided_by', 'source', 'commit_sha'])
          .ignore()
          .returning('request_id');
        if (inserted.length === 0) return 'unchanged';
        outcome = 'recorded';
      }
      if (entry) await trx(HISTORY).insert(historyRow(entry));
      return outcome;
    });
  }

  /** Removes a person's decisions from one source: a review dismissed on GitHub. */
  async withdraw(promotionId: string, by: string, source: 'portal' | 'github') {
    return this.db(DECISIONS)
      .where({ request_id: promotionId, decided_by: by, source })
      .delete();
  }

  async record(entry: Omit<HistoryEntry, 'id'>): Promise<void> {
    await this.db(HISTORY).insert(historyRow(entry));
  }

  /** An entity's history, newest first, a page at a time (`before` the last id seen). */
  async history(options: {
    entityRef: string;
    environment?: string;
    before?: number;
    limit: number;
  }): Promise<HistoryEntry[]> {
    const query = this.db(HISTORY)
      .where({ entity_ref: options.entityRef })
      .orderBy('id', 'desc')
      .limit(options.limit);
    if (options.environment) query.where({ environment: options.environment });
    if (options.before) query.where('id', '<', options.before);
    const rows = await query;
    return rows.map(row => ({
      id: Number(row.id),
      entityRef: row.entity_ref,
      environment: row.environment,
      action: row.action,
      actor: row.actor,
      at: iso(row.at)!,
      version: row.version,
      kind: row.kind,
      promotionId: row.request_id,
      pullRequest: row.pull_request_number,
      comment: row.comment,
    }));
  }

  /** Freezes an environment, and says so in its history: both, or neither. */
  async freeze(freeze: Omit<Freeze, 'id'>): Promise<Freeze> {
    return this.db.transaction(async trx => {
      const [row] = await trx(FREEZES)
        .insert({
          entity_ref: freeze.entityRef,
          environment: freeze.environment,
          reason: freeze.reason,
          frozen_by: freeze.by,
          frozen_at: new Date(freeze.at),
        })
        .returning('id');
      const id = typeof row === 'object' ? Number(row.id) : Number(row);
      await trx(HISTORY).insert(
        historyRow(freezeEntry(freeze, 'frozen', freeze.by, freeze.at)),
      );
      return { ...freeze, id };
    });
  }

  /** Lifts a freeze in force, and says so in its history with the reason: both, or neither. */
  async lift(
    id: number,
    lifted: { by: string; at: string; reason: string },
  ): Promise<Freeze> {
    return this.db.transaction(async trx => {
      const row = await trx(FREEZES)
        .where({ id })
        .whereNull('lifted_at')
        .first();
      if (!row) throw new NotFoundError(`No freeze ${id} in force`);
      // Only one of two lifts at once finds it still in force: the other is told it is gone.
      const count = await trx(FREEZES)
        .where({ id })
        .whereNull('lifted_at')
        .update({ lifted_by: lifted.by, lifted_at: new Date(lifted.at) });
      if (count === 0) throw new NotFoundError(`No freeze ${id} in force`);
      const freeze = fromFreezeRow(row);
      await trx(HISTORY).insert(
        historyRow(
          freezeEntry(freeze, 'unfrozen', lifted.by, lifted.at, lifted.reason),
        ),
      );
      return freeze;
    });
  }

  /** Freezes in force on an environment of an entity: its own, and those of every service. */
  async freezes(entityRef?: string, environment?: string): Promise<Freeze[]> {
    const query = this.db(FREEZES).whereNull('lifted_at').orderBy('id');
    if (entityRef) query.whereIn('entity_ref', [entityRef, '*']);
    if (environment) query.whereIn('environment', [environment, '*']);
    return (await query).map(fromFreezeRow);
  }

  private async withDecisions(promotion: StoredPromotion) {
    const decisions = await this.decisionsOf([promotion.id]);
    return { ...promotion, decisions: decisions.get(promotion.id) ?? [] };
  }

  /** Decisions of some promotions, in the order they were made. */
  async decisionsOf(ids: string[]): Promise<Map<string, StoredDecision[]>> {
    const result = new Map<string, StoredDecision[]>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db(DECISIONS)
        .whereIn('request_id', ids.slice(i, i + 500))
        .orderBy('id');
      for (const row of rows) {
        const list = result.get(row.request_id) ?? [];
        list.push({
          by: row.decided_by,
          ownership: JSON.parse(row.ownership),
          decision: row.decision,
          comment: row.comment,
          source: row.source,
          commit: row.commit_sha || null,
          at: iso(row.decided_at)!,
        });
        result.set(row.request_id, list);
      }
    }
    return result;
  }
}

/** The reason a promotion closed by `supersede` for another one is stored with. */
export const supersededReason = (by: string) => `Superseded by ${by}`;

/** The promotion another one superseded, if it still waits for its tidying. */
async function supersededIn(
  db: Knex,
  by: string,
): Promise<RequestRow | undefined> {
  const replacement = await db<RequestRow>(REQUESTS).where({ id: by }).first();
  if (!replacement) return undefined;
  return db<RequestRow>(REQUESTS)
    .where({
      entity_ref: replacement.entity_ref,
      environment: replacement.environment,
      state: 'closed',
      cleanup_pending: true,
      reason: supersededReason(by),
    })
    .whereNot({ id: by })
    .first();
}

type PromotionChange = Parameters<WorkflowStore['transition']>[2];

/** The columns a change of a promotion writes. */
function changeRow(change: PromotionChange): Partial<RequestRow> {
  const row: Partial<RequestRow> = { updated_at: new Date() };
  if (change.state) {
    row.state = change.state;
    if (!OPEN_STATES.includes(change.state)) row.open_key = null;
  }
  if (change.headCommit !== undefined) row.head_commit = change.headCommit;
  if (change.writtenCommit !== undefined) {
    row.written_commit = change.writtenCommit;
  }
  if (change.pullRequest !== undefined) {
    row.pull_request_number = change.pullRequest?.number ?? null;
    row.pull_request_url = change.pullRequest?.url ?? null;
  }
  if (change.mergedCommit !== undefined) {
    row.merged_commit = change.mergedCommit;
  }
  if (change.reason !== undefined) row.reason = change.reason;
  if (change.gates !== undefined) row.gates = JSON.stringify(change.gates);
  if (change.merging !== undefined) {
    row.merging_by = change.merging?.by ?? null;
    row.override_reason = change.merging?.overrideReason ?? null;
    row.overridden_gates = change.merging?.overriddenGates
      ? JSON.stringify(change.merging.overriddenGates)
      : null;
  }
  if (change.queuedUntil !== undefined) {
    row.queued_until = change.queuedUntil ? new Date(change.queuedUntil) : null;
  }
  if (change.cleanupPending !== undefined) {
    row.cleanup_pending = change.cleanupPending;
  }
  if (change.queuedBy !== undefined) {
    row.queued_by = change.queuedBy?.ref ?? null;
    row.queued_by_service = change.queuedBy ? change.queuedBy.service : null;
  }
  return row;
}

/** The history entry of a freeze set or lifted. */
function freezeEntry(
  freeze: Omit<Freeze, 'id'>,
  action: 'frozen' | 'unfrozen',
  actor: string,
  at: string,
  comment = freeze.reason,
): Omit<HistoryEntry, 'id'> {
  return {
    entityRef: freeze.entityRef,
    environment: freeze.environment,
    action,
    actor,
    at,
    version: null,
    kind: null,
    promotionId: null,
    pullRequest: null,
    comment,
  };
}

function historyRow(entry: Omit<HistoryEntry, 'id'>) {
  return {
    entity_ref: entry.entityRef,
    environment: entry.environment,
    action: entry.action,
    actor: entry.actor,
    at: new Date(entry.at),
    version: entry.version,
    kind: entry.kind,
    request_id: entry.promotionId,
    pull_request_number: entry.pullRequest,
    comment: entry.comment,
  };
}

function toRow(p: StoredPromotion): RequestRow {
  return {
    id: p.id,
    entity_ref: p.entityRef,
    environment: p.environment,
    repository_id: p.repositoryId,
    kind: p.kind,
    from_environments: JSON.stringify(p.from),
    version: p.version,
    previous_version: p.previousVersion,
    unknown_version: p.unknownVersion,
    state: p.state,
    open_key: OPEN_STATES.includes(p.state)
      ? openKey(p.entityRef, p.environment)
      : null,
    requested_by: p.requestedBy,
    requested_at: new Date(p.requestedAt),
    updated_at: new Date(p.updatedAt),
    base_branch: p.baseBranch,
    base_commit: p.baseCommit,
    branch: p.branch,
    head_commit: p.headCommit,
    written_commit: p.writtenCommit ?? null,
    pull_request_number: p.pullRequest?.number ?? null,
    pull_request_url: p.pullRequest?.url ?? null,
    changes: JSON.stringify(p.changes),
    gates: JSON.stringify(p.gates),
    merged_commit: p.mergedCommit,
    reason: p.reason,
    queued_until: p.queuedUntil ? new Date(p.queuedUntil) : null,
    queued_by: p.queuedBy?.ref ?? null,
    queued_by_service: p.queuedBy ? p.queuedBy.service : null,
    cleanup_pending: Boolean(p.cleanupPending),
  };
}

function fromRow(row: RequestRow): StoredPromotion {
  return {
    id: row.id,
    entityRef: row.entity_ref,
    environment: row.environment,
    repositoryId: row.repository_id,
    kind: row.kind,
    from: JSON.parse(row.from_environments),
    version: row.version,
    previousVersion: row.previous_version,
    unknownVersion: Boolean(row.unknown_version),
    state: row.state,
    requestedBy: row.requested_by,
    requestedAt: iso(row.requested_at)!,
    updatedAt: iso(row.updated_at)!,
    baseBranch: row.base_branch,
    baseCommit: row.base_commit,
    branch: row.branch,
    headCommit: row.head_commit,
    writtenCommit: row.written_commit ?? null,
    pullRequest:
      row.pull_request_number !== null
        ? { number: row.pull_request_number, url: row.pull_request_url ?? '' }
        : null,
    changes: JSON.parse(row.changes),
    gates: row.gates ? (JSON.parse(row.gates) as GateEvaluation[]) : [],
    decisions: [],
    mergedCommit: row.merged_commit,
    reason: row.reason,
    queuedUntil: iso(row.queued_until),
    queuedBy: row.queued_by
      ? { ref: row.queued_by, service: Boolean(row.queued_by_service) }
      : null,
    merging: row.merging_by
      ? {
          by: row.merging_by,
          overrideReason: row.override_reason ?? null,
          overriddenGates: row.overridden_gates
            ? (JSON.parse(row.overridden_gates) as GateEvaluation[])
            : null,
        }
      : null,
    cleanupPending: Boolean(row.cleanup_pending),
  };
}

function fromFreezeRow(row: any): Freeze {
  return {
    id: Number(row.id),
    entityRef: row.entity_ref,
    environment: row.environment,
    reason: row.reason,
    by: row.frozen_by,
    at: iso(row.frozen_at)!,
  };
}

/** Files as a promotion stores them, and back. */
export const storeChanges = (changes: FileChange[]) =>
  changes.map(c => ({
    path: c.path,
    content: c.content ? c.content.toString('base64') : null,
  }));
export const loadChanges = (
  changes: Array<{ path: string; content: string | null }>,
): FileChange[] =>
  changes.map(c => ({
    path: c.path,
    content: c.content === null ? null : Buffer.from(c.content, 'base64'),
  }));
