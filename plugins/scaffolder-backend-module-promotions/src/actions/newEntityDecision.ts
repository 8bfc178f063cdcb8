import { Entity, RELATION_OWNED_BY } from '@backstage/catalog-model';
import {
  AuthorizeResult,
  PermissionCondition,
  PermissionCriteria,
  ConditionalPolicyDecision,
  PolicyDecision,
} from '@backstage/plugin-permission-common';

/** A condition no rule here can judge: the whole decision refuses, even under a `not`. */
class UnknownRule extends Error {}

function judge(
  criteria: PermissionCriteria<PermissionCondition>,
  entity: Entity,
): boolean {
  if ('allOf' in criteria) return criteria.allOf.every(c => judge(c, entity));
  if ('anyOf' in criteria) return criteria.anyOf.some(c => judge(c, entity));
  if ('not' in criteria) return !judge(criteria.not, entity);
  const params = (criteria.params ?? {}) as Record<string, unknown>;
  if (criteria.resourceType !== 'catalog-entity') throw new UnknownRule();
  if (criteria.rule === 'IS_ENTITY_OWNER' && Array.isArray(params.claims)) {
    const claims = params.claims;
    return (entity.relations ?? []).some(
      r => r.type === RELATION_OWNED_BY && claims.includes(r.targetRef),
    );
  }
  if (criteria.rule === 'IS_ENTITY_KIND' && Array.isArray(params.kinds)) {
    return params.kinds.some(
      kind =>
        typeof kind === 'string' &&
        kind.toLowerCase() === entity.kind.toLowerCase(),
    );
  }
  throw new UnknownRule();
}

/**
 * Whether a decision on a `catalog-entity` permission allows it for an entity the catalog does
 * not hold yet (a service about to be published). The catalog's owner and kind rules are judged
 * on the entity as it will be registered; any other rule refuses, as the catalog could not
 * judge it either.
 */
export function allowsNewEntity(
  decision: PolicyDecision,
  entity: Entity,
): boolean {
  if (decision.result === AuthorizeResult.ALLOW) return true;
  if (decision.result === AuthorizeResult.DENY) return false;
  try {
    return judge((decision as ConditionalPolicyDecision).conditions, entity);
  } catch (error) {
    if (error instanceof UnknownRule) return false;
    throw error;
  }
}
