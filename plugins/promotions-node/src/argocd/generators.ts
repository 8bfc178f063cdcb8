import { RepositorySnapshot } from '../repository/types';
import { ReadBudget } from './budget';
import {
  marshalJson,
  mergeMaps,
  pathBase,
  pathDir,
  sanitizeName,
  toGoValue,
} from './goFunctions';
import { MissingKey } from './goTemplate';
import { GoMap, GoTemplateError, sprintValue } from './goValues';
import {
  BadPatternError,
  doublestarMatcher,
  gitPathspecMatcher,
  goPathMatcher,
  PathMatcher,
} from './globs';
import { ArgoCdReadOptions } from './types';
import { isObject } from './applications';

/**
 * The generators of an ApplicationSet, expanded into parameter sets as Argo CD's controller
 * does: `list` (`elements`, `elementsYaml`), `git` directories and files (read from a repository
 * snapshot), and `matrix` and `merge` of those, each filtered by its `selector`. Generators that
 * need a cluster or a forge are reported as not read.
 */

export type Params = Record<string, unknown>;
type Json = Record<string, unknown>;

/** What the expansion needs from the ApplicationSet it serves. */
export interface GeneratorContext {
  goTemplate: boolean;
  /** Argo CD's Replace: a Go template or fasttemplate, with the ApplicationSet's options. */
  render(text: string, params: Params, missingKey?: MissingKey): string;
  /** The first YAML document of a text (null when empty), with the resolver's limits. */
  parseYaml(text: string, where: string): unknown;
  options: ArgoCdReadOptions;
  budget: ReadBudget;
}

/** A generator that could not be read without failing the manifest, and why. */
export class NotRead {
  constructor(readonly note: string) {}
}

/** Argo CD refuses the generator; `where` names it. */
export class GeneratorError extends Error {
  constructor(readonly where: string, message: string) {
    super(message);
  }
}

/** One generator kind of one `generators[]` entry, expanded. */
export interface Expansion {
  where: string;
  params: Params[] | NotRead;
  /** The generator's own `template`, which Argo CD merges over the ApplicationSet's. */
  template: unknown;
}

const KINDS = [
  'list',
  'clusters',
  'git',
  'scmProvider',
  'clusterDecisionResource',
  'pullRequest',
  'matrix',
  'merge',
  'plugin',
];
const UNREAD_KINDS = new Set([
  'clusters',
  'scmProvider',
  'clusterDecisionResource',
  'pullRequest',
  'plugin',
]);

/** Matrix and merge generators nest one level deep in Argo CD's schema. */
const MAX_NESTING = 1;

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  return value === undefined || value === null ? '' : String(value);
}

// ---------------------------------------------------------------------------------------------
// Interpolation of a matrix's second generator with the first one's parameters

function isMissingKeyError(error: unknown) {
  return (
    error instanceof GoTemplateError &&
    (error.message.includes('map has no entry for key') ||
      error.message.includes("can't evaluate field"))
  );
}

function interpolate(
  value: unknown,
  params: Params,
  context: GeneratorContext,
  path: string[],
): unknown {
  if (typeof value === 'string') return context.render(value, params);
  if (Array.isArray(value))
    return value.map((item, i) =>
      interpolate(item, params, context, [...path, String(i)]),
    );
  if (!isObject(value)) return value;
  const out: Json = {};
  const data = path.includes('elements');
  for (const [key, item] of Object.entries(value)) {
    // The nested generator's own template is never used; Argo CD hands it none.
    if (key === 'template' && path.length === 1) continue;
    if (
      key === 'values' &&
      path[0] === 'git' &&
      path.length === 1 &&
      isObject(item)
    ) {
      out[key] = preResolveValues(item, params, context);
      continue;
    }
    const name = data ? context.render(key, params) : key;
    out[name] = interpolate(item, params, context, [...path, key]);
  }
  return out;
}

