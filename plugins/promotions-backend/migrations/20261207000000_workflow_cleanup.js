// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('promotions_requests', table => {
    // Set with the state that ends a promotion, cleared once its branch and pull request are gone:
    // what a crash in between left behind, the sync removes.
    table
      .boolean('cleanup_pending')
      .notNullable()
      .defaultTo(false)
      .comment(
        'Its branch or pull request may still be left: the sync removes them',
      )
      // The sync looks for these every 30 seconds among every promotion ever made.
      .index();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('promotions_requests', table => {
    table.dropColumn('cleanup_pending');
  });
};
