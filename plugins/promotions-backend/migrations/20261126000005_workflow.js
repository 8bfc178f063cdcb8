// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_requests', table => {
    table.comment(
      'Promotions and rollbacks: each a change to review, merged or closed',
    );
    table.string('id', 36).primary().notNullable();
    table.string('entity_ref', 255).notNullable().index();
    table.string('environment', 63).notNullable();
    table.string('repository_id', 255).notNullable();
    table.string('kind', 16).notNullable();
    table.text('from_environments').notNullable().comment('JSON array');
    table.string('version', 255).notNullable();
    table.string('previous_version', 255).nullable();
    table.boolean('unknown_version').notNullable().defaultTo(false);
    table.string('state', 16).notNullable().index();
    // Set while the request is not finished, so that the database refuses a second one.
    table
      .string('open_key', 330)
      .nullable()
      .unique()
      .comment(
        'entity_ref and environment while open; null once merged or closed',
      );
    table.string('requested_by', 255).notNullable();
    table.timestamp('requested_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.string('base_branch', 255).notNullable();
    table.string('base_commit', 64).notNullable();
    table.string('branch', 255).notNullable();
    table.string('head_commit', 64).nullable();
    table.integer('pull_request_number').nullable();
    table.text('pull_request_url').nullable();
    table
      .text('changes')
      .notNullable()
      .comment('JSON: the files the promotion writes');
    table
      .text('gates')
      .nullable()
      .comment('JSON: the last evaluation of each gate');
    table.string('merged_commit', 64).nullable();
    table.text('reason').nullable();
    table.timestamp('queued_until', { useTz: true }).nullable();
    // Who merges and why, kept while `merging` so that a restart records the merge truly.
    table.string('merging_by', 255).nullable();
    table.text('override_reason').nullable();
    table
      .text('overridden_gates')
      .nullable()
      .comment('JSON: the gates an override passed over');
  });
  await knex.schema.createTable('promotions_decisions', table => {
    table.comment('Approvals and rejections of promotions');
    table.increments('id');
    table.string('request_id', 36).notNullable().index();
    table.string('decided_by', 255).notNullable();
    table
      .text('ownership')
      .notNullable()
      .comment('JSON: the groups the decider belongs to');
    table.string('decision', 16).notNullable();
    table.text('comment').notNullable();
    table.string('source', 16).notNullable();
    table
      .string('commit_sha', 64)
      .notNullable()
      .defaultTo('')
      .comment(
        'The head commit decided on: a change pushed later needs a new decision',
      );
    table.timestamp('decided_at', { useTz: true }).notNullable();
    // One decision per person, source and head: a different one replaces it, the same is refused.
    table.unique(['request_id', 'decided_by', 'source', 'commit_sha']);
  });
  await knex.schema.createTable('promotions_history', table => {
    table.comment(
      'Everything that happened to every environment, kept forever',
    );
    table.bigIncrements('id');
    table.string('entity_ref', 255).notNullable();
    table.string('environment', 63).notNullable();
    table.string('action', 16).notNullable();
    table.string('actor', 255).notNullable();
    table.timestamp('at', { useTz: true }).notNullable();
    table.string('version', 255).nullable();
    table.string('kind', 16).nullable();
    table.string('request_id', 36).nullable();
    table.integer('pull_request_number').nullable();
    table.text('comment').nullable();
    table.index(['entity_ref', 'environment', 'id']);
  });
  await knex.schema.createTable('promotions_freezes', table => {
    table.comment('Frozen environments: no merge without an override');
    table.increments('id');
    table
      .string('entity_ref', 255)
      .notNullable()
      .comment('* for every service');
    table
      .string('environment', 63)
      .notNullable()
      .comment('* for every environment');
    table.text('reason').notNullable();
    table.string('frozen_by', 255).notNullable();
    table.timestamp('frozen_at', { useTz: true }).notNullable();
    table.string('lifted_by', 255).nullable();
    table.timestamp('lifted_at', { useTz: true }).nullable();
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_freezes');
  await knex.schema.dropTable('promotions_history');
  await knex.schema.dropTable('promotions_decisions');
  await knex.schema.dropTable('promotions_requests');
};
