// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_scaffolds', table => {
    table.comment(
      'Services the template published and registered from their branch, until merged',
    );
    table.string('entity_ref', 255).primary().notNullable();
    table.string('repository_id', 255).notNullable().index();
    table.string('branch', 255).notNullable();
    table.string('path', 1024).notNullable();
    table.text('pull_request_url').nullable();
    table.string('state', 16).notNullable().comment('pending or merged');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('merged_at', { useTz: true }).nullable();
  });
  await knex.schema.alterTable('promotions_entity_state', table => {
    table
      .text('waiting')
      .nullable()
      .comment('JSON: the branch and pull request of a layout not merged yet');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('promotions_entity_state', table => {
    table.dropColumn('waiting');
  });
  await knex.schema.dropTable('promotions_scaffolds');
};
