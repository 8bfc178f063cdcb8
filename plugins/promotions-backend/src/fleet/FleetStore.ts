import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import {
  DRIFT_KINDS,
  DriftKind,
  FleetColumn,
  FleetPage,
  FleetQuery,
  FleetRow,
} from '@gitops-promotions/plugin-promotions-common';
import { Knex } from 'knex';
import { EntityVisibility } from '../service/EntityVisibility';
import { FLEET_CELLS, FLEET_DRIFT } from '../state/fleetIndex';
import {
  anyUnjudged,
  FleetAccessQuery,
  fleetAccessQuery,
} from './fleetAccessQuery';

const ENTITIES = 'promotions_entity_state';
/** Entity references per `where in`: well under SQLite's and PostgreSQL's parameter limits. */
const CHUNK = 500;

type Counts = Map<string, FleetColumn & { position: number }>;

/**
 * Pages through every annotated service's environments for the fleet page: filtered, sorted and
 * counted in SQL over the columns and rows a refresh writes beside each stored body, and limited
 * to the services the caller may see.
 */
export class FleetStore {
  constructor(
    private readonly deps: { db: Knex; visibility: EntityVisibility },
  ) {}

  async page(
    query: FleetQuery,
    credentials: BackstageCredentials,
  ): Promise<FleetPage> {
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 50;
    const scope = await this.deps.visibility.among(credentials);
    if (scope.kind === 'none') {
      return {
        rows: [],
        total: 0,
        columns: [],
        facets: { owners: [], systems: [], lifecycles: [] },
      };
    }
    const access =
      scope.kind === 'all'
        ? undefined
        : await this.accessInSql(scope.decisions);
    if (scope.kind === 'all' || access) {
      const [pageRefs, [{ total }], columns, facets] = await Promise.all([
        this.sorted(query, access)
          .offset(offset)
          .limit(limit)
          .pluck<string[]>('e.entity_ref'),
        this.matching(query, access).count<Array<{ total: number | string }>>({
          total: '*',
        }),
        this.counts(
          [this.matching(query, access).select('e.entity_ref')],
          new Map(),
        ).then(toColumns),
        this.facets(access),
      ]);
      return {
        rows: await this.rows(pageRefs),
        total: Number(total),
        columns,
        facets,
      };
    }
    // A rule SQL cannot judge: every matching service is judged in JS, then paged and counted.
    const candidates: Array<{
      entity_ref: string;
      entity: string | null;
      owner: string | null;
      system: string | null;
      lifecycle: string | null;
    }> = await this.sorted(query).select(
      'e.entity_ref',
      'e.entity',
      'e.owner',
      'e.system',
      'e.lifecycle',
    );
    const visible = await scope.visible(
      candidates.map(row => ({
        entityRef: row.entity_ref,
        entity: parseEntity(row.entity),
      })),
    );
    const shown = candidates.filter(row => visible.has(row.entity_ref));
    const refs = shown.map(row => row.entity_ref);
    const chunks = [];
    for (let i = 0; i < refs.length; i += CHUNK) {
      chunks.push(refs.slice(i, i + CHUNK));
    }
    return {
      rows: await this.rows(refs.slice(offset, offset + limit)),
      total: refs.length,
      columns: toColumns(await this.counts(chunks, new Map())),
      facets: {
        owners: distinct(shown.map(row => row.owner)),
        systems: distinct(shown.map(row => row.system)),
        lifecycles: distinct(shown.map(row => row.lifecycle)),
      },
    };
  }

  /**
   * The caller's conditional decisions as SQL, when every rule in them can be judged there and
   * every stored service's entity was indexed for it; else undefined.
   */
  private async accessInSql(
    decisions: Parameters<typeof fleetAccessQuery>[1],
  ): Promise<FleetAccessQuery | undefined> {
    const access = fleetAccessQuery(this.deps.db, decisions);
    if (!access || (await anyUnjudged(this.deps.db))) return undefined;
    return access;
  }

  /** The stored services that match the filters, among those `access` lets the caller see. */
  private matching(query: FleetQuery, access?: FleetAccessQuery) {
    const { db } = this.deps;
    const q = db(`${ENTITIES} as e`)
      .where('e.fleet_indexed', true)
      .whereNotNull('e.body');
    if (access) access(q);
    if (query.owner) q.where('e.owner', query.owner);
    if (query.system) q.where('e.system', query.system);
    if (query.lifecycle) q.where('e.lifecycle', query.lifecycle);
    if (query.drift) {
      const { drift, driftEnvironment } = query;
      q.whereExists(function hasDrift() {
        this.select(db.raw('1'))
          .from(`${FLEET_DRIFT} as d`)
          .whereRaw('d.entity_ref = e.entity_ref')
          .where('d.kind', drift);
        if (driftEnvironment) this.where('d.environment', driftEnvironment);
      });
    }
    return q;
  }

  /** The matching services in the order asked for, the name and reference breaking ties. */
  private sorted(query: FleetQuery, access?: FleetAccessQuery) {
    const q = this.matching(query, access);
    const sort = query.sort ?? { by: 'name' };
    const order = query.order ?? 'asc';
    if (sort.by === 'owner') {
      nullsLast(q, 'e.owner', order);
    } else if (sort.by === 'version' || sort.by === 'drift') {
      q.leftJoin(`${FLEET_CELLS} as c`, join =>
        join
          .on('c.entity_ref', '=', 'e.entity_ref')
          .andOn(
            'c.environment',
            '=',
            this.deps.db.raw('?', [sort.environment]),
          ),
      );
      nullsLast(
        q,
        sort.by === 'version' ? 'c.version' : 'c.drift_count',
        order,
      );
    } else {
      q.orderBy('e.name', order);
    }
    return q.orderBy([
      { column: 'e.name', order: sort.by === 'name' ? order : 'asc' },
      { column: 'e.entity_ref', order: sort.by === 'name' ? order : 'asc' },
    ]);
  }

