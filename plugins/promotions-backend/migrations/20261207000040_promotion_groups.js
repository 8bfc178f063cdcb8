// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_groups', table => {
    table.comment(
      'Promotions of several components of one system to one environment, as one release',
    );
    table.string('id', 36).primary().comment('A UUID');
    table.string('system_ref', 255).notNullable();
    table.string('environment', 63).notNullable();
    table.string('requested_by', 255).notNullable();
    table.string('requested_at', 32).notNullable().comment('ISO 8601');
    table.string('updated_at', 32).notNullable().comment('ISO 8601');
    table
      .string('state', 16)
      .notNullable()
      .comment('open, merged, blocked or closed');
    table.text('reason').nullable().comment('Why it is blocked or closed');
    table.index(['system_ref', 'requested_at'], 'promotions_groups_system_idx');
  });
  await knex.schema.createTable('promotions_group_members', table => {
    table.comment('The promotions of a group, one per component');
    table
      .string('group_id', 36)
      .notNullable()
      .references('id')
      .inTable('promotions_groups')
      .onDelete('CASCADE');
    table.string('promotion_id', 36).notNullable();
    table.string('entity_ref', 255).notNullable();
    table.integer('position').notNullable().comment('The order asked for');
    table.primary(['group_id', 'promotion_id']);
    table.index(['promotion_id'], 'promotions_group_members_promotion_idx');
  });
  await knex.schema.createTable('promotions_group_history', table => {
    table.comment('What happened to each group, oldest first');
    table.increments('id');
    table
      .string('group_id', 36)
      .notNullable()
      .references('id')
      .inTable('promotions_groups')
      .onDelete('CASCADE');
    table.string('at', 32).notNullable().comment('ISO 8601');
    table
      .string('action', 32)
      .notNullable()
      .comment('requested, merged, blocked, closed, failed');
    table.string('actor', 255).notNullable();
    table.text('reason').nullable();
    table.index(['group_id', 'id'], 'promotions_group_history_group_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_group_history');
  await knex.schema.dropTable('promotions_group_members');
  await knex.schema.dropTable('promotions_groups');
};
