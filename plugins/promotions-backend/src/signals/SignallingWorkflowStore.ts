import { Knex } from 'knex';
import { WorkflowStore } from '../workflow/WorkflowStore';
import { EntitySignals } from './EntitySignals';

type Args<K extends keyof WorkflowStore> = WorkflowStore[K] extends (
  ...args: infer A
) => unknown
  ? A
  : never;

/**
 * The workflow's store, telling the open pages of an entity whenever one of its promotions
 * changes: opened, moved to another state, decided on, given a history line or judged otherwise,
 * and when one of its environments is frozen or the freeze lifted. Changes nobody sees (a
 * judgement that came out the same, a cleanup mark) send nothing.
 */
export class SignallingWorkflowStore extends WorkflowStore {
  constructor(db: Knex, private readonly signals: EntitySignals) {
    super(db);
  }

  private changed(entityRef: string) {
    // A freeze of every service's environment shows on every page: those look again on their own.
    if (entityRef !== '*') this.signals.changed([entityRef], 'promotion');
  }

  private async entityOf(promotionId: string) {
    return this.get(promotionId).catch(() => undefined);
  }

  async create(...args: Args<'create'>): Promise<void> {
    await super.create(...args);
    this.changed(args[0].entityRef);
  }

  async transition(...args: Args<'transition'>): Promise<boolean> {
    const [id, , change, history = []] = args;
    const seen = Object.entries(change).filter(
      ([key, value]) => value !== undefined && key !== 'cleanupPending',
    );
    if (seen.length === 0 && history.length === 0) {
      return super.transition(...args);
    }
    const before = await this.entityOf(id);
    const done = await super.transition(...args);
    if (!done || !before) return done;
    const onlyGates =
      history.length === 0 && seen.every(([key]) => key === 'gates');
    if (
      !onlyGates ||
      JSON.stringify(before.gates) !== JSON.stringify(change.gates)
    ) {
      this.changed(before.entityRef);
    }
    return done;
  }

  async decide(
    ...args: Args<'decide'>
  ): Promise<'recorded' | 'replaced' | 'unchanged'> {
    const outcome = await super.decide(...args);
    if (outcome !== 'unchanged') {
      const promotion = await this.entityOf(args[0]);
      if (promotion) this.changed(promotion.entityRef);
    }
    return outcome;
  }

  async withdraw(...args: Args<'withdraw'>): Promise<number> {
    const removed = await super.withdraw(...args);
    if (removed > 0) {
      const promotion = await this.entityOf(args[0]);
      if (promotion) this.changed(promotion.entityRef);
    }
    return removed;
  }

  async record(...args: Args<'record'>): Promise<void> {
    await super.record(...args);
    this.changed(args[0].entityRef);
  }

  async freeze(...args: Args<'freeze'>) {
    const freeze = await super.freeze(...args);
    this.changed(freeze.entityRef);
    return freeze;
  }

  async lift(...args: Args<'lift'>) {
    const freeze = await super.lift(...args);
    this.changed(freeze.entityRef);
    return freeze;
  }
}
