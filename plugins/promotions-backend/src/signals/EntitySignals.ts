import { LoggerService } from '@backstage/backend-plugin-api';
import { SignalsService } from '@backstage/plugin-signals-node';
import {
  PromotionsSignal,
  promotionsSignalChannel,
} from '@gitops-promotions/plugin-promotions-common';

/**
 * Tells the open Promotions tabs of entities that their state or promotions changed, through
 * Backstage signals, one channel per entity. A signal says only which kind of change: the tab
 * reads the rest through the API, permission-checked. Sent in the background, in order, so that
 * neither a refresh nor a promotion waits for it or fails with it.
 */
export class EntitySignals {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: { signals: SignalsService; logger: LoggerService },
  ) {}

  changed(entityRefs: Iterable<string>, change: PromotionsSignal['change']) {
    const refs = [...new Set(entityRefs)];
    if (refs.length === 0) return;
    this.tail = this.tail.then(async () => {
      for (const entityRef of refs) {
        try {
          await this.deps.signals.publish<PromotionsSignal>({
            recipients: { type: 'broadcast' },
            channel: promotionsSignalChannel(entityRef),
            message: { change },
          });
        } catch (error) {
          this.deps.logger.warn(
            `Could not signal the change of ${entityRef} to open pages: ${error}`,
          );
        }
      }
    });
  }

  /** Resolves when every signal asked for so far was sent: for tests. */
  async idle(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }
}
