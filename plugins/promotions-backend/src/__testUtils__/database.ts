import { Knex } from 'knex';

/**
 * Makes the database refuse every new row of a table, as a full disk or a dropped connection
 * would in the middle of a write. Answers a function that lets it take rows again.
 */
export async function refuseInserts(
  knex: Knex,
  table: string,
): Promise<() => Promise<void>> {
  const name = `refuse_${table}`;
  if (knex.client.config.client === 'pg') {
    await knex.raw(
      `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not write to ${table}'; END $$`,
    );
    await knex.raw(
      `CREATE TRIGGER ${name} BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}()`,
    );
    return async () => {
      await knex.raw(`DROP TRIGGER ${name} ON ${table}`);
      await knex.raw(`DROP FUNCTION ${name}()`);
    };
  }
  await knex.raw(
    `CREATE TRIGGER ${name} BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'could not write to ${table}'); END`,
  );
  return async () => {
    await knex.raw(`DROP TRIGGER ${name}`);
  };
}
