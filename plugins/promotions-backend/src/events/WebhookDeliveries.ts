import { Knex } from 'knex';

const TABLE = 'promotions_webhook_deliveries';
/** GitHub redelivers within hours; a day covers that and keeps the table small. */
const KEPT_MS = 24 * 60 * 60 * 1000;

/**
 * The webhook deliveries the replicas sharing a database have taken, so that each delivery is
 * acted on by one of them only.
 */
export class WebhookDeliveries {
  constructor(
    private readonly db: Knex,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Takes a delivery: true for the first caller of any replica, false for every later one.
   * Deliveries older than a day are forgotten on the way.
   */
  async take(deliveryId: string): Promise<boolean> {
    const now = this.now();
    await this.db(TABLE)
      .where('received_at', '<', new Date(now.getTime() - KEPT_MS))
      .delete();
    const inserted = await this.db(TABLE)
      .insert({ delivery_id: deliveryId, received_at: now })
      .onConflict('delivery_id')
      .ignore()
      .returning('delivery_id');
    return inserted.length === 1;
  }
}
