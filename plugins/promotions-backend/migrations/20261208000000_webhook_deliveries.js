// @ts-check

/**
 * The GitHub webhook deliveries handled lately, by delivery id, so that a delivery that reaches
 * several replicas (or comes again) is acted on once.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_webhook_deliveries', table => {
    table
      .string('delivery_id', 64)
      .primary()
      .comment('The x-github-delivery header of the delivery');
    table
      .timestamp('received_at', { useTz: true })
      .notNullable()
      .index()
      .comment(
        'When a replica first took the delivery; rows older than a day are pruned',
      );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_webhook_deliveries');
};
