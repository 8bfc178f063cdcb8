// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_notifications', table => {
    table.comment(
      'What each promotion has told people through Backstage notifications, so that nothing is told twice',
    );
    table.string('promotion_id', 64).notNullable();
    table
      .string('event', 255)
      .notNullable()
      .comment(
        'approval, blocked:<failing gates>, stale, rollback-requested, rollback-merged',
      );
    table.string('entity_ref', 255).notNullable();
    table.string('environment', 63).notNullable();
    table.timestamp('sent_at', { useTz: true }).notNullable();
    table.primary(['promotion_id', 'event']);
    table.index(['entity_ref', 'event'], 'promotions_notifications_entity_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_notifications');
};
