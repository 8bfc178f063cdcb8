import { Entity, RELATION_OWNED_BY } from '@backstage/catalog-model';
import {
  DriftKind,
  DRIFT_KINDS,
  EntityPromotions,
  ownerEntityRef,
} from '@gitops-promotions/plugin-promotions-common';
import { Knex } from 'knex';

export const FLEET_CELLS = 'promotions_fleet_cells';
export const FLEET_DRIFT = 'promotions_fleet_drift';
export const FLEET_ACCESS = 'promotions_fleet_access';
const ENTITIES = 'promotions_entity_state';
/** Rows per insert statement: well under SQLite's and PostgreSQL's parameter limits. */
const BATCH = 100;

/** Health from worst to best: an environment shows the worst of its applications. */
const HEALTH_ORDER = [
  'Degraded',
  'Missing',
  'Progressing',
  'Suspended',
  'Unknown',
  'Healthy',
];

/** A catalog field as the fleet stores it: a short string, or null for anything else. */
function field(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed ? trimmed.slice(0, 255) : null;
}

/** The columns the fleet page filters and sorts by, from the stored catalog entity. */
export function fleetColumns(entityRef: string, entity: Entity | null) {
  const name =
    field(entity?.metadata?.name) ??
    entityRef.slice(entityRef.indexOf('/') + 1);
  return {
    name: name.toLowerCase().slice(0, 255),
    title: field(entity?.metadata?.title) ?? name.slice(0, 255),
    owner: ownerOf(entityRef, entity),
    system: field(entity?.spec?.system),
    lifecycle: field(entity?.spec?.lifecycle),
  };
}

/** The owner as the catalog's `ownedBy` relation names it, in the entity's namespace. */
function ownerOf(entityRef: string, entity: Entity | null): string | null {
  const owner = field(entity?.spec?.owner);
  if (!owner) return null;
  const namespace =
    field(entity?.metadata?.namespace) ??
    entityRef.slice(entityRef.indexOf(':') + 1, entityRef.indexOf('/'));
  const ref = ownerEntityRef(owner, { defaultNamespace: namespace });
  return ref && ref.length <= 255 ? ref : null;
}

/** The fleet rows of one stored body: an environment each, and each of its drift kinds. */
export function fleetRows(entityRef: string, body: EntityPromotions) {
  const cells: Array<{
    entity_ref: string;
    environment: string;
    position: number;
    version: string | null;
    health: string | null;
    drift_count: number;
  }> = [];
  const drift: Array<{
    entity_ref: string;
    environment: string;
    kind: string;
  }> = [];
  const seen = new Set<string>();
  (Array.isArray(body.environments) ? body.environments : []).forEach(
    (environment, position) => {
      const name = field(environment?.name)?.slice(0, 63);
      if (!name || seen.has(name)) return;
      seen.add(name);
      const kinds = [
        ...new Set(
          (Array.isArray(environment.drift) ? environment.drift : [])
            .map(d => d?.kind)
            .filter((kind): kind is DriftKind => DRIFT_KINDS.includes(kind)),
        ),
      ];
      const healths = (environment.live?.applications ?? [])
        .map(a => a?.healthStatus)
        .filter(h => HEALTH_ORDER.includes(h));
      healths.sort((a, b) => HEALTH_ORDER.indexOf(a) - HEALTH_ORDER.indexOf(b));
      cells.push({
        entity_ref: entityRef,
        environment: name,
        position,
        version: field(environment.desired?.version),
        health: healths[0] ?? null,
        drift_count: kinds.length,
      });
      for (const kind of kinds) {
        drift.push({ entity_ref: entityRef, environment: name, kind });
      }
    },
  );
  return { cells, drift };
}

/**
 * What the fleet page's SQL judgement of permission rules asks of a stored entity: its kind,
 * lower case, and the targets of its ownedBy relations as written, which `IS_ENTITY_OWNER`
 * matches exactly; or one `unjudged` row when none is stored or the catalog's rules would fail
 * on it, so that the fleet judges it as it did before.
 */
