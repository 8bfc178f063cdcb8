// @ts-check

const {
  parseEntityRef,
  stringifyEntityRef,
} = require('@backstage/catalog-model');

/**
 * The owner as the catalog's ownedBy relation names it, lower case; null when it is no entity
 * ref. A copy of ownerEntityRef in promotions-common: a migration keeps the rule of its day.
 *
 * @param {string | null} owner
 * @param {string} namespace
 */
function ownerRef(owner, namespace) {
  const text = (owner ?? '').trim();
  if (!text) return null;
  try {
    const ref = stringifyEntityRef(
      parseEntityRef(text, {
        defaultKind: 'group',
        defaultNamespace: namespace || 'default',
      }),
    ).toLocaleLowerCase('en-US');
    return ref.length <= 255 ? ref : null;
  } catch {
    return null;
  }
}

/** @param {import('knex').Knex} knex */
exports.up = async function up(knex) {
  // The fleet filtered by spec.owner as written; it now filters by the owner's entity ref.
  const rows = await knex('promotions_entity_state')
    .whereNotNull('owner')
    .select('entity_ref', 'owner');
  for (const row of rows) {
    const ref = String(row.entity_ref);
    const namespace = ref.slice(ref.indexOf(':') + 1, ref.indexOf('/'));
    const owner = ownerRef(row.owner, namespace);
    if (owner !== row.owner) {
      await knex('promotions_entity_state')
        .where({ entity_ref: row.entity_ref })
        .update({ owner });
    }
  }
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  // The next refresh writes each owner again as that code spells it.
  await knex('promotions_entity_state').update({ fleet_indexed: false });
};
