import crypto from 'node:crypto';
import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import {
  EntityPromotions,
  LastChange,
  Scaffold,
} from '@gitops-promotions/plugin-promotions-common';
import { Probes } from '@gitops-promotions/plugin-promotions-node';
import { Entity } from '@backstage/catalog-model';
import { Knex } from 'knex';
import { EnvironmentResolution } from './resolution';
import { VersionTimeline } from './timeline';
import { forgetFleet, indexFleet } from './fleetIndex';

const ENTITIES = 'promotions_entity_state';
const ENVIRONMENTS = 'promotions_environment_state';
const REPOSITORIES = 'promotions_repository_state';
const SCAFFOLDS = 'promotions_scaffolds';
/** Rows per insert statement: well under SQLite's and PostgreSQL's parameter limits. */
const BATCH = 100;

/** The stored state of one entity: what a page view is served. */
export interface StoredEntityState {
  entityRef: string;
  repositoryId: string;
  revision: string | null;
  fingerprint: string | null;
  /** The promotions body as stored JSON text, parsed only by whoever needs it. */
  body: string | null;
  /** The catalog entity as the last refresh read it. */
  entity: Entity | null;
  /** Its layout was published by the template and is not merged yet. */
  waiting: { branch: string; pullRequestUrl: string | null } | null;
  asOf: Date | null;
  error: { message: string; at: Date } | null;
}

/** What decides whether a stored environment can be kept as it is. */
export interface EnvironmentKey {
  entityRef: string;
  environment: string;
  recipe: string;
  revision: string;
  probes: Probes | null;
}

/** One environment's stored resolution, last change and timeline. */
export interface StoredEnvironment extends EnvironmentKey {
  repositoryId: string;
  resolution: EnvironmentResolution;
  lastChange: LastChange | null;
  timeline: VersionTimeline | null;
}

/** An environment's key, and whether a timeline is stored beside it. */
export interface StoredEnvironmentKey extends EnvironmentKey {
  timeline: boolean;
}

/** Refused to write a refresh whose runner no longer holds the repository's lease. */
export class LeaseLostError extends Error {
  constructor(repositoryId: string, owner: string) {
    super(
      `${owner} no longer holds the lease of repository ${repositoryId}: another refresh took it over`,
    );
    this.name = 'LeaseLostError';
  }
}

/** Everything one refresh of one repository writes, at once. */
export interface RepositoryRefreshResult {
  repositoryId: string;
  /**
   * The lease the refresh ran under: nothing is written unless its owner still holds it. A
   * refresh made outside the runner (a test, a tool) holds none.
   */
  leaseOwner?: string;
  revision: string;
  at: Date;
  /** Entities whose body changed; the others only get a new `asOf`. */
  entities: Array<{
    entityRef: string;
    fingerprint: string;
    body: string;
    entity: Entity;
  }>;
  environments: StoredEnvironment[];
  /** Every entity of the repository, changed or not; stored ones not listed are forgotten. */
  entityRefs: string[];
  /** Entities whose annotations or environments could not be read at all. */
  failures: Array<{ entityRef: string; message: string }>;
}

interface EntityRow {
  entity_ref: string;
  repository_id: string;
  revision: string | null;
  fingerprint: string | null;
  body: string | null;
  entity: string | null;
  waiting: string | null;
  as_of: Date | string | null;
  error_message: string | null;
  error_at: Date | string | null;
  /** Set false with each new body, true once the fleet page's rows hold it. */
  fleet_indexed?: boolean;
}

interface EnvironmentRow {
  entity_ref: string;
  environment: string;
  repository_id: string;
  recipe: string;
  revision: string;
  probes: string | null;
  resolution: string;
  last_change: string | null;
  timeline: string | null;
}

const toDate = (value: Date | string | null) =>
  value === null ? null : new Date(value);
const parse = <T>(text: string | null): T | null =>
  text === null ? null : (JSON.parse(text) as T);