/** A git generator's `values` may name its own parameters: a missing key waits for them. */
function preResolveValues(
  values: Json,
  params: Params,
  context: GeneratorContext,
): Json {
  const out: Json = {};
  for (const [key, item] of Object.entries(values)) {
    if (typeof item !== 'string') {
      out[key] = item;
      continue;
    }
    try {
      out[key] = context.render(
        item,
        params,
        context.goTemplate ? 'error' : undefined,
      );
    } catch (error) {
      if (!isMissingKeyError(error)) throw error;
      out[key] = item;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Selectors

/** jeremywohl/flatten in dot style, leaves printed with `%v`, as Argo CD's selectors see params. */
export function flattenParams(params: Params): Record<string, string> {
  const out: Record<string, string> = {};
  const stack: Array<[string, unknown]> = Object.entries(params);
  while (stack.length > 0) {
    const [key, value] = stack.pop()!;
    if (Array.isArray(value))
      value.forEach((item, i) => stack.push([`${key}.${i}`, item]));
    else if (isObject(value))
      for (const [k, item] of Object.entries(value))
        stack.push([`${key}.${k}`, item]);
    else out[key] = sprintValue(toGoValue(value));
  }
  return out;
}

function selectorMatcher(
  selector: unknown,
  where: string,
): (params: Params) => boolean {
  if (selector === undefined || selector === null) return () => true;
  if (!isObject(selector))
    throw new GeneratorError(where, 'selector is not a map');
  const labels = isObject(selector.matchLabels) ? selector.matchLabels : {};
  const expressions = Array.isArray(selector.matchExpressions)
    ? selector.matchExpressions
    : [];
  const checks: Array<(flat: Record<string, string>) => boolean> = [];
  for (const [key, value] of Object.entries(labels))
    checks.push(flat => Object.hasOwn(flat, key) && flat[key] === text(value));
  for (const expression of expressions) {
    if (!isObject(expression))
      throw new GeneratorError(where, 'a matchExpression is not a map');
    const key = text(expression.key);
    const values = Array.isArray(expression.values)
      ? expression.values.map(text)
      : [];
    const has = (flat: Record<string, string>) => Object.hasOwn(flat, key);
    switch (text(expression.operator)) {
      case 'In':
        checks.push(flat => has(flat) && values.includes(flat[key]));
        break;
      case 'NotIn':
        checks.push(flat => !has(flat) || !values.includes(flat[key]));
        break;
      case 'Exists':
        checks.push(has);
        break;
      case 'DoesNotExist':
        checks.push(flat => !has(flat));
        break;
      default:
        throw new GeneratorError(
          where,
          `error parsing label selector: "${text(
            expression.operator,
          )}" is not a valid label selector operator`,
        );
    }
  }
  return params => {
    const flat = flattenParams(params);
    return checks.every(check => check(flat));
  };
}

// ---------------------------------------------------------------------------------------------
// List

function listParams(
  spec: Json,
  where: string,
  context: GeneratorContext,
): Params[] {
  const elements = spec.elements ?? [];
  if (!Array.isArray(elements))
    throw new GeneratorError(where, 'elements is not a list');
  const out: Params[] = elements.map((element, i) => {
    const at = `${where}.elements[${i}]`;
    if (!isObject(element))
      throw new GeneratorError(
        at,
        `error unmarshling list element json: cannot unmarshal ${
          Array.isArray(element) ? 'array' : typeof element
        } into Go value of type map[string]interface {}`,
      );
    if (context.goTemplate) return element;
    const params: Params = {};
    for (const [key, value] of Object.entries(element)) {
      if (key === 'values') {
        if (!isObject(value))
          throw new GeneratorError(at, 'error parsing values map');
        for (const [k, v] of Object.entries(value)) {
          if (typeof v !== 'string')
            throw new GeneratorError(
              `${at}.values.${k}`,
              'error parsing value as string: without goTemplate, Argo CD takes only string values',
            );
          params[`values.${k}`] = v;
        }
      } else if (typeof value !== 'string') {
        throw new GeneratorError(
          `${at}.${key}`,
          `error parsing value as string: without goTemplate, Argo CD takes only string values (found ${JSON.stringify(
            value,
          )})`,
        );
      } else params[key] = value;
    }
    return params;
  });
  if (typeof spec.elementsYaml === 'string' && spec.elementsYaml !== '') {
    const parsed = context.parseYaml(
      spec.elementsYaml,
      `${where}.elementsYaml`,
    );
    if (parsed !== null) {
      if (
        !Array.isArray(parsed) ||
        !parsed.every(e => e === null || isObject(e))
      )
        throw new GeneratorError(
          `${where}.elementsYaml`,
          'error unmarshling decoded ElementsYaml: it is not a list of maps',
        );
      out.push(...parsed.map(e => (e ?? {}) as Params));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Git

/** Every directory of a tree, depth first with siblings in byte order, as filepath.WalkDir visits them. */
function directoriesOf(
  snapshot: RepositorySnapshot,
  includeHidden: boolean,
): string[] {
  const children = new Map<string, Set<string>>();
  for (const file of snapshot.files.keys()) {
    const parts = file.split('/');
    let parent = '';
    for (const part of parts.slice(0, -1)) {
      const dir = parent ? `${parent}/${part}` : part;
      if (!children.has(parent)) children.set(parent, new Set());
      children.get(parent)!.add(dir);
      parent = dir;
    }
  }
  const out: string[] = [];
  const stack = [...(children.get('') ?? [])].sort().reverse();
  while (stack.length > 0) {
    const dir = stack.pop()!;
    if (!includeHidden && pathBase(dir).startsWith('.')) continue;
    out.push(dir);
    stack.push(...[...(children.get(dir) ?? [])].sort().reverse());
  }
  return out;
}

/** The `path` parameters of a directory or a file's directory, for either templating. */
function pathParams(
  dir: string,
  file: string | undefined,
  context: GeneratorContext,
  prefix: string,
): Params {
  const basename = pathBase(dir);
  if (context.goTemplate) {
    const path: Params = {
      path: dir,
      basename,
      basenameNormalized: sanitizeName(basename),
      segments: dir.split('/'),
    };
    if (file !== undefined) {
      path.filename = pathBase(file);
      path.filenameNormalized = sanitizeName(pathBase(file));
    }
    return prefix ? { [prefix]: { path } } : { path };
  }
  const name = prefix ? `${prefix}.path` : 'path';
  const params: Params = {
    [name]: dir,
    [`${name}.basename`]: basename,
    [`${name}.basenameNormalized`]: sanitizeName(basename),
  };
  if (file !== undefined) {
    params[`${name}.filename`] = pathBase(file);
    params[`${name}.filenameNormalized`] = sanitizeName(pathBase(file));
  }
  dir.split('/').forEach((segment, i) => {
    if (segment) params[`${name}[${i}]`] = segment;
  });
  return params;
}

/** Argo CD's appendTemplatedValues: `values` rendered with the parameters so far. */
function withValues(
  params: Params,
  values: unknown,
  where: string,
  context: GeneratorContext,
): Params {
  if (values === undefined || values === null) return params;
  if (!isObject(values))
    throw new GeneratorError(`${where}.values`, 'values is not a map');
  const rendered: Record<string, string> = {};
  for (const [key, value] of Object.entries(values))
    rendered[key] = context.render(text(value), params);
  if (context.goTemplate) return { ...params, values: rendered };
  const out = { ...params };
  for (const [key, value] of Object.entries(rendered))
    out[`values.${key}`] = value;
  return out;
}

function matchers(
  items: unknown[],
  where: string,
  compile: (pattern: string) => PathMatcher,
  notes: string[],
): Array<{ match: PathMatcher; exclude: boolean }> {
  return items.flatMap((item, i) => {
    if (!isObject(item))
      throw new GeneratorError(`${where}[${i}]`, 'not a map');
    const pattern = text(item.path);
    try {
      return [{ match: compile(pattern), exclude: item.exclude === true }];
    } catch (error) {
      if (!(error instanceof BadPatternError)) throw error;
      // Argo CD logs a malformed pattern and matches nothing with it.
      notes.push(
        `${where}[${i}].path: "${pattern}" is not a valid pattern (${error.message})`,
      );
      return [];
    }
  });
}

/** A file's parameter sets: one object, or a list of them. */
function fileObjects(content: unknown, where: string): Params[] {
  if (content === null || content === undefined) return [{}];
  if (isObject(content)) return [content];
  if (
    Array.isArray(content) &&
    content.every(item => item === null || isObject(item))
  )
    return content.map(item => (item ?? {}) as Params);
  throw new GeneratorError(
    where,
    'unable to parse file: it holds neither a map nor a list of maps',
  );
}

async function gitParams(
  spec: Json,
  where: string,
  context: GeneratorContext,
  notes: string[],
): Promise<Params[] | NotRead> {
  const repoURL = text(spec.repoURL);
  const revision = text(spec.revision);
  const directories = Array.isArray(spec.directories) ? spec.directories : [];
  const files = Array.isArray(spec.files) ? spec.files : [];
  if (directories.length === 0 && files.length === 0)
    throw new GeneratorError(
      where,
      'the git generator names no directories and no files',
    );
  const snapshot = await context.options.gitRepository?.(repoURL, revision);
  if (!snapshot)
    return new NotRead(
      `${where}: not read: git (no snapshot of ${repoURL || 'its repository'}${
        revision ? ` at ${revision}` : ''
      } was given)`,
    );
  const prefix = text(spec.pathParamPrefix);
  if (directories.length > 0) {
    const patterns = matchers(
      directories,
      `${where}.directories`,
      goPathMatcher,
      notes,
    );
    const all = directoriesOf(
      snapshot,
      context.options.includeHiddenDirectories ?? false,
    );
    const chosen = all.filter(
      dir =>
        patterns.some(p => !p.exclude && p.match(dir)) &&
        !patterns.some(p => p.exclude && p.match(dir)),
    );
    context.budget.generated(chosen.length);
    return chosen.map(dir =>
      withValues(
        pathParams(dir, undefined, context, prefix),
        spec.values,
        where,
        context,
      ),
    );
  }
  const compile = context.options.newGitFileGlobbing
    ? doublestarMatcher
    : gitPathspecMatcher;
  const patterns = matchers(files, `${where}.files`, compile, notes);
  const paths = [...snapshot.files.keys()]
    .filter(
      file =>
        patterns.some(p => !p.exclude && p.match(file)) &&
        !patterns.some(p => p.exclude && p.match(file)),
    )
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: Params[] = [];
  for (const file of paths) {
    context.budget.readFile(file, snapshot.files.get(file)!.size);
    const content = await snapshot.readFile(file);
    const at = `${where}: ${file}`;
    const objects = fileObjects(
      context.parseYaml(content?.toString('utf8') ?? '', at),
      at,
    );
    for (const object of objects) {
      const path = pathParams(pathDir(file), file, context, prefix);
      const params = context.goTemplate
        ? { ...object, ...path }
        : { ...flattenFile(object), ...path };
      out.push(withValues(params, spec.values, where, context));
      context.budget.generated(out.length);
    }
  }
  return out;
}

/** A file's object flattened for fasttemplate: dotted keys, leaves as `%v` prints them. */
function flattenFile(object: Params): Params {
  return flattenParams(object);
}

// ---------------------------------------------------------------------------------------------
// Matrix and merge

async function childParams(
  child: unknown,
  where: string,
  context: GeneratorContext,
  params: Params | undefined,
  nesting: number,
  notes: string[],
): Promise<Params[] | NotRead> {
  const expansions = await expand(
    child,
    where,
    context,
    params,
    nesting + 1,
    notes,
  );
  if (expansions.length === 0)
    throw new GeneratorError(where, 'child generator generated no parameters');
  if (expansions.length > 1)
    throw new GeneratorError(
      where,
      'found more than one generator in matrix.Generators',
    );
  return expansions[0].params;
}

/** Go template parameters: the first generator's win, maps merged. */
function combine(
  a: Params,
  b: Params,
  context: GeneratorContext,
  where: string,
): Params {
  if (context.goTemplate)
    return mergeMaps(
      mergeMaps({}, b as GoMap, true),
      a as GoMap,
      true,
    ) as Params;
  const out: Params = {};
  for (const [k, v] of Object.entries(a)) out[k] = sprintValue(toGoValue(v));
  for (const [k, v] of Object.entries(b)) {
    const value = sprintValue(toGoValue(v));
    if (Object.hasOwn(out, k) && out[k] !== value)
      throw new GeneratorError(
        where,
        `found duplicate key ${k} with different value, a: ${String(
          out[k],
        )} ,b: ${value}`,
      );
    out[k] = value;
  }
  return out;
}

const childGenerators = (spec: Json): unknown[] =>
  Array.isArray(spec.generators) ? spec.generators : [];

async function matrixParams(
  spec: Json,
  where: string,
  context: GeneratorContext,
  nesting: number,
  notes: string[],
): Promise<Params[] | NotRead> {
  const children = childGenerators(spec);
  if (children.length !== 2)
    throw new GeneratorError(
      where,
      `found ${
        children.length < 2 ? 'less' : 'more'
      } than two generators, Matrix support only two`,
    );
  const first = await childParams(
    children[0],
    `${where}.generators[0]`,
    context,
    undefined,
    nesting,
    notes,
  );
  if (first instanceof NotRead) return first;
  const out: Params[] = [];
  for (const a of first) {
    const second = await childParams(
      children[1],
      `${where}.generators[1]`,
      context,
      Object.keys(a).length > 0 ? a : undefined,
      nesting,
      notes,
    );
    if (second instanceof NotRead) return second;
    for (const b of second) {
      context.budget.copyValue([a, b]);
      out.push(combine(a, b, context, where));
    }
    context.budget.generated(out.length);
  }
  return out;
}

async function mergeParams(
  spec: Json,
  where: string,
  context: GeneratorContext,
  nesting: number,
  notes: string[],
): Promise<Params[] | NotRead> {
  const children = childGenerators(spec);
  if (children.length < 2)
    throw new GeneratorError(
      where,
      'found less than two generators, Merge requires two or more',
    );
  const mergeKeys = Array.isArray(spec.mergeKeys)
    ? [...new Set(spec.mergeKeys.map(text))].sort()
    : [];
  if (mergeKeys.length === 0)
    throw new GeneratorError(where, 'no merge keys were specified');
  const byKey = (sets: Params[], at: string) => {
    const out = new Map<string, Params>();
    for (const set of sets) {
      const key: GoMap = {};
      for (const k of mergeKeys) key[k] = toGoValue(set[k]);
      const id = marshalJson(key);
      if (out.has(id))
        throw new GeneratorError(
          at,
          `the parameters from a generator were not unique by the given mergeKeys, Merge requires all param sets to be unique. Duplicate key was ${id}`,
        );
      out.set(id, set);
    }
    return out;
  };
  const sets: Params[][] = [];
  for (let i = 0; i < children.length; i++) {
    const params = await childParams(
      children[i],
      `${where}.generators[${i}]`,
      context,
      undefined,
      nesting,
      notes,
    );
    if (params instanceof NotRead) return params;
    sets.push(params);
  }
  const base = byKey(sets[0], `${where}.generators[0]`);
  sets.slice(1).forEach((set, i) => {
    const overrides = byKey(set, `${where}.generators[${i + 1}]`);
    for (const [id, params] of base) {
      const override = overrides.get(id);
      if (!override) continue;
      base.set(
        id,
        context.goTemplate
          ? (mergeMaps(
              { ...params } as GoMap,
              override as GoMap,
              true,
            ) as Params)
          : { ...params, ...override },
      );
    }
  });
  return [...base.values()];
}

// ---------------------------------------------------------------------------------------------

async function kindParams(
  kind: string,
  spec: Json,
  where: string,
  context: GeneratorContext,
  nesting: number,
  notes: string[],
): Promise<Params[] | NotRead> {
  if (UNREAD_KINDS.has(kind)) return new NotRead(`${where}: not read: ${kind}`);
  if ((kind === 'matrix' || kind === 'merge') && nesting > MAX_NESTING)
    throw new GeneratorError(
      where,
      'Argo CD nests matrix and merge generators one level deep at most',
    );
  switch (kind) {
    case 'list':
      return listParams(spec, where, context);
    case 'git':
      return gitParams(spec, where, context, notes);
    case 'matrix':
      return matrixParams(spec, where, context, nesting, notes);
    default:
      return mergeParams(spec, where, context, nesting, notes);
  }
}

/**
 * Expands one entry of `generators` (or of a matrix's or merge's `generators`): each generator
 * kind it names, interpolated with `params` when a matrix hands the first generator's over,
 * filtered by its `selector`.
 */
export async function expand(
  generator: unknown,
  where: string,
  context: GeneratorContext,
  params: Params | undefined,
  nesting: number,
  notes: string[],
): Promise<Expansion[]> {
  if (!isObject(generator))
    throw new GeneratorError(where, 'the generator is not a map');
  const kinds = KINDS.filter(
    k => generator[k] !== undefined && generator[k] !== null,
  );
  if (kinds.length === 0) {
    const names = Object.keys(generator).filter(k => k !== 'selector');
    return [
      {
        where,
        params: new NotRead(
          `${where}: not read: unrecognized generator${
            names.length ? ` ${names.map(n => `"${n}"`).join(', ')}` : ''
          }`,
        ),
        template: undefined,
      },
    ];
  }
  const select = selectorMatcher(generator.selector, `${where}.selector`);
  const out: Expansion[] = [];
  for (const kind of kinds) {
    const at = `${where}.${kind}`;
    let spec = generator[kind];
    if (!isObject(spec)) throw new GeneratorError(at, `${kind} is not a map`);
    let generated: Params[] | NotRead;
    try {
      if (params) spec = interpolate(spec, params, context, [kind]) as Json;
      generated = await kindParams(
        kind,
        spec as Json,
        at,
        context,
        nesting,
        notes,
      );
    } catch (error) {
      if (error instanceof GoTemplateError)
        throw new GeneratorError(at, error.message);
      throw error;
    }
    out.push({
      where: at,
      params:
        generated instanceof NotRead ? generated : generated.filter(select),
      template: (spec as Json).template,
    });
  }
  return out;
}
