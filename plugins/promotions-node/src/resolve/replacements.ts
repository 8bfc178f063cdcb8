import { RE2JS } from 're2js';
import { parse } from 'yaml';
import { selectorMatcher } from './patches';
import { fileIn } from './paths';
import {
  BuildContext,
  effectiveNamespace,
  idsOf,
  isObject,
  readDocuments,
  Resource,
} from './resources';
import { groupVersion } from './schema';
import { ResolutionError } from './types';

/** A resource id as replacements select by it: every field given must be equal. */
interface ResId {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

interface Selector extends ResId {
  labelSelector?: string;
  annotationSelector?: string;
}

interface FieldOptions {
  delimiter?: string;
  index?: number;
  create?: boolean;
}

interface Replacement {
  source?: ResId & { fieldPath?: string; options?: FieldOptions };
  targets?: Array<{
    select?: Selector;
    reject?: Selector[];
    fieldPaths?: string[];
    options?: FieldOptions;
  }>;
}

/** A place in an object that a replacement writes: a field of a mapping or an item of a list. */
interface Slot {
  holder: any;
  key: string | number;
}

const DEFAULT_FIELD_PATH = 'metadata.name';
const MAX_PATTERN_LENGTH = 512;

/** Whether any id the resource has had is the one an id selector names. */
function selectedBy(resource: Resource, selector: ResId): boolean {
  const [group, version] = groupVersion(resource.object.apiVersion);
  return (
    (!selector.group || selector.group === group) &&
    (!selector.version || selector.version === version) &&
    (!selector.kind || selector.kind === resource.object.kind) &&
    idsOf(resource).some(
      id =>
        (!selector.name || selector.name === id.name) &&
        (!selector.namespace ||
          effectiveNamespace(selector.namespace) ===
            effectiveNamespace(id.namespace)),
    )
  );
}

const describe = (id: ResId) =>
  Object.entries(id)
    .filter(([key]) =>
      ['group', 'version', 'kind', 'name', 'namespace'].includes(key),
    )
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');

/** Splits a field path at dots, keeping `[name=a.b]` whole and unwrapping `[a.b]`. */
function splitPath(fieldPath: string): string[] {
  const parts: string[] = [];
  for (let i = 0, start = 0, depth = 0; i <= fieldPath.length; i++) {
    const c = fieldPath[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if ((c === '.' && depth === 0) || c === undefined) {
      const part = fieldPath.slice(start, i);
      start = i + 1;
      if (part.startsWith('[') && part.endsWith(']') && !part.includes('='))
        parts.push(part.slice(1, -1));
      else if (part.trim()) parts.push(part.trim());
    }
  }
  return parts;
}

const isIndex = (part: string) => /^\d+$/.test(part);
const isListMatch = (part: string) =>
  part.startsWith('[') && part.endsWith(']');

function scalarText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : String(value);
}

function listMatch(part: string, where: string): [string, string] {
  const eq = part.indexOf('=');
  if (eq < 0) {
    throw new ResolutionError(
      where,
      `"${part}" in a replacement field path must be [field=value]`,
    );
  }
  return [part.slice(1, eq), part.slice(eq + 1, -1)];
}

/** The value at a source's field path: fields, list indexes, `-` and exact `[field=value]`. */
function lookup(node: unknown, parts: string[], where: string): unknown {
  let current = node;
  for (const part of parts) {
    if (current === undefined || current === null) return undefined;
    if (isIndex(part) || part === '-') {
      if (!Array.isArray(current)) return undefined;
      current = current[part === '-' ? current.length - 1 : Number(part)];
    } else if (isListMatch(part)) {
      const [field, value] = listMatch(part, where);
      if (!Array.isArray(current)) return undefined;
      current = current.find(item =>
        field
          ? isObject(item) && scalarText(item[field]) === value
          : scalarText(item) === value,
      );
    } else if (part === '*') {
      throw new ResolutionError(
        where,
        'a replacement source field path cannot hold "*"',
      );
    } else {
      current = isObject(current) ? current[part] : undefined;
    }
  }
  return current;
}

/** The text a `[field=value]` step matches: the item's field, or the item itself for `[=value]`. */
function matchedText(item: unknown, field: string): string | undefined {
  if (!field) return scalarText(item);
  if (!isObject(item) || item[field] === undefined || item[field] === null)
    return undefined;
  return scalarText(item[field]);
}

function containerFor(next: string | undefined): unknown {
  if (next === undefined) return null;
  return isIndex(next) || isListMatch(next) ? [] : {};
}

function unanchored(pattern: string, where: string): RE2JS {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new ResolutionError(
      where,
      `a replacement field path pattern is longer than ${MAX_PATTERN_LENGTH} characters`,
    );
  }
  try {
    return RE2JS.compile(pattern);
  } catch {
    throw new ResolutionError(
      where,
      `"${pattern}" in a replacement field path is not a valid regular expression (RE2 syntax)`,
    );
  }
}