/** The plugin's own tables: what page views are served from, and what refreshes build on. */
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

  /** The database, for the workflow's tables beside these. */
  get client(): Knex {
    return this.db;
  }

  async get(entityRef: string): Promise<StoredEntityState | undefined> {
    const row = await this.db<EntityRow>(ENTITIES)
      .where({ entity_ref: entityRef })
      .first();
    return row && fromEntityRow(row);
  }

  /** How old each stored entity's state is and whether its last refresh failed, without bodies. */
  async ages(
    entityRefs: string[],
  ): Promise<Array<Pick<StoredEntityState, 'entityRef' | 'asOf' | 'error'>>> {
    const result = [];
    for (let i = 0; i < entityRefs.length; i += BATCH * 5) {
      const rows: Array<
        Pick<EntityRow, 'entity_ref' | 'as_of' | 'error_message' | 'error_at'>
      > = await this.db(ENTITIES)
        .whereIn('entity_ref', entityRefs.slice(i, i + BATCH * 5))
        .select('entity_ref', 'as_of', 'error_message', 'error_at');
      for (const row of rows) {
        const { entityRef, asOf, error } = fromEntityRow({
          ...row,
          repository_id: '',
          revision: null,
          fingerprint: null,
          body: null,
          entity: null,
          waiting: null,
        });
        result.push({ entityRef, asOf, error });
      }
    }
    return result;
  }

  /** The keys of every stored environment of a repository, without their bulk. */
  async environmentKeys(repositoryId: string): Promise<StoredEnvironmentKey[]> {
    const rows: Array<
      Pick<
        EnvironmentRow,
        'entity_ref' | 'environment' | 'recipe' | 'revision' | 'probes'
      > & { has_timeline: number | string }
    > = await this.db(ENVIRONMENTS)
      .where({ repository_id: repositoryId })
      .select(
        'entity_ref',
        'environment',
        'recipe',
        'revision',
        'probes',
        this.db.raw(
          'CASE WHEN timeline IS NULL THEN 0 ELSE 1 END AS has_timeline',
        ),
      );
    return rows.map(row => ({
      entityRef: row.entity_ref,
      environment: row.environment,
      recipe: row.recipe,
      revision: row.revision,
      probes: parse<Probes>(row.probes),
      timeline: Number(row.has_timeline) === 1,
    }));
  }

  /** The stored environments of some entities, in full. */
  async environments(entityRefs: string[]): Promise<StoredEnvironment[]> {
    const result: StoredEnvironment[] = [];
    for (let i = 0; i < entityRefs.length; i += BATCH * 5) {
      const rows = await this.db<EnvironmentRow>(ENVIRONMENTS).whereIn(
        'entity_ref',
        entityRefs.slice(i, i + BATCH * 5),
      );
      result.push(...rows.map(fromEnvironmentRow));
    }
    return result;
  }

  async fingerprints(repositoryId: string): Promise<Map<string, string>> {
    const rows = await this.db<EntityRow>(ENTITIES)
      .where({ repository_id: repositoryId })
      .whereNotNull('body')
      .select('entity_ref', 'fingerprint');
    return new Map(rows.map(row => [row.entity_ref, row.fingerprint ?? '']));
  }

  /**
   * Writes one refresh of a repository in one transaction, so that a reader sees the whole
   * refresh or none of it.
   */
  async saveRefresh(result: RepositoryRefreshResult): Promise<void> {
    const { repositoryId, revision, at } = result;
    await this.db.transaction(async trx => {
      await this.assertLease(trx, repositoryId, result.leaseOwner);
      for (let i = 0; i < result.environments.length; i += BATCH) {
        await trx<EnvironmentRow>(ENVIRONMENTS)
          .insert(result.environments.slice(i, i + BATCH).map(toEnvironmentRow))
          .onConflict(['entity_ref', 'environment'])
          .merge();
      }
      for (let i = 0; i < result.entities.length; i += BATCH) {
        await trx<EntityRow>(ENTITIES)
          .insert(
            result.entities.slice(i, i + BATCH).map(entity => ({
              entity_ref: entity.entityRef,
              repository_id: repositoryId,
              revision,
              fingerprint: entity.fingerprint,
              body: entity.body,
              entity: JSON.stringify(entity.entity),
              as_of: at,
              error_message: null,
              error_at: null,
              fleet_indexed: false,
            })),
          )
          .onConflict('entity_ref')
          .merge();
      }
      // Unchanged entities were read too: only their age moves.
      await trx<EntityRow>(ENTITIES)
        .where({ repository_id: repositoryId })
        .whereNotNull('body')
        .update({ as_of: at, revision, error_message: null, error_at: null });
      await indexFleet(trx, repositoryId);
      for (const failure of result.failures) {
        await this.recordError(
          trx,
          failure.entityRef,
          repositoryId,
          failure.message,
          at,
        );
      }
      await this.forgetOthers(trx, repositoryId, result.entityRefs);
      await trx(REPOSITORIES)
        .insert({
          repository_id: repositoryId,
          revision,
          refreshed_at: at,
          error_message: null,
          error_at: null,
        })
        .onConflict('repository_id')
        .merge();
    });
  }

  /** Records a service the template published, until its layout is merged. */
  async recordScaffold(scaffold: {
    entityRef: string;
    repository: string;
    branch: string;
    path: string;
    pullRequestUrl: string | null;
  }): Promise<void> {
    await this.db(SCAFFOLDS)
      .insert({
        entity_ref: scaffold.entityRef,
        repository_id: scaffold.repository,
        branch: scaffold.branch,
        path: scaffold.path,
        pull_request_url: scaffold.pullRequestUrl,
        state: 'pending',
        created_at: new Date(),
        merged_at: null,
      })
      .onConflict('entity_ref')
      .merge();
    // Page views read one row: the entity's own says it waits.
    await this.db<EntityRow>(ENTITIES)
      .insert({
        entity_ref: scaffold.entityRef,
        repository_id: scaffold.repository,
        waiting: JSON.stringify({
          branch: scaffold.branch,
          pullRequestUrl: scaffold.pullRequestUrl,
        }),
      })
      .onConflict('entity_ref')
      .merge(['waiting']);
  }

  async scaffolds(
    options: {
      repositoryId?: string;
      entityRef?: string;
    } = {},
  ): Promise<Scaffold[]> {
    const query = this.db(SCAFFOLDS);
    if (options.repositoryId)
      query.where({ repository_id: options.repositoryId });
    if (options.entityRef) query.where({ entity_ref: options.entityRef });
    const rows = await query.orderBy('entity_ref');
    return rows.map(row => ({
      entityRef: row.entity_ref,
      repository: row.repository_id,
      branch: row.branch,
      path: row.path,
      pullRequestUrl: row.pull_request_url,
      state: row.state,
      createdAt: new Date(row.created_at).toISOString(),
      mergedAt: row.merged_at ? new Date(row.merged_at).toISOString() : null,
    }));
  }

  async markScaffoldMerged(entityRef: string, at: Date): Promise<void> {
    await this.db.transaction(async trx => {
      await trx(SCAFFOLDS)
        .where({ entity_ref: entityRef, state: 'pending' })
        .update({ state: 'merged', merged_at: at });
      await trx<EntityRow>(ENTITIES)
        .where({ entity_ref: entityRef })
        .update({ waiting: null });
    });
  }

  /**
   * The key secret-looking values are hidden under: made once, at random, by whichever replica
   * starts first, and kept in the database so that every replica hides values alike.
   */
  async secretKey(): Promise<Buffer> {
    await this.db('promotions_settings')
      .insert({
        name: 'secret-key',
        value: crypto.randomBytes(32).toString('base64'),
      })
      .onConflict('name')
      .ignore();
    const row = await this.db('promotions_settings')
      .where({ name: 'secret-key' })
      .first('value');
    return Buffer.from(row.value, 'base64');
  }

  /**
   * Takes the right to refresh a repository for `ms`, unless another instance holds it and has
   * not let it lapse. Every replica refreshes through this lease, so one refresh of a repository
   * runs at a time across them.
   */
  async acquireLease(
    repositoryId: string,
    owner: string,
    ms: number,
  ): Promise<boolean> {
    const now = new Date();
    await this.db(REPOSITORIES)
      .insert({ repository_id: repositoryId })
      .onConflict('repository_id')
      .ignore();
    const taken = await this.db(REPOSITORIES)
      .where({ repository_id: repositoryId })
      .andWhere(q =>
        q
          .whereNull('lease_until')
          .orWhere('lease_until', '<', now)
          .orWhere('lease_owner', owner),
      )
      .update({
        lease_owner: owner,
        lease_until: new Date(now.getTime() + ms),
      });
    return taken === 1;
  }

  /**
   * Extends a lease for `ms` from now, only if `owner` holds it still: not when another instance
   * took it, even if that one gave it back since.
   */
  async renewLease(
    repositoryId: string,
    owner: string,
    ms: number,
  ): Promise<boolean> {
    const renewed = await this.db(REPOSITORIES)
      .where({ repository_id: repositoryId, lease_owner: owner })
      .update({ lease_until: new Date(Date.now() + ms) });
    return renewed === 1;
  }

  /** Gives the lease back, if this instance still holds it. */
  async releaseLease(repositoryId: string, owner: string): Promise<void> {
    await this.db(REPOSITORIES)
      .where({ repository_id: repositoryId, lease_owner: owner })
      .update({ lease_owner: null, lease_until: null });
  }

  /** Notes that a refresh was asked for, for whoever holds the lease to run again. */
  async requestRefresh(repositoryId: string): Promise<void> {
    await this.db(REPOSITORIES)
      .insert({ repository_id: repositoryId, requested_at: new Date() })
      .onConflict('repository_id')
      .merge(['requested_at']);
  }

  /** Whether a refresh was asked for after `since`. */
  async refreshRequestedSince(
    repositoryId: string,
    since: Date,
  ): Promise<boolean> {
    const row = await this.db(REPOSITORIES)
      .where({ repository_id: repositoryId })
      .first('requested_at');
    const at = row?.requested_at ? new Date(row.requested_at) : undefined;
    return at !== undefined && at.getTime() > since.getTime();
  }

  /**
   * Records that a repository could not be read: every entity keeps its last known state,
   * with the error beside it; an entity never read gets the error alone.
   */
  async saveRepositoryError(options: {
    repositoryId: string;
    /** As in {@link RepositoryRefreshResult.leaseOwner}. */
    leaseOwner?: string;
    entityRefs: string[];
    message: string;
    at: Date;
  }): Promise<void> {
    const { repositoryId, entityRefs, message, at } = options;
    await this.db.transaction(async trx => {
      await this.assertLease(trx, repositoryId, options.leaseOwner);
      for (const entityRef of entityRefs) {
        await this.recordError(trx, entityRef, repositoryId, message, at);
      }
      await trx(REPOSITORIES)
        .insert({
          repository_id: repositoryId,
          error_message: message,
          error_at: at,
        })
        .onConflict('repository_id')
        .merge(['error_message', 'error_at']);
    });
  }

  /** Throws a {@link LeaseLostError} unless `owner` holds the repository's lease until now at least. */
  private async assertLease(
    trx: Knex.Transaction,
    repositoryId: string,
    owner: string | undefined,
  ) {
    if (owner === undefined) return;
    // An update rather than a select: it locks the row, so the lease cannot pass to another
    // replica before this transaction ends.
    const held = await trx(REPOSITORIES)
      .where({ repository_id: repositoryId, lease_owner: owner })
      .andWhere('lease_until', '>=', new Date())
      .update({ lease_owner: owner });
    if (held !== 1) throw new LeaseLostError(repositoryId, owner);
  }

  private async recordError(
    trx: Knex.Transaction,
    entityRef: string,
    repositoryId: string,
    message: string,
    at: Date,
  ) {
    await trx<EntityRow>(ENTITIES)
      .insert({
        entity_ref: entityRef,
        repository_id: repositoryId,
        revision: null,
        fingerprint: null,
        body: null,
        entity: null,
        as_of: null,
        error_message: message,
        error_at: at,
      })
      .onConflict('entity_ref')
      .merge(['error_message', 'error_at', 'repository_id']);
  }

  /** Forgets entities of a repository that are no longer annotated or no longer exist. */
  private async forgetOthers(
    trx: Knex.Transaction,
    repositoryId: string,
    entityRefs: string[],
  ) {
    const keep = new Set(entityRefs);
    const existing = await trx<EntityRow>(ENTITIES)
      .where({ repository_id: repositoryId })
      .select('entity_ref', 'waiting');
    // A published layout not merged yet waits for its entity: it is kept until then.
    for (const row of existing) if (row.waiting) keep.add(row.entity_ref);
    const environments = await trx<EnvironmentRow>(ENVIRONMENTS)
      .where({ repository_id: repositoryId })
      .distinct('entity_ref');
    const gone = [
      ...new Set(
        [...existing, ...environments]
          .map(row => row.entity_ref)
          .filter(ref => !keep.has(ref)),
      ),
    ];
    for (let i = 0; i < gone.length; i += BATCH * 5) {
      const chunk = gone.slice(i, i + BATCH * 5);
      await trx(ENTITIES).whereIn('entity_ref', chunk).delete();
      await trx(ENVIRONMENTS).whereIn('entity_ref', chunk).delete();
      await forgetFleet(trx, chunk);
    }
  }
}

