/**
 * Lists that strategic merge patches merge item by item, by the first of these keys an item
 * has, as Kubernetes does (`ports` is keyed by `containerPort` in pods, by `port` in services).
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
};

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

function mergeList(
  base: unknown[],
  patch: unknown[],
  keys: string[],
): unknown[] {
  // A `- $patch: replace` item makes the patch's list replace the target's.
  if (
    patch.some(
      item => isDirectiveItem(item) && (item as any).$patch === 'replace',
    )
  ) {
    return withoutDirectives(patch) as unknown[];
  }
  const result = [...base];
  for (const item of patch) {
    const key = isObject(item)
      ? keys.find(candidate => candidate in item)
      : undefined;
    if (!isObject(item) || !key) {
      result.push(withoutDirectives(item));
      continue;
    }
    const index = result.findIndex(
      existing => isObject(existing) && existing[key] === item[key],
    );
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMerge(result[index], item);
    } else {
      result.push(withoutDirectives(item));
    }
  }
  return result;
}

/**
 * Applies a strategic merge patch: maps merge, `null` deletes a key, keyed lists (containers,
 * env, volumes, ...) merge item by item, other lists are replaced; `$patch: delete | replace`.
 * Returns undefined when the patch deletes the whole object. Neither argument is changed.
 */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return withoutDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace' || !isObject(target))
    return withoutDirectives(patch);
  const result: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    const current = result[key];
    if (value === null) {
      delete result[key];
    } else if (
      Array.isArray(value) &&
      MERGE_KEYS[key] &&
      Array.isArray(current)
    ) {
      result[key] = mergeList(current, value, MERGE_KEYS[key]);
    } else {
      const merged = strategicMerge(current, value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
  }
  return result;
}
