import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import { catalogRuleset } from '../service/catalogRules';
import { FLEET_ACCESS } from '../state/fleetIndex';

/** Limits `promotions_entity_state as e` to the services a caller may see. */
export type FleetAccessQuery = (q: Knex.QueryBuilder) => void;

type Clause = (q: Knex.QueryBuilder) => void;

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
  for (const decision of decisions) {
    if (decision.result === AuthorizeResult.ALLOW) continue;
    if (decision.result !== AuthorizeResult.CONDITIONAL) return undefined;
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
  const rule = catalogRuleset.getRuleByName(leaf.rule);
  // Parameters the framework would refuse make the JS judgement fail; it decides them.
  if (!rule.paramsSchema?.safeParse(leaf.params).success) return undefined;
  const params = leaf.params as { claims?: string[]; kinds?: string[] };
  const [fact, values] =
    leaf.rule === 'IS_ENTITY_OWNER'
      ? ['owner', params.claims!]
      : ['kind', params.kinds!.map(kind => kind.toLowerCase())];
  if (values.length > MAX_VALUES) return undefined;
  return q => {
    q.whereExists(function hasAccess() {
      this.select(db.raw('1'))
        .from(`${FLEET_ACCESS} as a`)
        .whereRaw('a.entity_ref = e.entity_ref')
        .where('a.fact', fact)
        .whereIn('a.value', values);
    });
  };
}

/** Limits `promotions_entity_state as e` to the services whose stored entity the rows judge. */
export function judgedInSql(db: Knex): FleetAccessQuery {
  return q => {
    q.whereExists(function hasKind() {
      this.select(db.raw('1'))
        .from(`${FLEET_ACCESS} as a`)
        .whereRaw('a.entity_ref = e.entity_ref')
        .where('a.fact', 'kind');
    });
  };
}