function fromEntityRow(row: EntityRow): StoredEntityState {
  const errorAt = toDate(row.error_at);
  return {
    entityRef: row.entity_ref,
    repositoryId: row.repository_id,
    revision: row.revision,
    fingerprint: row.fingerprint,
    body: row.body,
    entity: parse<Entity>(row.entity),
    waiting: parse(row.waiting),
    asOf: toDate(row.as_of),
    error:
      row.error_message && errorAt
        ? { message: row.error_message, at: errorAt }
        : null,
  };
}

function fromEnvironmentRow(row: EnvironmentRow): StoredEnvironment {
  return {
    entityRef: row.entity_ref,
    environment: row.environment,
    repositoryId: row.repository_id,
    recipe: row.recipe,
    revision: row.revision,
    probes: parse<Probes>(row.probes),
    resolution: JSON.parse(row.resolution) as EnvironmentResolution,
    lastChange: parse<LastChange>(row.last_change),
    timeline: parse<VersionTimeline>(row.timeline),
  };
}

function toEnvironmentRow(environment: StoredEnvironment): EnvironmentRow {
  return {
    entity_ref: environment.entityRef,
    environment: environment.environment,
    repository_id: environment.repositoryId,
    recipe: environment.recipe,
    revision: environment.revision,
    probes: environment.probes ? JSON.stringify(environment.probes) : null,
    resolution: JSON.stringify(environment.resolution),
    last_change: environment.lastChange
      ? JSON.stringify(environment.lastChange)
      : null,
    timeline: environment.timeline
      ? JSON.stringify(environment.timeline)
      : null,
  };
}

/** Parses a stored body. */
export function parseBody(body: string): EntityPromotions {
  return JSON.parse(body) as EntityPromotions;
}
