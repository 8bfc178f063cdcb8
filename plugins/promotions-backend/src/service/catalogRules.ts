import { Entity, RELATION_OWNED_BY } from '@backstage/catalog-model';
import { EntitiesSearchFilter } from '@backstage/plugin-catalog-node';
import { catalogEntityPermissionResourceRef } from '@backstage/plugin-catalog-node/alpha';
import {
  createPermissionRule,
  PermissionRule,
  PermissionRuleset,
} from '@backstage/plugin-permission-node';
import { z } from 'zod/v3';
import { holdsField } from '../state/entityFields';

type CatalogRule = PermissionRule<
  Entity,
  EntitiesSearchFilter,
  'catalog-entity'
>;

/** A key and value the way the catalog searches them: lower case, arrays flattened. */
function searchRows(
  prefix: string,
  value: unknown,
  rows: Array<[string, string]>,
) {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) searchRows(prefix, item, rows);
  } else if (typeof value === 'object') {
    for (const [key, item] of Object.entries(
      value as Record<string, unknown>,
    )) {
      searchRows(prefix ? `${prefix}.${key}` : key, item, rows);
    }
  } else {
    rows.push([prefix.toLowerCase(), String(value).toLowerCase()]);
  }
}

/** A key-and-value rule over the whole annotation or label map, as the catalog matches it. */
function mapMatches(
  map: Record<string, string> | undefined,
  key: string,
  value: string | undefined,
) {
  if (!map) return false;
  if (Object.hasOwn(map, key) && (value === undefined || map[key] === value)) {
    return true;
  }
  return Object.entries(map).some(
    ([k, v]) =>
      k.toLowerCase() === key.toLowerCase() &&
      (value === undefined || v.toLowerCase() === value.toLowerCase()),
  );
}

const propertyRule = (property: 'metadata' | 'spec', held: boolean) =>
  createPermissionRule({
    name: `HAS_${property.toUpperCase()}`,
    description: `Allow entities with the specified ${property} subfield`,
    resourceRef: catalogEntityPermissionResourceRef,
    paramsSchema: z.object({ key: z.string(), value: z.string().optional() }),
    apply: (resource, { key, value }) => {
      if (held && !holdsField(`${property}.${key}`)) {
        throw new Error(`${property}.${key} is not held in the stored entity`);
      }
      const rows: Array<[string, string]> = [];
      searchRows(property, resource[property], rows);
      const wantedKey = `${property}.${key}`.toLowerCase();
      return rows.some(
        ([k, v]) =>
          k === wantedKey && (value === undefined || v === value.toLowerCase()),
      );
    },
    toQuery: ({ key, value }) => ({
      key: `${property}.${key}`,
      ...(value !== undefined ? { values: [value] } : {}),
    }),
  });

/**
 * The catalog's built-in permission rules for `catalog-entity`, applied to an entity held by this
 * plugin so that the catalog's conditional decisions need no call to the catalog. They mean what
 * the catalog's rules mean; a rule the catalog gained from a module is not among them, and a
 * decision that uses one is taken to the catalog instead. With `held`, the entity is the copy a
 * refresh stored, and a rule about a field it does not hold throws, so the catalog decides.
 */
const catalogRulesOf = (held: boolean): CatalogRule[] => [
  createPermissionRule({
    name: 'HAS_ANNOTATION',
    description: 'Allow entities with the specified annotation',
    resourceRef: catalogEntityPermissionResourceRef,
    paramsSchema: z.object({
      annotation: z.string(),
      value: z.string().optional(),
    }),
    apply: (resource, { annotation, value }) =>
      mapMatches(resource.metadata.annotations, annotation, value),
    toQuery: ({ annotation, value }) => ({
      key: `metadata.annotations.${annotation}`,
      ...(value !== undefined ? { values: [value] } : {}),
    }),
  }),
  createPermissionRule({
    name: 'HAS_LABEL',
    description: 'Allow entities with the specified label',
    resourceRef: catalogEntityPermissionResourceRef,
    paramsSchema: z.object({ label: z.string(), value: z.string().optional() }),
    apply: (resource, { label, value }) =>
      mapMatches(resource.metadata.labels, label, value),
    toQuery: ({ label, value }) => ({
      key: `metadata.labels.${label}`,
      ...(value !== undefined ? { values: [value] } : {}),
    }),
  }),
  propertyRule('metadata', held),
  propertyRule('spec', held),
  createPermissionRule({
    name: 'IS_ENTITY_KIND',
    description: 'Allow entities matching a specified kind',
    resourceRef: catalogEntityPermissionResourceRef,
    paramsSchema: z.object({ kinds: z.array(z.string()) }),
    apply: (resource, { kinds }) =>
      kinds.some(kind => kind.toLowerCase() === resource.kind.toLowerCase()),
    toQuery: ({ kinds }) => ({
      key: 'kind',
      values: kinds.map(kind => kind.toLowerCase()),
    }),
  }),
  createPermissionRule({
    name: 'IS_ENTITY_OWNER',
    description: 'Allow entities owned by a specified claim',
    resourceRef: catalogEntityPermissionResourceRef,
    paramsSchema: z.object({ claims: z.array(z.string()) }),
    apply: (resource, { claims }) =>
      (resource.relations ?? []).some(
        relation =>
          relation.type === RELATION_OWNED_BY &&
          claims.includes(relation.targetRef),
      ),
    toQuery: ({ claims }) => ({ key: 'relations.ownedBy', values: claims }),
  }),
];

/** The rules by name; an unknown name throws, as the permission framework expects. */
function rulesetOf(
  rules: CatalogRule[],
): PermissionRuleset<Entity, EntitiesSearchFilter, 'catalog-entity'> {
  return {
    getRuleByName(name: string) {
      const rule = rules.find(r => r.name === name);
      if (!rule) throw new Error(`Unknown catalog permission rule ${name}`);
      return rule;
    },
  };
}

/** The rules, for an entity as the catalog answered it. */
export const catalogRuleset = rulesetOf(catalogRulesOf(false));

/** The rules, for the copy of an entity a refresh stored with `ENTITY_FIELDS` only. */
export const storedEntityRuleset = rulesetOf(catalogRulesOf(true));
