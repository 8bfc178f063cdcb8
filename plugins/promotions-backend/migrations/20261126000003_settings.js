// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_settings', table => {
    table.comment(
      'Settings the plugin makes for itself, shared by every replica',
    );
    table.string('name', 63).primary().notNullable();
    table.text('value').notNullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_settings');
};
