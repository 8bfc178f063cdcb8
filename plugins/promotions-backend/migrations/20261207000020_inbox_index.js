// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('promotions_requests', table => {
    // The approver inbox pages through open promotions, oldest first, by (requested_at, id).
    table.index(
      ['state', 'requested_at', 'id'],
      'promotions_requests_inbox_idx',
    );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('promotions_requests', table => {
    table.dropIndex(
      ['state', 'requested_at', 'id'],
      'promotions_requests_inbox_idx',
    );
  });
};
