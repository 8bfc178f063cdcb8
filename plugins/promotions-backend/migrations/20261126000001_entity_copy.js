// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('promotions_entity_state', table => {
    table
      .text('entity')
      .nullable()
      .comment(
        'JSON: the catalog entity as last refreshed, for permission decisions on page views',
      );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('promotions_entity_state', table => {
    table.dropColumn('entity');
  });
};
