import { RE2JS } from 're2js';
import { applyJsonPatch, JsonPatchOperation } from './jsonPatch';
import { fileIn } from './paths';
import {
  BuildContext,
  effectiveNamespace,
  idsOf,
  isObject,
  originalId,
  readDocuments,
  Resource,
  withObject,
} from './resources';
import { groupVersion, isKnownType } from './schema';
import { strategicMerge } from './strategicMerge';
import { KubernetesObject, ResolutionError } from './types';
import { parseYamlDocuments, readText } from './yaml';

/** A kustomize patch target; all but the selectors are anchored regular expressions. */
interface Target {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labelSelector?: string;
  annotationSelector?: string;
}

/** A patch read from a kustomization: strategic merge documents or JSON 6902 operations. */
type Patch =
  | { source: string; target?: Target; documents: Array<Record<string, any>> }
  | { source: string; target?: Target; operations: JsonPatchOperation[] };

/** Longest patch-target pattern accepted; Kubernetes names are at most 253 characters. */
const MAX_PATTERN_LENGTH = 512;
const MAX_NAME_LENGTH = 253;

/** A matcher with RE2's semantics: its time grows with the text, never exponentially. */
type Matcher = (text: string) => boolean;

function anchored(
  pattern: string | undefined,
  field: string,
  file: string,
): Matcher {
  if (!pattern) return () => true;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new ResolutionError(
      file,
      `patch target ${field} is longer than ${MAX_PATTERN_LENGTH} characters`,
    );
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(`^(?:${pattern})$`);
  } catch {
    throw new ResolutionError(
      file,
      `patch target ${field} "${pattern}" is not a valid regular expression (RE2 syntax)`,
    );
  }
  return text => text.length <= MAX_NAME_LENGTH && compiled.matches(text);
}

const SELECTOR_TERM =
  /^(!?)\s*([A-Za-z0-9._/-]+)(?:\s*(==|=|!=)\s*([A-Za-z0-9._-]*)|\s+(in|notin)\s*\(([^)]*)\))?$/;
/** Longest selector accepted; real ones are a few terms. */
const MAX_SELECTOR_LENGTH = 4096;

/** Splits a selector at the commas that are not inside a set, `(a,b)`. */
function selectorTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    if (selector[i] === '(') depth++;
    else if (selector[i] === ')') depth--;
    else if (selector[i] === ',' && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms.map(term => term.trim()).filter(Boolean);
}

/**
 * A label or annotation selector as Kubernetes parses it: `k=v`, `k==v`, `k!=v`, `k`, `!k`,
 * `k in (a,b)` and `k notin (a,b)`, comma-separated; a malformed one fails, as in kustomize.
 */
export function selectorMatcher(
  selector: string | undefined,
  field: string,
  file: string,
): (values: Record<string, unknown> | undefined) => boolean {
  if (!selector) return () => true;
  if (selector.length > MAX_SELECTOR_LENGTH) {
    throw new ResolutionError(
      file,
      `patch target ${field} is longer than ${MAX_SELECTOR_LENGTH} characters`,
    );
  }
  const terms = selectorTerms(selector).map(term => {
    const match = SELECTOR_TERM.exec(term);
    if (!match || (match[1] && (match[3] || match[5]))) {
      throw new ResolutionError(
        file,
        `patch target ${field} "${selector}" is not a valid selector`,
      );
    }
    const [, not, key, operator, value, setOperator, set] = match;
    const members = (set ?? '').split(',').map(member => member.trim());
    return (values: Record<string, unknown> | undefined) => {
      const actual =
        values?.[key] === undefined ? undefined : String(values[key]);
      if (setOperator === 'in')
        return actual !== undefined && members.includes(actual);
      if (setOperator === 'notin')
        return actual === undefined || !members.includes(actual);
      if (!operator) return not ? actual === undefined : actual !== undefined;
      return operator === '!=' ? actual !== value : actual === value;
    };
  });
  return values => terms.every(term => term(values));
}

