// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('promotions_requests', table => {
    // Left empty on promotions made before: for them the cleanup judges the branch by its content.
    table
      .string('written_commit', 64)
      .nullable()
      .comment(
        'The head the portal wrote on the branch; a head someone pushed is only head_commit',
      );
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('promotions_requests', table => {
    table.dropColumn('written_commit');
  });
};
