import { Knex } from 'knex';
import { EntitySignals } from '../signals/EntitySignals';
import { SignallingWorkflowStore } from '../signals/SignallingWorkflowStore';
import { WorkflowStore } from '../workflow/WorkflowStore';
import { PromotionNotifier } from './PromotionNotifier';

type Args<K extends keyof WorkflowStore> = WorkflowStore[K] extends (
  ...args: infer A
) => unknown
  ? A
  : never;

/**
 * The workflow's store, signalling open pages as before and, when a promotion opens, changes
 * state or is judged again, telling its people what that calls for through the notifier.
 */
export class NotifyingWorkflowStore extends SignallingWorkflowStore {
  constructor(
    db: Knex,
    signals: EntitySignals,
    private readonly notifier: PromotionNotifier,
  ) {
    super(db, signals);
  }

  private async notify(promotionId: string) {
    await this.notifier.changed(
      await this.get(promotionId).catch(() => undefined),
    );
  }

  async create(...args: Args<'create'>): Promise<void> {
    await super.create(...args);
    await this.notify(args[0].id);
  }

  async supersede(...args: Args<'supersede'>): Promise<void> {
    await super.supersede(...args);
    await this.notify(args[1].id);
  }

  async transition(...args: Args<'transition'>): Promise<boolean> {
    const done = await super.transition(...args);
    const [id, , change] = args;
    if (done && (change.state !== undefined || change.gates !== undefined)) {
      await this.notify(id);
    }
    return done;
  }
}
