/**
 * Applies a rendered `templatePatch` to a generated Application as Argo CD does: a strategic
 * merge patch on the Application type. Maps merge key by key, `null` deletes, lists replace
 * (the Application type declares no merge keys) except `metadata.finalizers`, which Kubernetes
 * merges, and `$patch: replace | delete` act on the map that holds them. Inside
 * `helm.valuesObject` (a raw extension) only scalars can be patched: a map or list there, in
 * both the Application and the patch, is the error Argo CD reports.
 */

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Lists Kubernetes merges rather than replaces in an Application: finalizers, by value. */
const MERGED_LISTS = new Set(['metadata.finalizers']);

export class TemplatePatchError extends Error {}

function isRawExtension(path: string[]) {
  return (
    path.length >= 2 &&
    path[path.length - 1] === 'valuesObject' &&
    path[path.length - 2] === 'helm'
  );
}

/** The patch value as it lands where the original had nothing: directives taken out. */
function withoutDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDirectives);
  if (!isObject(value)) return value;
  if (value.$patch === 'delete') return undefined;
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    const clean = withoutDirectives(item);
    if (clean !== undefined && clean !== null) out[key] = clean;
  }
  return out;
}

function mergeMap(
  original: Json,
  patch: Json,
  path: string[],
): Json | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return withoutDirectives(patch) as Json;
  if (directive !== undefined && directive !== 'merge')
    throw new TemplatePatchError(`unknown patch type: ${String(directive)}`);
  const out: Json = { ...original };
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const key of Object.keys(out))
      if (!retain.includes(key)) delete out[key];
  }
  const raw = isRawExtension(path);
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete out[key];
      continue;
    }
    const current = out[key];
    if (!Object.hasOwn(out, key) || current === null || current === undefined) {
      const clean = withoutDirectives(value);
      if (clean !== undefined) out[key] = clean;
      continue;
    }
    const bothMaps = isObject(current) && isObject(value);
    const bothLists = Array.isArray(current) && Array.isArray(value);
    if (raw && (bothMaps || bothLists))
      throw new TemplatePatchError(
        `unable to find api field in struct RawExtension for the json field "${key}"`,
      );
    if (bothMaps) {
      const merged = mergeMap(current as Json, value as Json, [...path, key]);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (bothLists && MERGED_LISTS.has([...path, key].join('.'))) {
      const items = [...(current as unknown[])];
      for (const item of value as unknown[])
        if (!items.includes(item)) items.push(item);
      out[key] = items;
    } else {
      out[key] = withoutDirectives(value);
    }
  }
  return out;
}

/**
 * The Application with the patch applied. The project never changes: Argo CD restores it, so
 * that a patch cannot move an Application into another project.
 */
export function applyTemplatePatch(application: Json, patch: unknown): Json {
  if (patch === null || patch === undefined) return application;
  if (!isObject(patch))
    throw new TemplatePatchError(
      `invalid templatePatch: json: cannot unmarshal ${
        Array.isArray(patch) ? 'array' : typeof patch
      } into Go value of type v1alpha1.Application`,
    );
  const patched = mergeMap(application, patch, []) ?? {};
  const spec = isObject(patched.spec) ? { ...patched.spec } : {};
  const originalSpec = isObject(application.spec) ? application.spec : {};
  if (originalSpec.project === undefined) delete spec.project;
  else spec.project = originalSpec.project;
  return { ...patched, spec };
}
