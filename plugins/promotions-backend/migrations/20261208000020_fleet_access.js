// @ts-check

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  await knex.schema.createTable('promotions_fleet_access', table => {
    table.comment(
      'What the permission rules the fleet page judges in SQL ask of each stored entity',
    );
    table.string('entity_ref', 255).notNullable();
    table
      .string('fact', 16)
      .notNullable()
      .comment(
        'kind: the lower-case kind; owner: an ownedBy target; unjudged: an entity the rules cannot judge here',
      );
    table.string('value', 255).notNullable();
    table.primary(['entity_ref', 'fact', 'value']);
    table.index(['fact', 'value'], 'promotions_fleet_access_value_idx');
  });
  // The next refresh of each repository writes the rows of the bodies stored before.
  await knex('promotions_entity_state').update({ fleet_indexed: false });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('promotions_fleet_access');
};