/**
 * The places a target's field path names, as kustomize's path matcher finds them: `*` is every
 * item of a list, `[field=value]` every item whose field matches the regular expression
 * (anywhere in it, as in kustomize), and with `create` the missing fields and items are made.
 */
function slots(
  holder: any,
  key: string | number,
  parts: string[],
  create: boolean,
  where: string,
): Slot[] {
  if (parts.length === 0) return [{ holder, key }];
  const node = holder[key];
  const [part, ...rest] = parts;
  if (isIndex(part)) {
    if (!Array.isArray(node)) return [];
    const index = Number(part);
    if (index === node.length && create) node.push(containerFor(rest[0]));
    return index < node.length ? slots(node, index, rest, create, where) : [];
  }
  if (part === '*') {
    if (!Array.isArray(node)) return [];
    return node.flatMap((_, i) => slots(node, i, rest, create, where));
  }
  if (isListMatch(part)) {
    if (!Array.isArray(node)) return [];
    const [field, value] = listMatch(part, where);
    const pattern = unanchored(value, where);
    const found = node.flatMap((item, i) => {
      const text = matchedText(item, field);
      return text !== undefined && pattern.test(text.trim())
        ? slots(node, i, rest, create, where)
        : [];
    });
    if (found.length > 0 || !create) return found;
    node.push(field ? { [field]: value } : value);
    return slots(node, node.length - 1, rest, create, where);
  }
  if (!isObject(node)) return [];
  if (node[part] === undefined || node[part] === null) {
    if (!create) return [];
    node[part] = containerFor(rest[0]);
  }
  return slots(node, part, rest, create, where);
}

/** The text of a scalar typed as the field it replaces: a string stays a string. */
function typedLike(current: unknown, text: string): unknown {
  if (typeof current === 'string') return text;
  try {
    return parse(text);
  } catch {
    return text;
  }
}

function setValue(
  slot: Slot,
  value: unknown,
  options: FieldOptions,
  where: string,
) {
  const current = slot.holder[slot.key];
  const scalar = (v: unknown) => !isObject(v) && !Array.isArray(v);
  if (options.delimiter) {
    if (!scalar(current)) {
      throw new ResolutionError(
        where,
        'a replacement delimiter can only be used on a scalar field',
      );
    }
    const parts = scalarText(current).split(options.delimiter);
    const index = options.index ?? 0;
    const text = scalarText(value);
    if (index < 0) parts.unshift(text);
    else if (index >= parts.length) parts.push(text);
    else parts[index] = text;
    slot.holder[slot.key] = typedLike(current, parts.join(options.delimiter));
  } else if (current === null && scalar(value)) {
    // A field the replacement created is written as plain YAML and read back so.
    slot.holder[slot.key] = typedLike(undefined, scalarText(value));
  } else if (scalar(current) && scalar(value)) {
    slot.holder[slot.key] = typedLike(current, scalarText(value));
  } else {
    slot.holder[slot.key] = structuredClone(value);
  }
}

function sourceValue(
  resources: Resource[],
  replacement: Replacement,
  where: string,
): unknown {
  const source = replacement.source!;
  const matches = resources.filter(resource => selectedBy(resource, source));
  if (matches.length !== 1) {
    throw new ResolutionError(
      where,
      `replacement source (${describe(source)}) ${
        matches.length === 0 ? 'selects nothing' : 'selects several resources'
      }`,
    );
  }
  const fieldPath = source.fieldPath || DEFAULT_FIELD_PATH;
  const value = lookup(matches[0].object, splitPath(fieldPath), where);
  const empty =
    value === undefined ||
    value === null ||
    (Array.isArray(value) && value.length === 0) ||
    (isObject(value) && Object.keys(value).length === 0);
  if (empty) {
    throw new ResolutionError(
      where,
      `replacement source (${describe(source)}) has no ${fieldPath}`,
    );
  }
  const { delimiter, index = 0 } = source.options ?? {};
  if (!delimiter) return value;
  if (isObject(value) || Array.isArray(value)) {
    throw new ResolutionError(
      where,
      'a replacement delimiter can only be used on a scalar field',
    );
  }
  const parts = scalarText(value).split(delimiter);
  if (index < 0 || index >= parts.length) {
    throw new ResolutionError(
      where,
      `replacement source index ${index} is out of range for "${scalarText(
        value,
      )}"`,
    );
  }
  return parts[index];
}