/**
 * Whether a resource is selected by a target, as kustomize selects: the kind, group and version
 * it has now, its name and namespace as loaded or as they are now, its labels and annotations
 * as they are now. An object without a namespace is in `default`.
 */
function matcher(
  target: Target,
  file: string,
): (resource: Resource) => boolean {
  const group = anchored(target.group, 'group', file);
  const version = anchored(target.version, 'version', file);
  const kind = anchored(target.kind, 'kind', file);
  const name = anchored(target.name, 'name', file);
  const namespace = anchored(target.namespace, 'namespace', file);
  const labels = selectorMatcher(target.labelSelector, 'labelSelector', file);
  const annotations = selectorMatcher(
    target.annotationSelector,
    'annotationSelector',
    file,
  );
  return resource => {
    const { object } = resource;
    const [objectGroup, objectVersion] = groupVersion(object.apiVersion);
    const original = originalId(resource);
    return (
      group(objectGroup) &&
      version(objectVersion) &&
      kind(object.kind) &&
      (name(original.name) || name(object.metadata.name)) &&
      (namespace(effectiveNamespace(original.namespace)) ||
        namespace(effectiveNamespace(object.metadata.namespace))) &&
      labels(object.metadata.labels) &&
      annotations(object.metadata.annotations)
    );
  };
}

const describe = (target: Target) =>
  Object.entries(target)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');

/** Strategic merge documents, when every document of the text is an object with kind and name. */
function strategicMergeDocuments(documents: unknown[]) {
  const objects = documents.filter(
    document => !(Array.isArray(document) && document.length === 0),
  );
  const valid = objects.every(
    document =>
      isObject(document) &&
      typeof document.kind === 'string' &&
      typeof document.metadata?.name === 'string',
  );
  return valid ? (objects as Array<Record<string, any>>) : undefined;
}

/** JSON 6902 operations: strict JSON when the text starts with `[`, else a YAML list. */
function jsonOperations(text: string, documents: unknown[]) {
  let operations: unknown;
  try {
    operations = text.startsWith('[') ? JSON.parse(text) : documents[0];
  } catch {
    return undefined;
  }
  return Array.isArray(operations) && operations.every(isObject)
    ? (operations as JsonPatchOperation[])
    : undefined;
}

/**
 * A patch's text read as kustomize reads it: a strategic merge patch if its documents are
 * objects with kind and name, a JSON 6902 patch if it is a list of operations, and an error if
 * it is both or neither.
 */
function parsePatch(
  text: string,
  source: string,
  target: Target | undefined,
): Patch {
  const documents = parseYamlDocuments(text, source);
  const strategic = strategicMergeDocuments(documents);
  const operations = jsonOperations(text, documents);
  if (strategic && operations) {
    throw new ResolutionError(
      source,
      'the patch is both a strategic merge patch and a JSON patch',
    );
  }
  if (operations) return { source, target, operations };
  if (!strategic) {
    throw new ResolutionError(
      source,
      'the patch is neither a strategic merge patch (objects with kind and metadata.name) nor a JSON patch (a list of operations; in JSON when it starts with "[")',
    );
  }
  if (target && strategic.length > 1) {
    throw new ResolutionError(
      source,
      'a patch with a target may hold only one strategic merge document',
    );
  }
  return { source, target, documents: strategic };
}

/** The text of a patch entry: its `patch`, or the file its `path` names. */
async function patchText(
  ctx: BuildContext,
  dir: string,
  file: string,
  entry: Record<string, any>,
): Promise<{ text: string; source: string }> {
  if (entry.patch && entry.path)
    throw new ResolutionError(file, 'a patch has both a path and a patch');
  if (entry.patch) return { text: entry.patch.trim(), source: file };
  if (!entry.path)
    throw new ResolutionError(file, 'a patch needs a path or a patch');
  const path = fileIn(dir, entry.path, file);
  if (!ctx.snapshot.files.has(path))
    throw new ResolutionError(file, `patch "${entry.path}" not found`);
  ctx.inputs.add(path);
  return { text: await readText(ctx.snapshot, path), source: path };
}

