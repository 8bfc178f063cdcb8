import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';

/**
 * An owner as one entity ref, lower case, as the catalog's `ownedBy` relation names it: `team-a`,
 * `group:team-a` and `group:default/team-a` are all `group:default/team-a`. The namespace is the
 * owning entity's; undefined when the text is no entity ref.
 *
 * @public
 */
export function ownerEntityRef(
  owner: string,
  options: { defaultNamespace?: string } = {},
): string | undefined {
  const text = owner.trim();
  if (!text) return undefined;
  try {
    return stringifyEntityRef(
      parseEntityRef(text, {
        defaultKind: 'group',
        defaultNamespace: options.defaultNamespace || 'default',
      }),
    ).toLocaleLowerCase('en-US');
  } catch {
    return undefined;
  }
}
