// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('promotions_repository_state', table => {
    table
      .string('lease_owner', 255)
      .nullable()
      .comment('The backend instance refreshing the repository now');
    table
      .timestamp('lease_until', { useTz: true })
      .nullable()
      .comment('When that refresh is taken to have died, if not renewed');
    table
      .timestamp('requested_at', { useTz: true })
      .nullable()
      .comment('When a refresh was last asked for while one was running');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('promotions_repository_state', table => {
    table.dropColumn('lease_owner');
    table.dropColumn('lease_until');
    table.dropColumn('requested_at');
  });
};