export function fleetAccessRows(entityRef: string, entity: unknown) {
  const unjudged = [{ entity_ref: entityRef, fact: 'unjudged', value: '' }];
  if (typeof entity !== 'object' || entity === null) return unjudged;
  const { kind, relations } = entity as Partial<Entity>;
  if (typeof kind !== 'string') return unjudged;
  if (
    relations !== undefined &&
    relations !== null &&
    !(
      Array.isArray(relations) &&
      relations.every(r => r !== null && r !== undefined)
    )
  ) {
    return unjudged;
  }
  const owners = new Set(
    (relations ?? [])
      .filter(
        r => r.type === RELATION_OWNED_BY && typeof r.targetRef === 'string',
      )
      .map(r => r.targetRef),
  );
  const values = [
    ['kind', kind.toLowerCase()],
    ...[...owners].map(owner => ['owner', owner]),
  ];
  // A value too long to store exactly is judged the way it was before.
  if (values.some(([, value]) => value.length > 255)) return unjudged;
  return values.map(([fact, value]) => ({
    entity_ref: entityRef,
    fact,
    value,
  }));
}

/**
 * Brings the fleet page's columns and rows up to date with the stored bodies of a repository
 * that are not indexed yet: those a refresh just wrote, and those stored before the fleet page
 * existed.
 */
export async function indexFleet(
  trx: Knex.Transaction,
  repositoryId: string,
): Promise<void> {
  const rows: Array<{
    entity_ref: string;
    body: string;
    entity: string | null;
  }> = await trx(ENTITIES)
    .where({ repository_id: repositoryId, fleet_indexed: false })
    .whereNotNull('body')
    .select('entity_ref', 'body', 'entity');
  for (let i = 0; i < rows.length; i += BATCH) {
    const chunk = rows.slice(i, i + BATCH);
    const refs = chunk.map(row => row.entity_ref);
    await trx(FLEET_CELLS).whereIn('entity_ref', refs).delete();
    await trx(FLEET_DRIFT).whereIn('entity_ref', refs).delete();
    await trx(FLEET_ACCESS).whereIn('entity_ref', refs).delete();
    const cells = [];
    const drift = [];
    const access = [];
    for (const row of chunk) {
      let entity: Entity | null = null;
      let body: EntityPromotions | undefined;
      try {
        entity = row.entity ? (JSON.parse(row.entity) as Entity) : null;
        body = JSON.parse(row.body) as EntityPromotions;
      } catch {
        // A body that does not parse shows no environments.
      }
      const rowsOf = body
        ? fleetRows(row.entity_ref, body)
        : { cells: [], drift: [] };
      cells.push(...rowsOf.cells);
      drift.push(...rowsOf.drift);
      access.push(...fleetAccessRows(row.entity_ref, entity));
      await trx(ENTITIES)
        .where({ entity_ref: row.entity_ref })
        .update({
          ...fleetColumns(row.entity_ref, entity),
          fleet_indexed: true,
        });
    }
    for (let j = 0; j < cells.length; j += BATCH) {
      await trx(FLEET_CELLS).insert(cells.slice(j, j + BATCH));
    }
    for (let j = 0; j < drift.length; j += BATCH) {
      await trx(FLEET_DRIFT).insert(drift.slice(j, j + BATCH));
    }
    for (let j = 0; j < access.length; j += BATCH) {
      await trx(FLEET_ACCESS).insert(access.slice(j, j + BATCH));
    }
  }
}

/** Forgets the fleet rows of entities no longer stored. */
export async function forgetFleet(
  trx: Knex.Transaction,
  entityRefs: string[],
): Promise<void> {
  await trx(FLEET_CELLS).whereIn('entity_ref', entityRefs).delete();
  await trx(FLEET_DRIFT).whereIn('entity_ref', entityRefs).delete();
  await trx(FLEET_ACCESS).whereIn('entity_ref', entityRefs).delete();
}
