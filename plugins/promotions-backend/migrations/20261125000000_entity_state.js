// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_entity_state', table => {
    table.comment(
      'The last resolved promotions state of each annotated entity',
    );
    table.string('entity_ref', 255).primary().notNullable();
    table.string('repository_id', 255).notNullable().index();
    table
      .string('revision', 64)
      .nullable()
      .comment('Repository commit the state was read at');
    table
      .string('fingerprint', 64)
      .nullable()
      .comment('Hash of everything the state was computed from');
    table.text('body', 'longtext').nullable().comment('JSON EntityPromotions');
    table
      .timestamp('as_of', { useTz: true })
      .nullable()
      .comment('When the repository was last read');
    table.text('error_message').nullable();
    table.timestamp('error_at', { useTz: true }).nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_entity_state');
};
