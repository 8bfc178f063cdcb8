import {
  AuthorizeResult,
  PermissionCondition,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { createConditionAuthorizer } from '@backstage/plugin-permission-node';
import { Knex } from 'knex';
import { catalogRuleset } from '../service/catalogRules';
import { FLEET_ACCESS } from '../state/fleetIndex';

const ENTITIES = 'promotions_entity_state';
/** Limits `promotions_entity_state as e` to the services a caller may see. */
export type FleetAccessQuery = (q: Knex.QueryBuilder) => void;

type Clause = (q: Knex.QueryBuilder) => void;

const authorize = createConditionAuthorizer(catalogRuleset);
/** An entity both rules judge without failing, to check a leaf's parameters against. */
const PROBE = { apiVersion: 'v1', kind: 'probe', metadata: { name: 'probe' } };

/** Deeper trees than any policy writes are judged in JS rather than nested in SQL. */
const MAX_DEPTH = 16;
/** Claims or kinds per rule: well under SQLite's and PostgreSQL's parameter limits. */
const MAX_VALUES = 500;

/**
 * The caller's conditional decisions as a where-clause over the fleet's access rows, when every
 * rule they use is one the rows answer as the catalog's rule would on the stored entity
 * (`IS_ENTITY_OWNER`, `IS_ENTITY_KIND`); undefined when any is not, and the fleet judges each
 * service in JS instead.
 */
export function fleetAccessQuery(
  db: Knex,
  decisions: PolicyDecision[],
): FleetAccessQuery | undefined {
  const clauses: Clause[] = [];
  const seen = new Set<string>();
  for (const decision of decisions) {
    if (decision.result === AuthorizeResult.ALLOW) continue;
    if (decision.result !== AuthorizeResult.CONDITIONAL) return undefined;
    // An owner-based policy answers both permissions alike: one clause does.
    const key = JSON.stringify(decision.conditions);
    if (seen.has(key)) continue;
    seen.add(key);
    const clause = criteriaClause(db, decision.conditions, 0);
    if (!clause) return undefined;
    clauses.push(clause);
  }
  return q => {
    for (const clause of clauses) q.where(clause);
  };
}

/** One node of a criteria tree, read the way the permission framework applies it. */
function criteriaClause(
  db: Knex,
  criteria: unknown,
  depth: number,
): Clause | undefined {
  if (depth > MAX_DEPTH || typeof criteria !== 'object' || criteria === null) {
    return undefined;
  }
  const node = criteria as Record<string, unknown>;
  if (Object.hasOwn(node, 'allOf') || Object.hasOwn(node, 'anyOf')) {
    const all = Object.hasOwn(node, 'allOf');
    const children = all ? node.allOf : node.anyOf;
    if (!Array.isArray(children)) return undefined;
    const clauses = children.map(child => criteriaClause(db, child, depth + 1));
    if (clauses.some(clause => !clause)) return undefined;
    return q => {
      // Alike to `every` and `some` of no children: true and false.
      if (!clauses.length) q.whereRaw(all ? '1 = 1' : '1 = 0');
      for (const clause of clauses) {
        if (all) q.where(clause!);
        else q.orWhere(clause!);
      }
    };
  }
  if (Object.hasOwn(node, 'not')) {
    const clause = criteriaClause(db, node.not, depth + 1);
    return clause && (q => q.whereNot(clause));
  }
  return ruleClause(db, node);
}

function ruleClause(
  db: Knex,
  leaf: Record<string, unknown>,
): Clause | undefined {
  if (leaf.rule !== 'IS_ENTITY_OWNER' && leaf.rule !== 'IS_ENTITY_KIND') {
    return undefined;
  }
  try {
    // Parameters the framework refuses make the JS judgement fail; it decides them.
    authorize(
      {
        result: AuthorizeResult.CONDITIONAL,
        pluginId: 'catalog',
        resourceType: 'catalog-entity',
        conditions: leaf as unknown as PermissionCondition,
      },
      PROBE,
    );
  } catch {
    return undefined;
  }
  const params = leaf.params as { claims?: string[]; kinds?: string[] };
  const [fact, values] =
    leaf.rule === 'IS_ENTITY_OWNER'
      ? ['owner', params.claims!]
      : ['kind', params.kinds!.map(kind => kind.toLowerCase())];
  if (values.length > MAX_VALUES) return undefined;
  // A set the database builds once from the value index, rather than a lookup per service.
  return q => {
    q.whereIn(
      'e.entity_ref',
      db(FLEET_ACCESS)
        .where('fact', fact)
        .whereIn('value', values)
        .select('entity_ref'),
    );
  };
}

/**
 * Whether a stored service is one whose entity the access rows cannot judge as the catalog's
 * rules would (none stored, or one they would fail on): then the fleet judges every one in JS.
 */
export async function anyUnjudged(db: Knex): Promise<boolean> {
  const row = await db(`${FLEET_ACCESS} as a`)
    .where('a.fact', 'unjudged')
    .whereExists(function isShown() {
      this.select(db.raw('1'))
        .from(`${ENTITIES} as e`)
        .whereRaw('e.entity_ref = a.entity_ref')
        .where('e.fleet_indexed', true)
        .whereNotNull('e.body');
    })
    .first('a.entity_ref');
  return row !== undefined;
}