/** `patchesStrategicMerge` entries: inline YAML when it reads as objects, else a file path. */
async function strategicMergePatches(
  ctx: BuildContext,
  dir: string,
  file: string,
  entries: string[],
): Promise<Patch[]> {
  const patches: Patch[] = [];
  for (const entry of entries) {
    let inline: Array<Record<string, any>> | undefined;
    try {
      inline = strategicMergeDocuments(parseYamlDocuments(entry, file));
    } catch {
      inline = undefined;
    }
    if (inline && inline.length > 0) {
      patches.push({ source: file, documents: inline });
      continue;
    }
    const path = fileIn(dir, entry.trim(), file);
    if (!ctx.snapshot.files.has(path))
      throw new ResolutionError(file, `patch "${entry}" not found`);
    const documents = strategicMergeDocuments(await readDocuments(ctx, path));
    if (!documents) {
      throw new ResolutionError(
        path,
        'every document of a strategic merge patch needs kind and metadata.name',
      );
    }
    patches.push({ source: path, documents });
  }
  return patches;
}

function applyJson6902(
  ctx: BuildContext,
  patch: Patch & { operations: JsonPatchOperation[] },
  resources: Resource[],
): Resource[] {
  if (!patch.target)
    throw new ResolutionError(patch.source, 'a JSON 6902 patch needs a target');
  const selected = matcher(patch.target, patch.source);
  let matched = false;
  const result = resources.map(resource => {
    if (!selected(resource)) return resource;
    matched = true;
    try {
      const object = applyJsonPatch(resource.object, patch.operations, value =>
        ctx.budget.copy(value, patch.source),
      ) as KubernetesObject;
      return { ...resource, object };
    } catch (error) {
      const id = `${resource.object.kind}/${resource.object.metadata.name}`;
      throw new ResolutionError(
        patch.source,
        `JSON patch on ${id} failed: ${(error as Error).message}`,
      );
    }
  });
  if (!matched) {
    ctx.warnings.push(
      `${patch.source}: patch target (${describe(
        patch.target,
      )}) matches no resource`,
    );
  }
  return result;
}

/** Whether a resource is the one a strategic merge patch names: kustomize's exact id match. */
function namedBy(document: Record<string, any>) {
  const [group, version] = groupVersion(document.apiVersion);
  const namespace = effectiveNamespace(document.metadata.namespace);
  return (resource: Resource) => {
    const [objectGroup, objectVersion] = groupVersion(
      resource.object.apiVersion,
    );
    return (
      resource.object.kind === document.kind &&
      objectGroup === group &&
      objectVersion === version &&
      idsOf(resource).some(
        id =>
          id.name === document.metadata.name &&
          effectiveNamespace(id.namespace) === namespace,
      )
    );
  };
}

/** Whether a patch value holds a list anywhere. */
const holdsList = (value: unknown): boolean =>
  Array.isArray(value) ||
  (isObject(value) && Object.values(value).some(holdsList));

function mergeInto(
  resource: Resource,
  document: Record<string, any>,
  options: Record<string, boolean>,
  source: string,
): Resource | undefined {
  // The patch's kind, name and namespace only select; the target keeps its own.
  const { apiVersion: _apiVersion, kind, ...body } = structuredClone(document);
  if (isObject(body.metadata)) {
    if (!options.allowNameChange) delete body.metadata.name;
    delete body.metadata.namespace;
  }
  if (options.allowKindChange) body.kind = kind;
  let object: KubernetesObject | undefined;
  try {
    object = strategicMerge(
      resource.object,
      body,
      isKnownType(resource.object) ? resource.object.kind : null,
    ) as KubernetesObject | undefined;
  } catch (error) {
    const id = `${resource.object.kind}/${resource.object.metadata.name}`;
    throw new ResolutionError(
      source,
      `strategic merge patch on ${id} failed: ${(error as Error).message}`,
    );
  }
  return object && withObject(resource, object);
}

