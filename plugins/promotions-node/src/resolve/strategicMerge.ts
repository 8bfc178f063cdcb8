/**
 * How a strategic merge patch merges a list, as kustomize's schema (Kubernetes 1.21) says for
 * the list at that place: by its merge keys (ports by port and protocol), or as a set of
 * values. A list the schema gives no strategy is replaced.
 */
type ListRule = { keys: string[] } | { values: true };

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];
const POD_SPEC_LISTS: Record<string, ListRule> = {
  ...Object.fromEntries(
    CONTAINER_LISTS.map(list => [list, { keys: ['name'] }]),
  ),
  volumes: { keys: ['name'] },
  imagePullSecrets: { keys: ['name'] },
  hostAliases: { keys: ['ip'] },
  topologySpreadConstraints: { keys: ['topologyKey', 'whenUnsatisfiable'] },
};
const CONTAINER_FIELD_LISTS: Record<string, ListRule> = {
  env: { keys: ['name'] },
  volumeMounts: { keys: ['mountPath'] },
  volumeDevices: { keys: ['devicePath'] },
  ports: { keys: ['containerPort', 'protocol'] },
};
/** Lists merged wherever an object of the kind has them, by path from its root. */
const KIND_LISTS: Record<string, Record<string, ListRule>> = {
  Service: { 'spec.ports': { keys: ['port', 'protocol'] } },
  ServiceAccount: { secrets: { keys: ['name'] } },
  MutatingWebhookConfiguration: { webhooks: { keys: ['name'] } },
  ValidatingWebhookConfiguration: { webhooks: { keys: ['name'] } },
  CSINode: { 'spec.drivers': { keys: ['name'] } },
  Node: { 'spec.podCIDRs': { values: true } },
};

const same = (a: string[], b: string[]) =>
  a.length === b.length && a.every((part, i) => part === b[i]);

/** A pod spec: a Pod's `spec`, or the `spec` of any pod template (`template.spec`). */
const isPodSpec = (kind: string, path: string[]) =>
  (kind === 'Pod' && same(path, ['spec'])) ||
  same(path.slice(-2), ['template', 'spec']);

/** The rule for the list at `path` (field names from the object's root) in an object of `kind`. */
function listRule(kind: string, path: string[]): ListRule | undefined {
  const field = path[path.length - 1];
  const parent = path.slice(0, -1);
  if (same(parent, ['metadata'])) {
    if (field === 'finalizers') return { values: true };
    if (field === 'ownerReferences') return { keys: ['uid'] };
  }
  if (isPodSpec(kind, parent)) return POD_SPEC_LISTS[field];
  const owner = parent.slice(0, -1);
  if (
    CONTAINER_LISTS.includes(parent[parent.length - 1]) &&
    isPodSpec(kind, owner)
  )
    return CONTAINER_FIELD_LISTS[field];
  return KIND_LISTS[kind]?.[path.join('.')];
}

/** Items a list merged by keys may hold, target and patch together. */
export const MAX_MERGED_ITEMS = 2000;

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

/** A scalar as its YAML text, as kustomize compares merge keys; an empty or absent one is "". */
function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (isObject(value) || Array.isArray(value))
    return Object.keys(value).length === 0 ? '' : JSON.stringify(value);
  return String(value);
}

const keyValues = (item: unknown, keys: string[]) =>
  keys.map(key => (isObject(item) ? text(item[key]) : ''));

/** kustomize's element setter: replaces (or with no element, removes) the items matching keys. */
function setElement(
  list: unknown[],
  keys: string[],
  values: string[],
  element?: unknown,
): unknown[] {
  const mappingSetter = keys[0] !== '' && values.length > 0 && values[0] !== '';
  const result: unknown[] = [];
  let found = false;
  for (const item of list) {
    if (item === null || item === undefined) continue;
    if (isObject(item) && Object.keys(item).length === 0) continue;
    if (!isObject(item) && mappingSetter) {
      result.push(item);
      continue;
    }
    // A key without a value matches any item that has the field; past the values, the last check stands.
    let matches = keys.length > 0;
    for (let j = 0; j < keys.length && matches; j++) {
      if (j >= values.length) break;
      const has = isObject(item) && Object.hasOwn(item, keys[j]);
      matches = has && (values[j] === '' || text(item[keys[j]]) === values[j]);
    }
    if (!matches) {
      if (values.length > 0) result.push(item);
      continue;
    }
    found = true;
    if (element !== undefined) result.push(element);
  }
  if (element !== undefined && !found) result.push(element);
  return result;
}

/** The first item whose non-empty key values are those given. */
function findItem(list: unknown[], keys: string[], values: string[]) {
  const used = keys.filter((_, i) => values[i] !== '');
  const wanted = values.filter(value => value !== '');
  const [byKeys, byValues] = used.length > 0 ? [used, wanted] : [keys, values];
  return list.find(
    item =>
      isObject(item) &&
      byKeys.every(
        (key, i) =>
          Object.hasOwn(item, key) &&
          (byValues[i] === '' || text(item[key]) === byValues[i]),
      ),
  );
}

