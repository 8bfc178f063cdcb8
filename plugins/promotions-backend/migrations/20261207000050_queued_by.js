// @ts-check

/**
 * Who queued a merge, checked again when the merge runs. A promotion queued before this column
 * existed has no queuer: it is taken off the queue when its window opens, to be queued again.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('promotions_requests', table => {
    table
      .string('queued_by', 255)
      .nullable()
      .comment('Who queued the merge: a user entity ref or a service subject');
    table
      .boolean('queued_by_service')
      .nullable()
      .comment('Whether queued_by is a service principal rather than a user');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('promotions_requests', table => {
    table.dropColumn('queued_by');
    table.dropColumn('queued_by_service');
  });
};