function applyStrategicMerge(
  ctx: BuildContext,
  patch: Patch & { documents: Array<Record<string, any>> },
  options: Record<string, boolean>,
  resources: Resource[],
): Resource[] {
  let result = resources;
  for (const document of patch.documents) {
    const selected = patch.target
      ? matcher(patch.target, patch.source)
      : namedBy(document);
    const matches = result.filter(selected).length;
    if (!patch.target && matches !== 1) {
      const id = `${document.kind} "${document.metadata.name}"${
        document.apiVersion ? ` (${document.apiVersion})` : ''
      }`;
      throw new ResolutionError(
        patch.source,
        matches === 0
          ? `no resource matches the strategic merge patch of ${id}`
          : `several resources match the strategic merge patch of ${id}`,
      );
    }
    if (patch.target && matches === 0) {
      ctx.warnings.push(
        `${patch.source}: patch target (${describe(
          patch.target,
        )}) matches no resource`,
      );
    }
    result = result.flatMap(resource => {
      if (!selected(resource)) return [resource];
      if (!isKnownType(resource.object) && holdsList(document.spec)) {
        ctx.warnings.push(
          `${patch.source}: ${resource.object.kind} ${resource.object.metadata.name} is a type kustomize has no schema for; the patch replaces its lists instead of merging them`,
        );
      }
      return mergeInto(resource, document, options, patch.source) ?? [];
    });
  }
  return result;
}

function applyPatch(
  ctx: BuildContext,
  patch: Patch,
  options: Record<string, boolean>,
  resources: Resource[],
): Resource[] {
  return 'operations' in patch
    ? applyJson6902(ctx, patch, resources)
    : applyStrategicMerge(ctx, patch, options, resources);
}

async function readEntry(
  ctx: BuildContext,
  dir: string,
  file: string,
  entry: Record<string, any>,
): Promise<Patch> {
  const target: Target | undefined = isObject(entry.target)
    ? entry.target
    : undefined;
  // A bad target fails before its patch is read, as it would whatever the patch says.
  if (target) matcher(target, file);
  const { text, source } = await patchText(ctx, dir, file, entry);
  return parsePatch(text, source, target);
}

/**
 * Applies a kustomization's `patchesStrategicMerge`, then its `patches`. A strategic merge
 * patch without a target must name exactly one resource, by apiVersion, kind, name and
 * namespace, or the build fails, as kustomize's does.
 */
export async function applyPatches(
  ctx: BuildContext,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
  resources: Resource[],
): Promise<Resource[]> {
  let result = resources;
  for (const patch of await strategicMergePatches(
    ctx,
    dir,
    file,
    kustomization.patchesStrategicMerge ?? [],
  )) {
    result = applyPatch(ctx, patch, {}, result);
  }
  for (const entry of (kustomization.patches ?? []).filter(isObject)) {
    const patch = await readEntry(ctx, dir, file, entry);
    result = applyPatch(ctx, patch, entry.options ?? {}, result);
  }
  return result;
}

/**
 * Applies `patchesJson6902`, which kustomize runs after namespace, names, labels and
 * annotations are set, not with the other patches. Each needs a target with a name.
 */
export async function applyJson6902Patches(
  ctx: BuildContext,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
  resources: Resource[],
): Promise<Resource[]> {
  let result = resources;
  for (const entry of (kustomization.patchesJson6902 ?? []).filter(isObject)) {
    if (!isObject(entry.target) || !entry.target.name) {
      throw new ResolutionError(
        file,
        'every patchesJson6902 entry needs a target with a name',
      );
    }
    const patch = await readEntry(ctx, dir, file, entry);
    if (!('operations' in patch)) {
      throw new ResolutionError(
        patch.source,
        'a patchesJson6902 entry must be a JSON patch (a list of operations)',
      );
    }
    result = applyJson6902(ctx, patch, result);
  }
  return result;
}
