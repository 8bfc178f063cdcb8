// @ts-check

/**
 * Who is merging a group and since when: the lease of a group in `merging`, renewed after each
 * member, so that the sync resumes the merge of a backend that died midway, and only one does.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('promotions_groups', table => {
    table
      .string('merging_since', 32)
      .nullable()
      .comment('ISO 8601: when the merge last made progress, while merging');
    table
      .string('merging_lease', 36)
      .nullable()
      .comment('A UUID naming the one merge that holds the group');
    table
      .string('merging_by', 255)
      .nullable()
      .comment('Who asked for the merge, as whom it is resumed');
    table
      .boolean('merging_by_service')
      .nullable()
      .comment('Whether merging_by is a service rather than a user');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  // A group left merging is open again: its members merged stay merged.
  await knex('promotions_groups')
    .where({ state: 'merging' })
    .update({ state: 'open' });
  await knex.schema.alterTable('promotions_groups', table => {
    table.dropColumn('merging_since');
    table.dropColumn('merging_lease');
    table.dropColumn('merging_by');
    table.dropColumn('merging_by_service');
  });
};
