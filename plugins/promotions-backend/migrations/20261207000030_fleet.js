// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.alterTable('promotions_entity_state', table => {
    // The fleet page filters and sorts by these in SQL; written with the body.
    table.string('name', 255).nullable().comment('metadata.name, lower case');
    table.string('title', 255).nullable().comment('metadata.title or name');
    table.string('owner', 255).nullable().comment('spec.owner');
    table.string('system', 255).nullable().comment('spec.system');
    table.string('lifecycle', 255).nullable().comment('spec.lifecycle');
    table
      .boolean('fleet_indexed')
      .notNullable()
      .defaultTo(false)
      .comment(
        'The fleet columns and rows hold this body: older rows are filled by the next refresh',
      );
    table.index(
      ['fleet_indexed', 'name', 'entity_ref'],
      'promotions_fleet_name_idx',
    );
    table.index(['owner', 'name'], 'promotions_fleet_owner_idx');
    table.index(['system'], 'promotions_fleet_system_idx');
    table.index(['lifecycle'], 'promotions_fleet_lifecycle_idx');
  });
  await knex.schema.createTable('promotions_fleet_cells', table => {
    table.comment('One environment of each stored body, for the fleet page');
    table.string('entity_ref', 255).notNullable();
    table.string('environment', 63).notNullable();
    table
      .integer('position')
      .notNullable()
      .comment('Where the environment stands in its pipeline');
    table.string('version', 255).nullable();
    table.string('health', 32).nullable();
    table
      .integer('drift_count')
      .notNullable()
      .comment('How many kinds of drift it has, to sort by');
    table.primary(['entity_ref', 'environment']);
    table.index(
      ['environment', 'version'],
      'promotions_fleet_cells_version_idx',
    );
    table.index(
      ['environment', 'drift_count'],
      'promotions_fleet_cells_drift_idx',
    );
  });
  await knex.schema.createTable('promotions_fleet_drift', table => {
    table.comment(
      'Each kind of drift of each stored environment, to filter and count by',
    );
    table.string('entity_ref', 255).notNullable();
    table.string('environment', 63).notNullable();
    table.string('kind', 32).notNullable();
    table.primary(['entity_ref', 'environment', 'kind']);
    table.index(['kind', 'environment'], 'promotions_fleet_drift_kind_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_fleet_drift');
  await knex.schema.dropTable('promotions_fleet_cells');
  await knex.schema.alterTable('promotions_entity_state', table => {
    table.dropIndex([], 'promotions_fleet_name_idx');
    table.dropIndex([], 'promotions_fleet_owner_idx');
    table.dropIndex([], 'promotions_fleet_system_idx');
    table.dropIndex([], 'promotions_fleet_lifecycle_idx');
    table.dropColumn('name');
    table.dropColumn('title');
    table.dropColumn('owner');
    table.dropColumn('system');
    table.dropColumn('lifecycle');
    table.dropColumn('fleet_indexed');
  });
};
