// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_environment_state', table => {
    table.comment(
      'The last resolution of each environment, kept so that a refresh only redoes what changed',
    );
    table.string('entity_ref', 255).notNullable();
    table.string('environment', 63).notNullable();
    table.string('repository_id', 255).notNullable().index();
    table
      .string('recipe', 64)
      .notNullable()
      .comment(
        'Hash of what besides repository files the resolution depends on',
      );
    table
      .string('revision', 64)
      .notNullable()
      .comment('Repository commit the environment was resolved at');
    table
      .text('probes', 'longtext')
      .nullable()
      .comment(
        'JSON: files and directories the resolution looked up, with their blob ids',
      );
    table
      .text('resolution', 'longtext')
      .notNullable()
      .comment('JSON: version, images, rendered objects, inputs, or the error');
    table.text('last_change').nullable().comment('JSON LastChange');
    table
      .text('timeline', 'longtext')
      .nullable()
      .comment('JSON: the version after each commit that touched the inputs');
    table.primary(['entity_ref', 'environment']);
  });

  await knex.schema.createTable('promotions_repository_state', table => {
    table.comment(
      'When each repository was last read, at which commit, and why not',
    );
    table.string('repository_id', 255).primary().notNullable();
    table.string('revision', 64).nullable();
    table.timestamp('refreshed_at', { useTz: true }).nullable();
    table.text('error_message').nullable();
    table.timestamp('error_at', { useTz: true }).nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_repository_state');
  await knex.schema.dropTable('promotions_environment_state');
};