/** Two key tuples that agree where both have a value, and share one: kustomize merges them. */
function unify(a: string[], b: string[]): string[] | undefined {
  let common = false;
  const result: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) {
      common = true;
      result.push(a[i]);
    } else if (a[i] !== '' && b[i] !== '') return undefined;
    else result.push(a[i] || b[i]);
  }
  return common ? result : undefined;
}

/**
 * Merges a keyed list exactly as kustomize's kyaml merges it when a patch prepends: the
 * patch's items first, in the patch's order, each merged with the target's item of the same
 * keys; then the target's items. With two keys (ports: port and protocol) kustomize moves every
 * target item after the patch's new ones, and an item whose keys match only partly is not
 * merged; both quirks are kept, since they decide what is deployed.
 */
function mergeList(
  base: unknown[],
  patch: unknown[],
  keys: string[],
  merge: (target: unknown, patch: unknown) => unknown,
): unknown[] {
  // Merging compares every item with every other: a list no manifest has would take too long.
  if (base.length + patch.length > MAX_MERGED_ITEMS) {
    throw new Error(
      `a merged list may hold at most ${MAX_MERGED_ITEMS} items, not ${
        base.length + patch.length
      }`,
    );
  }
  const seen = new Set<string>();
  let tuples: string[][] = [];
  for (const item of [...patch, ...base]) {
    const values = keyValues(item, keys);
    const id = JSON.stringify(values);
    if (!seen.has(id)) tuples.push(values);
    seen.add(id);
  }
  if (keys.length > 1) {
    for (let i = 0; i < tuples.length; i++) {
      for (let j = 0; j < tuples.length; j++) {
        const unified = unify(tuples[i], tuples[j]);
        if (unified) tuples[i] = tuples[j] = unified;
      }
    }
  }
  const usedKeys = keys.filter((_, i) => tuples.some(t => t[i] !== ''));
  const validKeys = usedKeys.length > 0 ? usedKeys : keys;
  const pick = (values: string[]) =>
    usedKeys.length > 0
      ? values.filter((_, i) => usedKeys.includes(keys[i]))
      : values;
  tuples = tuples.map(pick);
  let target = [...base];
  let items: unknown[] = [];
  for (const values of tuples) {
    const existing = findItem(target, validKeys, values);
    const patchItem = findItem(patch, validKeys, values);
    let result: unknown;
    if (patchItem === undefined) result = existing;
    else if (existing === undefined)
      result =
        (patchItem as any).$patch === 'delete'
          ? undefined
          : withoutDirectives(patchItem);
    else result = merge(existing, patchItem);
    if (
      result === undefined ||
      (isObject(result) && Object.keys(result).length === 0)
    ) {
      target = setElement(target, validKeys, values);
      continue;
    }
    const filled = { ...(result as Record<string, unknown>) };
    validKeys.forEach((key, i) => {
      if (!(key in filled) && values[i] !== '') filled[key] = values[i];
    });
    if (existing !== undefined)
      target = target.map(item => (item === existing ? filled : item));
    items = setElement(items, validKeys, values, filled);
  }
  for (const item of target) {
    const values: string[] = [];
    for (const key of validKeys) {
      if (!isObject(item) || !Object.hasOwn(item, key)) {
        items = [...items, item];
        continue;
      }
      values.push(text(item[key]));
    }
    if (validKeys.length > 1) items = setElement(items, validKeys, values);
    items = setElement(items, validKeys, values, item);
  }
  return items;
}

/** Merges lists of plain values: the patch's first, then the target's others. */
function mergeValues(base: unknown[], patch: unknown[]): unknown[] {
  const values = [...patch, ...base].map(value => JSON.stringify(value));
  return [...new Set(values)].map(value => JSON.parse(value));
}

function mergeAt(
  target: unknown,
  patch: unknown,
  kind: string | null,
  path: string[],
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
    const merged = mergeField(result[key], value, kind, [...path, key]);
    if (merged === undefined) delete result[key];
    else result[key] = merged;
  }
  return result;
}

function mergeField(
  current: unknown,
  value: unknown,
  kind: string | null,
  path: string[],
): unknown {
  if (!Array.isArray(value) || !Array.isArray(current))
    return mergeAt(current, value, kind, path);
  // A `- $patch: replace` item makes the patch's list replace the target's.
  if (
    value.some(
      item => isDirectiveItem(item) && (item as any).$patch === 'replace',
    )
  )
    return withoutDirectives(value);
  // A type kustomize has no schema for gets its lists replaced, never merged.
  const rule = kind === null ? undefined : listRule(kind, path);
  if (!rule) return withoutDirectives(value);
  if ('values' in rule) return mergeValues(current, value);
  return mergeList(current, value, rule.keys, (target, patch) =>
    mergeAt(target, patch, kind, path),
  );
}

/**
 * Applies a strategic merge patch to an object of a kind: maps merge, `null` deletes a key,
 * the lists kustomize's schema keys (containers, env, volumes, ports, ...) merge item by item,
 * other lists are replaced; `$patch: delete | replace`. `kind` is null for a type the schema
 * does not know (an Argo Rollout), whose lists are all replaced. Returns undefined when the
 * patch deletes the whole object; throws when a merged list is longer than any real one.
 * Neither argument is changed.
 */
export function strategicMerge(
  target: unknown,
  patch: unknown,
  kind: string | null,
): unknown {
  return mergeAt(target, patch, kind, []);
}
