import {
  CompoundEntityRef,
  makeValidator,
  parseEntityRef,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';

const validator = makeValidator();

/**
 * An entity reference from a caller (an agent, a template): kind and namespace default as the
 * catalog's references do, and kind, namespace and name must each be what the catalog accepts.
 * Anything else is an `InputError` naming the reference.
 *
 * @public
 */
export function parsePromotableEntityRef(ref: string): CompoundEntityRef {
  let parsed: CompoundEntityRef;
  try {
    parsed = parseEntityRef(ref, {
      defaultKind: 'component',
      defaultNamespace: 'default',
    });
  } catch (error) {
    throw new InputError(
      `"${ref.slice(0, 80)}" is not an entity reference: ${
        (error as Error).message
      }`,
    );
  }
  if (
    !validator.isValidKind(parsed.kind) ||
    !validator.isValidNamespace(parsed.namespace) ||
    !validator.isValidEntityName(parsed.name)
  ) {
    throw new InputError(`"${ref.slice(0, 80)}" is not an entity reference`);
  }
  return parsed;
}
