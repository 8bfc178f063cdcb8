/**
 * Lists of Kubernetes types that strategic merge patches merge item by item, by the first of
 * these keys an item has, as kustomize's schema says (`ports` is keyed by `containerPort` in
 * pods, by `port` in services).
 */
const MERGE_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  ports: ['containerPort', 'port'],
  imagePullSecrets: ['name'],
  hostAliases: ['ip'],
  topologySpreadConstraints: ['topologyKey'],
  ownerReferences: ['uid'],
};
/** Lists of plain values that strategic merge patches merge, keeping each value once. */
const MERGED_VALUES = new Set(['finalizers']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A list item that is only a directive, such as `- $patch: replace`. */
const isDirectiveItem = (item: unknown) =>
  isObject(item) && '$patch' in item && Object.keys(item).length === 1;

/** A patch value without `$patch`, `$setElementOrder/...` and other directives. */
function withoutDirectives(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.filter(item => !isDirectiveItem(item)).map(withoutDirectives);
  }
  if (!isObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!key.startsWith('$')) result[key] = withoutDirectives(item);
  }
  return result;
}

const keyOf = (item: unknown, keys: string[]) =>
  isObject(item) ? keys.find(candidate => candidate in item) : undefined;

/**
 * Merges keyed lists as kustomize does: the patch's items first, in the patch's order (each
 * merged into the target's item of the same key), then the target's other items.
 */
function mergeList(
  base: unknown[],
  patch: unknown[],
  keys: string[],
  known: boolean,
): unknown[] {
  const identity = (item: unknown) => {
    const key = keyOf(item, keys);
    return key ? `${key}\0${String((item as any)[key])}` : undefined;
  };
  const patched = new Set<string>();
  const result: unknown[] = [];
  const unkeyed: unknown[] = [];
  for (const item of patch) {
    const id = identity(item);
    if (id === undefined) {
      unkeyed.push(withoutDirectives(item));
      continue;
    }
    if (patched.has(id)) continue;
    patched.add(id);
    if ((item as any).$patch === 'delete') continue;
    const existing = base.find(candidate => identity(candidate) === id);
    result.push(
      existing === undefined
        ? withoutDirectives(item)
        : strategicMerge(existing, item, known),
    );
  }
  const rest = base.filter(item => {
    const id = identity(item);
    return id === undefined || !patched.has(id);
  });
  return [...result, ...rest, ...unkeyed];
}

/** Merges lists of plain values: the patch's first, then the target's others. */
function mergeValues(base: unknown[], patch: unknown[]): unknown[] {
  const values = [...patch, ...base].map(value => JSON.stringify(value));
  return [...new Set(values)].map(value => JSON.parse(value));
}

function mergeField(
  key: string,
  current: unknown,
  value: unknown,
  known: boolean,
): unknown {
  if (!Array.isArray(value) || !Array.isArray(current))
    return strategicMerge(current, value, known);
  // A `- $patch: replace` item makes the patch's list replace the target's.
  if (
    value.some(
      item => isDirectiveItem(item) && (item as any).$patch === 'replace',
    )
  )
    return withoutDirectives(value);
  // A type kustomize has no schema for gets its lists replaced, never merged.
  if (!known) return withoutDirectives(value);
  if (MERGE_KEYS[key]) return mergeList(current, value, MERGE_KEYS[key], known);
  if (MERGED_VALUES.has(key)) return mergeValues(current, value);
  return withoutDirectives(value);
}

/**
 * Applies a strategic merge patch: maps merge, `null` deletes a key, keyed lists (containers,
 * env, volumes, ...) merge item by item, other lists are replaced; `$patch: delete | replace`.
 * `known` says whether the target's type is one kustomize's schema knows: lists of other types
 * are replaced whole. Returns undefined when the patch deletes the whole object. Neither
 * argument is changed.
 */
export function strategicMerge(
  target: unknown,
  patch: unknown,
  known = true,
): unknown {
  if (!isObject(patch)) return withoutDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace' || !isObject(target))
    return withoutDirectives(patch);
  const result: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const merged = mergeField(key, result[key], value, known);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  return result;
}