  /** Each environment's services and drift among the services `sets` select, summed. */
  private async counts(
    sets: Array<Knex.QueryBuilder | string[]>,
    counts: Counts,
  ): Promise<Counts> {
    const { db } = this.deps;
    for (const set of sets) {
      const [cells, drift] = await Promise.all([
        db(FLEET_CELLS)
          .whereIn('entity_ref', set)
          .groupBy('environment')
          .select('environment')
          .min({ position: 'position' })
          .count({ services: '*' }),
        db(FLEET_DRIFT)
          .whereIn('entity_ref', set)
          .groupBy('environment', 'kind')
          .select('environment', 'kind')
          .count({ services: '*' }),
      ]);
      for (const row of cells as Array<{
        environment: string;
        position: number;
        services: number | string;
      }>) {
        const column = counts.get(row.environment) ?? {
          environment: row.environment,
          position: Number(row.position),
          services: 0,
          drift: {},
        };
        column.services += Number(row.services);
        column.position = Math.min(column.position, Number(row.position));
        counts.set(row.environment, column);
      }
      for (const row of drift as Array<{
        environment: string;
        kind: DriftKind;
        services: number | string;
      }>) {
        const column = counts.get(row.environment);
        if (!column) continue;
        column.drift[row.kind] =
          (column.drift[row.kind] ?? 0) + Number(row.services);
      }
    }
    return counts;
  }

  private async facets(
    access?: FleetAccessQuery,
  ): Promise<FleetPage['facets']> {
    const of = (column: string) => {
      const q = this.deps
        .db(`${ENTITIES} as e`)
        .where('e.fleet_indexed', true)
        .whereNotNull('e.body')
        .whereNotNull(`e.${column}`);
      if (access) access(q);
      return q
        .distinct({ facet: `e.${column}` })
        .orderBy('facet')
        .then((rows: Array<{ facet: string }>) => rows.map(row => row.facet));
    };
    const [owners, systems, lifecycles] = await Promise.all([
      of('owner'),
      of('system'),
      of('lifecycle'),
    ]);
    return { owners, systems, lifecycles };
  }

  /** The rows of one page, in its order. */
  private async rows(entityRefs: string[]): Promise<FleetRow[]> {
    if (!entityRefs.length) return [];
    const { db } = this.deps;
    const [entities, cells, drift] = await Promise.all([
      db(ENTITIES)
        .whereIn('entity_ref', entityRefs)
        .select(
          'entity_ref',
          'title',
          'owner',
          'system',
          'lifecycle',
          'as_of',
          'error_message',
          'error_at',
        ),
      db(FLEET_CELLS)
        .whereIn('entity_ref', entityRefs)
        .orderBy('position')
        .select('entity_ref', 'environment', 'version', 'health'),
      db(FLEET_DRIFT)
        .whereIn('entity_ref', entityRefs)
        .select('entity_ref', 'environment', 'kind'),
    ]);
    const rows = new Map<string, FleetRow>();
    for (const entity of entities) {
      rows.set(entity.entity_ref, {
        entityRef: entity.entity_ref,
        title: entity.title ?? entity.entity_ref,
        owner: entity.owner,
        system: entity.system,
        lifecycle: entity.lifecycle,
        environments: {},
        asOf: isoOf(entity.as_of),
        ...(entity.error_message && entity.error_at
          ? {
              refreshError: {
                message: entity.error_message,
                at: isoOf(entity.error_at)!,
              },
            }
          : {}),
      });
    }
    for (const cell of cells) {
      const row = rows.get(cell.entity_ref);
      if (row) {
        row.environments[cell.environment] = {
          version: cell.version,
          health: cell.health,
          drift: [],
        };
      }
    }
    // Each cell's kinds in the one order every page lists them.
    drift.sort(
      (a, b) => DRIFT_KINDS.indexOf(a.kind) - DRIFT_KINDS.indexOf(b.kind),
    );
    for (const d of drift) {
      rows.get(d.entity_ref)?.environments[d.environment]?.drift.push(d.kind);
    }
    return entityRefs.flatMap(ref => rows.get(ref) ?? []);
  }
}

/** Orders by a column, nulls last in either order, alike on SQLite and PostgreSQL. */
function nullsLast(
  q: Knex.QueryBuilder,
  column: string,
  order: 'asc' | 'desc',
) {
  q.orderByRaw('?? is null', [column]).orderBy(column, order);
}

function toColumns(counts: Counts): FleetColumn[] {
  return [...counts.values()]
    .sort(
      (a, b) =>
        a.position - b.position || a.environment.localeCompare(b.environment),
    )
    .map(({ environment, services, drift }) => ({
      environment,
      services,
      drift,
    }));
}

/** A stored time as ISO 8601: SQLite gives milliseconds since the epoch, PostgreSQL a Date. */
function isoOf(value: Date | string | number | null): string | null {
  if (value === null || value === undefined) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function parseEntity(text: string | null): Entity | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Entity;
  } catch {
    return null;
  }
}

function distinct(values: Array<string | null>): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))].sort();
}