function isTargeted(
  resource: Resource,
  select: Selector,
  reject: Selector[],
  where: string,
): boolean {
  const labels = (selector: Selector) =>
    selectorMatcher(
      selector.labelSelector,
      'labelSelector',
      where,
    )(resource.object.metadata.labels) &&
    selectorMatcher(
      selector.annotationSelector,
      'annotationSelector',
      where,
    )(resource.object.metadata.annotations);
  const hasId = (selector: Selector) =>
    ['group', 'version', 'kind', 'name', 'namespace'].some(
      key => (selector as any)[key],
    );
  const hasSelectors = (selector: Selector) =>
    Boolean(selector.labelSelector || selector.annotationSelector);
  return (
    labels(select) &&
    !reject.some(r => hasSelectors(r) && labels(r)) &&
    selectedBy(resource, select) &&
    !reject.some(r => hasId(r) && selectedBy(resource, r))
  );
}

function replace(
  ctx: BuildContext,
  resources: Resource[],
  replacement: Replacement,
  where: string,
): Resource[] {
  if (!replacement.source || !replacement.targets?.length) {
    throw new ResolutionError(
      where,
      'every replacement needs a source and at least one target',
    );
  }
  const value = sourceValue(resources, replacement, where);
  let result = resources;
  for (const target of replacement.targets) {
    if (!target.select)
      throw new ResolutionError(where, 'every replacement target needs select');
    const { select, reject = [], options = {} } = target;
    const fieldPaths = target.fieldPaths?.length
      ? target.fieldPaths
      : [DEFAULT_FIELD_PATH];
    result = result.map(resource => {
      if (!isTargeted(resource, select, reject, where)) return resource;
      const holder = { object: structuredClone(resource.object) };
      for (const fieldPath of fieldPaths) {
        const found = slots(
          holder,
          'object',
          splitPath(fieldPath),
          Boolean(options.create),
          where,
        );
        if (found.length === 0) {
          throw new ResolutionError(
            where,
            `replacement target ${resource.object.kind}/${resource.object.metadata.name} has no ${fieldPath}`,
          );
        }
        for (const slot of found) {
          ctx.budget.copy(value, where);
          setValue(slot, value, options, where);
        }
      }
      return { ...resource, object: holder.object };
    });
  }
  return result;
}

/** A kustomization's replacements, inline or each read from the file its `path` names. */
async function replacementsOf(
  ctx: BuildContext,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
): Promise<Array<[Replacement, string]>> {
  const result: Array<[Replacement, string]> = [];
  for (const entry of (kustomization.replacements ?? []).filter(isObject)) {
    if (!entry.path) {
      result.push([entry, file]);
      continue;
    }
    if (entry.source || entry.targets?.length) {
      throw new ResolutionError(
        file,
        'a replacement has both a path and an inline replacement',
      );
    }
    const path = fileIn(dir, entry.path, file);
    if (!ctx.snapshot.files.has(path))
      throw new ResolutionError(file, `replacement "${entry.path}" not found`);
    const [content] = await readDocuments(ctx, path);
    const items = Array.isArray(content) ? content : [content];
    for (const item of items) {
      if (!isObject(item))
        throw new ResolutionError(path, 'a replacement must be a mapping');
      result.push([item, path]);
    }
  }
  return result;
}

/**
 * `replacements`, kustomize's last transformer: each copies one field of one resource (or a
 * part of it, split at a delimiter) into fields of the resources its targets select.
 */
export async function applyReplacements(
  ctx: BuildContext,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
  resources: Resource[],
): Promise<Resource[]> {
  let result = resources;
  for (const [replacement, where] of await replacementsOf(
    ctx,
    dir,
    file,
    kustomization,
  )) {
    result = replace(ctx, result, replacement, where);
  }
  return result;
}
