import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import { Knex } from 'knex';

const TABLE = 'promotions_entity_state';

export interface StoredEntityState {
  entityRef: string;
  repositoryId: string;
  revision: string | null;
  fingerprint: string | null;
  body: EntityPromotions | null;
  asOf: Date | null;
  error: { message: string; at: Date } | null;
}

interface Row {
  entity_ref: string;
  repository_id: string;
  revision: string | null;
  fingerprint: string | null;
  body: string | null;
  as_of: Date | string | null;
  error_message: string | null;
  error_at: Date | string | null;
}

const toDate = (value: Date | string | null) =>
  value === null ? null : new Date(value);

/** The plugin's own tables: what page views are served from. */
export class PromotionsStore {
  static async create(database: DatabaseService): Promise<PromotionsStore> {
    const client = await database.getClient();
    if (!database.migrations?.skip) {
      await client.migrate.latest({
        directory: resolvePackagePath(
          '@gitops-promotions/plugin-promotions-backend',
          'migrations',
        ),
      });
    }
    return new PromotionsStore(client);
  }

  private constructor(private readonly db: Knex) {}

  async get(entityRef: string): Promise<StoredEntityState | undefined> {
    const row = await this.db<Row>(TABLE)
      .where({ entity_ref: entityRef })
      .first();
    return row && fromRow(row);
  }

  async listByRepository(repositoryId: string): Promise<StoredEntityState[]> {
    const rows = await this.db<Row>(TABLE).where({
      repository_id: repositoryId,
    });
    return rows.map(fromRow);
  }

  /** Saves a freshly computed state and clears any earlier error. */
  async saveState(state: {
    entityRef: string;
    repositoryId: string;
    revision: string;
    fingerprint: string;
    body: EntityPromotions;
    asOf: Date;
  }): Promise<void> {
    const row = {
      entity_ref: state.entityRef,
      repository_id: state.repositoryId,
      revision: state.revision,
      fingerprint: state.fingerprint,
      body: JSON.stringify(state.body),
      as_of: state.asOf,
      error_message: null,
      error_at: null,
    };
    await this.db<Row>(TABLE).insert(row).onConflict('entity_ref').merge();
  }

  /** The repository was read and nothing an entity depends on changed: only the age moves. */
  async touch(entityRef: string, asOf: Date): Promise<void> {
    await this.db<Row>(TABLE)
      .where({ entity_ref: entityRef })
      .update({ as_of: asOf, error_message: null, error_at: null });
  }

  /** Records a failed refresh while keeping the last known state. */
  async saveError(
    entityRef: string,
    repositoryId: string,
    message: string,
    at: Date,
  ): Promise<void> {
    await this.db<Row>(TABLE)
      .insert({
        entity_ref: entityRef,
        // The id may come straight from a bad annotation: keep it within the column.
        repository_id: repositoryId.slice(0, 255),
        revision: null,
        fingerprint: null,
        body: null,
        as_of: null,
        error_message: message,
        error_at: at,
      })
      .onConflict('entity_ref')
      .merge(['error_message', 'error_at', 'repository_id']);
  }

  /** Forgets entities that are no longer annotated or no longer exist. */
  async deleteExcept(entityRefs: string[]): Promise<number> {
    const existing = await this.db<Row>(TABLE).select('entity_ref');
    const keep = new Set(entityRefs);
    const gone = existing
      .map(row => row.entity_ref)
      .filter(ref => !keep.has(ref));
    for (let i = 0; i < gone.length; i += 500) {
      await this.db<Row>(TABLE)
        .whereIn('entity_ref', gone.slice(i, i + 500))
        .delete();
    }
    return gone.length;
  }
}

function fromRow(row: Row): StoredEntityState {
  const errorAt = toDate(row.error_at);
  return {
    entityRef: row.entity_ref,
    repositoryId: row.repository_id,
    revision: row.revision,
    fingerprint: row.fingerprint,
    body: row.body ? (JSON.parse(row.body) as EntityPromotions) : null,
    asOf: toDate(row.as_of),
    error:
      row.error_message && errorAt
        ? { message: row.error_message, at: errorAt }
        : null,
  };
}
