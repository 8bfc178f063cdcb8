/** Lists that strategic merge patches merge item by item, by this key, as Kubernetes does. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const clone = <T>(value: T): T => structuredClone(value);

function withoutDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDirectives);
  if (!isObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (!key.startsWith('$')) result[key] = withoutDirectives(item);
  }
  return result;
}

function mergeList(base: unknown[], patch: unknown[], key: string): unknown[] {
  const result = [...base];
  for (const item of patch) {
    if (!isObject(item) || !(key in item)) {
      result.push(withoutDirectives(item));
      continue;
    }
    const index = result.findIndex(existing => isObject(existing) && existing[key] === item[key]);
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
 * Returns undefined when the patch deletes the whole object.
 */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return withoutDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace' || !isObject(target)) return withoutDirectives(patch);
  const result: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete result[key];
    else if (Array.isArray(value) && MERGE_KEYS[key] && Array.isArray(result[key])) {
      result[key] = mergeList(result[key] as unknown[], value, MERGE_KEYS[key]);
    } else {
      const merged = strategicMerge(result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    }
  }
  return result;
}

export interface JsonPatchOperation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`"${path}" is not a JSON pointer`);
  return path
    .slice(1)
    .split('/')
    .map(token => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(document: unknown, tokens: string[], path: string) {
  let node = document;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else node = undefined;
    if (node === undefined) throw new Error(`path "${path}" does not exist`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw new Error(`path "${path}" does not exist`);
  return { node, last: tokens[tokens.length - 1] };
}

function arrayIndex(array: unknown[], token: string, path: string, forAdd: boolean): number {
  if (forAdd && token === '-') return array.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`"${token}" in "${path}" is not an array index`);
  const index = Number(token);
  if (index > array.length || (!forAdd && index === array.length)) {
    throw new Error(`index ${index} in "${path}" is out of range`);
  }
  return index;
}

function get(document: unknown, path: string): unknown {
  let node = document;
  for (const token of pointer(path)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node) && token in node) node = node[token];
    else throw new Error(`path "${path}" does not exist`);
  }
  return node;
}

function remove(document: unknown, path: string): unknown {
  const { node, last } = parentOf(document, pointer(path), path);
  if (Array.isArray(node)) return node.splice(arrayIndex(node, last, path, false), 1)[0];
  if (!(last in node)) throw new Error(`path "${path}" does not exist`);
  const value = node[last];
  delete node[last];
  return value;
}

function add(document: unknown, path: string, value: unknown, replace: boolean): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return clone(value);
  const { node, last } = parentOf(document, tokens, path);
  if (Array.isArray(node)) {
    const index = arrayIndex(node, last, path, !replace);
    node.splice(index, replace ? 1 : 0, clone(value));
  } else {
    if (replace && !(last in node)) throw new Error(`path "${path}" does not exist`);
    node[last] = clone(value);
  }
  return document;
}

/** Applies RFC 6902 operations to a copy of the document. */
export function applyJsonPatch(document: unknown, operations: JsonPatchOperation[]): unknown {
  let result = clone(document) as Json;
  for (const operation of operations) {
    switch (operation.op) {
      case 'add':
        result = add(result, operation.path, operation.value, false) as Json;
        break;
      case 'replace':
        result = add(result, operation.path, operation.value, true) as Json;
        break;
      case 'remove':
        remove(result, operation.path);
        break;
      case 'move': {
        const value = remove(result, operation.from ?? '');
        result = add(result, operation.path, value, false) as Json;
        break;
      }
      case 'copy':
        result = add(result, operation.path, get(result, operation.from ?? ''), false) as Json;
        break;
      case 'test':
        if (JSON.stringify(get(result, operation.path)) !== JSON.stringify(operation.value)) {
          throw new Error(`test failed at "${operation.path}"`);
        }
        break;
      default:
        throw new Error(`unknown JSON patch operation "${operation.op}"`);
    }
  }
  return result;
}
