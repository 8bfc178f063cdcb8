import { isDeepStrictEqual } from 'node:util';

/** One RFC 6902 operation. */
export interface JsonPatchOperation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

/** A JSON object or array: what a pointer can step into. */
type Branch = Record<string, unknown> | unknown[];

const ARRAY_INDEX = /^(0|[1-9]\d*)$/;

const isBranch = (value: unknown): value is Branch =>
  typeof value === 'object' && value !== null;

function pointer(path: unknown): string[] {
  if (typeof path !== 'string')
    throw new Error(`"${String(path)}" is not a JSON pointer`);
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`"${path}" is not a JSON pointer`);
  return path
    .slice(1)
    .split('/')
    .map(token => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function child(node: unknown, token: string, path: string): unknown {
  if (Array.isArray(node)) {
    if (ARRAY_INDEX.test(token) && Number(token) < node.length) {
      return node[Number(token)];
    }
  } else if (isBranch(node) && Object.hasOwn(node, token)) {
    return (node as Record<string, unknown>)[token];
  }
  throw new Error(`path "${path}" does not exist`);
}

function parentOf(document: unknown, tokens: string[], path: string) {
  const node = tokens
    .slice(0, -1)
    .reduce((current, token) => child(current, token, path), document);
  if (!isBranch(node)) throw new Error(`path "${path}" does not exist`);
  return { node, last: tokens[tokens.length - 1] };
}

function arrayIndex(
  array: unknown[],
  token: string,
  path: string,
  forAdd: boolean,
): number {
  if (forAdd && token === '-') return array.length;
  if (!ARRAY_INDEX.test(token))
    throw new Error(`"${token}" in "${path}" is not an array index`);
  const index = Number(token);
  if (index > array.length || (!forAdd && index === array.length)) {
    throw new Error(`index ${index} in "${path}" is out of range`);
  }
  return index;
}

/**
 * The value at a path, as kustomize's JSON patch library reads it for `copy` and `test`: a
 * missing key of an object that exists is null; a missing object is an error.
 */
function get(document: unknown, path: string): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return document;
  const { node, last } = parentOf(document, tokens, path);
  if (Array.isArray(node)) return child(node, last, path);
  return Object.hasOwn(node, last) ? node[last] : null;
}

function remove(document: unknown, path: string): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0)
    throw new Error('the whole document cannot be removed');
  const { node, last } = parentOf(document, tokens, path);
  if (Array.isArray(node))
    return node.splice(arrayIndex(node, last, path, false), 1)[0];
  if (!Object.hasOwn(node, last))
    throw new Error(`path "${path}" does not exist`);
  const value = node[last];
  delete node[last];
  return value;
}

function put(
  document: unknown,
  path: string,
  value: unknown,
  replace: boolean,
): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0)
    throw new Error('the whole document cannot be replaced');
  const { node, last } = parentOf(document, tokens, path);
  if (Array.isArray(node)) {
    node.splice(
      arrayIndex(node, last, path, !replace),
      replace ? 1 : 0,
      structuredClone(value),
    );
  } else {
    // As in kustomize's JSON patch library, `replace` sets a key its object does not have yet.
    node[last] = structuredClone(value);
  }
  return document;
}

/** The number of values in a JSON value, counting no further than `stopAt`. */
function countValues(value: unknown, stopAt: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count < stopAt) {
    const next = stack.pop();
    count++;
    if (Array.isArray(next)) stack.push(...next);
    else if (isBranch(next)) stack.push(...Object.values(next));
  }
  return count;
}

/** Operations one JSON patch may hold. */
export const MAX_PATCH_OPERATIONS = 1000;

/**
 * Applies RFC 6902 operations to a copy of the document; a failing operation throws.
 * `beforeCopy` is told of every value about to be copied, so that a budget can stop a patch
 * that multiplies its input (`copy /spec -> /spec/c1`, again and again) before it is made.
 */
export function applyJsonPatch(
  document: unknown,
  operations: JsonPatchOperation[],
  beforeCopy: (value: unknown) => void = () => {},
): unknown {
  if (!Array.isArray(operations)) {
    throw new Error('a JSON patch must be a list of operations');
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw new Error(
      `a JSON patch may hold at most ${MAX_PATCH_OPERATIONS} operations, not ${operations.length}`,
    );
  }
  beforeCopy(document);
  let result = structuredClone(document);
  // Real patches add a few values; a patch that multiplies its input is a copy bomb.
  const allowed = Math.max(100_000, 4 * countValues(document, 1_000_000));
  let added = 0;
  const grow = (value: unknown) => {
    added += countValues(value, allowed + 1);
    if (added > allowed) {
      throw new Error(
        `the patch adds more than ${allowed} values to its target; it multiplies its input`,
      );
    }
    beforeCopy(value);
  };
  for (const operation of operations) {
    if (!isBranch(operation) || Array.isArray(operation))
      throw new Error('every JSON patch operation must be a mapping');
    const { op, path, from, value } = operation;
    switch (op) {
      case 'add':
        grow(value);
        result = put(result, path, value, false);
        break;
      case 'replace':
        grow(value);
        result = put(result, path, value, true);
        break;
      case 'remove':
        remove(result, path);
        break;
      case 'move': {
        const moved = remove(result, from as string);
        beforeCopy(moved);
        result = put(result, path, moved, false);
        break;
      }
      case 'copy': {
        const copied = get(result, from as string);
        grow(copied);
        result = put(result, path, copied, false);
        break;
      }
      case 'test':
        if (!isDeepStrictEqual(get(result, path), value ?? null))
          throw new Error(`test failed at "${path}"`);
        break;
      default:
        throw new Error(`unknown JSON patch operation "${op}"`);
    }
  }
  return result;
}
