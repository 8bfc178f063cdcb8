import { RE2JS } from 're2js';
import { applyJsonPatch, JsonPatchOperation } from './jsonPatch';
import { inside } from './paths';
import { BuildContext, isObject, readDocuments, Resource } from './resources';
import { strategicMerge } from './strategicMerge';
import { KubernetesObject, ResolutionError } from './types';
import { parseYamlDocuments } from './yaml';

/** A kustomize patch target; `name` and `namespace` are anchored regular expressions. */
interface Target {
  kind?: string;
  name?: string;
  namespace?: string;
  group?: string;
  version?: string;
  labelSelector?: string;
  annotationSelector?: string;
}

interface Patch {
  /** The file the patch is written in: its own file, or the kustomization for inline patches. */
  source: string;
  documents: unknown[];
  target?: Target;
}

const escapeRegExp = (text: string) =>
  text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Longest patch-target pattern accepted; Kubernetes names are at most 253 characters. */
const MAX_PATTERN_LENGTH = 512;
const MAX_NAME_LENGTH = 253;

/** A name matcher with RE2's semantics: its time grows with the name, never exponentially. */
interface Matcher {
  test(text: string): boolean;
}

function anchored(pattern: string, field: string, file: string): Matcher {
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
  return {
    test: text => text.length <= MAX_NAME_LENGTH && compiled.matches(text),
  };
}

/** Label selectors as kustomize accepts them: `k=v`, `k==v`, `k!=v`, `k` and `!k`, comma-separated. */
function selectorMatches(
  selector: string,
  values: Record<string, unknown> | undefined,
): boolean {
  return selector
    .split(',')
    .map(term => term.trim())
    .filter(Boolean)
    .every(term => {
      const match = /^(!?)([^=!\s]+)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
      if (!match) return false;
      const [, not, key, operator, value] = match;
      const actual =
        values?.[key] === undefined ? undefined : String(values[key]);
      if (!operator) return not ? actual === undefined : actual !== undefined;
      return operator === '!=' ? actual !== value : actual === value;
    });
}

function matcher(
  target: Target,
  file: string,
): (resource: Resource) => boolean {
  const name = target.name
    ? anchored(String(target.name), 'name', file)
    : undefined;
  const namespace = target.namespace
    ? anchored(String(target.namespace), 'namespace', file)
    : undefined;
  return ({ object, originalName }) => {
    const apiVersion = object.apiVersion ?? '';
    const [group, version] = apiVersion.includes('/')
      ? apiVersion.split('/', 2)
      : ['', apiVersion];
    return (
      (!target.kind || target.kind === object.kind) &&
      (!name || name.test(object.metadata.name) || name.test(originalName)) &&
      (!namespace || namespace.test(object.metadata.namespace ?? '')) &&
      (target.group === undefined || target.group === group) &&
      (!target.version || target.version === version) &&
      (!target.labelSelector ||
        selectorMatches(target.labelSelector, object.metadata.labels)) &&
      (!target.annotationSelector ||
        selectorMatches(target.annotationSelector, object.metadata.annotations))
    );
  };
}

const describe = (target: Target) =>
  Object.entries(target)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');

/** A patch given as a file path or, when no such file exists, as inline YAML. */
async function readPatch(
  ctx: BuildContext,
  dir: string,
  file: string,
  reference: string,
): Promise<Patch> {
  if (!reference.includes('\n')) {
    const path = inside(dir, reference.trim(), file);
    if (ctx.snapshot.files.has(path))
      return { source: path, documents: await readDocuments(ctx, path) };
    if (!reference.includes(':'))
      throw new ResolutionError(file, `patch "${reference}" not found`);
  }
  return { source: file, documents: parseYamlDocuments(reference, file) };
}

async function patchesOf(
  ctx: BuildContext,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
): Promise<Patch[]> {
  const list = (field: string): unknown[] => {
    const value = kustomization[field] ?? [];
    if (!Array.isArray(value))
      throw new ResolutionError(file, `"${field}" must be a list`);
    return value;
  };
  const patches: Patch[] = [];
  for (const entry of list('patchesStrategicMerge')) {
    if (typeof entry !== 'string') {
      throw new ResolutionError(
        file,
        'every patchesStrategicMerge entry must be a path or inline YAML',
      );
    }
    patches.push(await readPatch(ctx, dir, file, entry));
  }
  for (const entry of [...list('patches'), ...list('patchesJson6902')]) {
    if (!isObject(entry)) {
      throw new ResolutionError(
        file,
        'every patch must be a mapping with a path or a patch',
      );
    }
    const target = isObject(entry.target)
      ? (entry.target as Target)
      : undefined;
    if (typeof entry.patch === 'string') {
      patches.push({
        source: file,
        documents: parseYamlDocuments(entry.patch, file),
        target,
      });
    } else if (typeof entry.path === 'string') {
      const path = inside(dir, entry.path, file);
      if (!ctx.snapshot.files.has(path))
        throw new ResolutionError(file, `patch "${entry.path}" not found`);
      patches.push({
        source: path,
        documents: await readDocuments(ctx, path),
        target,
      });
    } else {
      throw new ResolutionError(
        file,
        'a patch needs a path or an inline patch',
      );
    }
  }
  return patches;
}

function applyJson6902(
  ctx: BuildContext,
  patch: Patch,
  resources: Resource[],
): Resource[] {
  if (!patch.target)
    throw new ResolutionError(patch.source, 'a JSON 6902 patch needs a target');
  const selected = matcher(patch.target, patch.source);
  const operations = patch.documents[0] as JsonPatchOperation[];
  let matched = false;
  const result = resources.map(resource => {
    if (!selected(resource)) return resource;
    matched = true;
    try {
      return {
        ...resource,
        object: applyJsonPatch(resource.object, operations, value =>
          ctx.budget.copy(value, patch.source),
        ) as KubernetesObject,
      };
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

function applyStrategicMerge(
  ctx: BuildContext,
  patch: Patch,
  document: unknown,
  resources: Resource[],
): Resource[] {
  if (!isObject(document)) {
    throw new ResolutionError(
      patch.source,
      'a strategic merge patch must be a mapping',
    );
  }
  const name = document.metadata?.name;
  if (
    !patch.target &&
    (typeof document.kind !== 'string' || typeof name !== 'string')
  ) {
    throw new ResolutionError(
      patch.source,
      'a strategic merge patch needs kind and metadata.name, or a target',
    );
  }
  const target = patch.target ?? {
    kind: document.kind,
    name: escapeRegExp(name),
  };
  const selected = matcher(target, patch.source);
  // The patch's name only selects; the patched object keeps its own (possibly prefixed) name.
  const body = structuredClone(document);
  if (isObject(body.metadata)) delete body.metadata.name;

  let matched = false;
  const result: Resource[] = [];
  for (const resource of resources) {
    if (!selected(resource)) {
      result.push(resource);
      continue;
    }
    matched = true;
    const object = strategicMerge(resource.object, body) as
      | KubernetesObject
      | undefined;
    if (object) result.push({ ...resource, object });
  }
  if (!matched) {
    ctx.warnings.push(
      `${patch.source}: patch target (${describe(target)}) matches no resource`,
    );
  }
  return result;
}

/**
 * Applies a kustomization's `patchesStrategicMerge`, `patches` and `patchesJson6902`: a patch
 * that is a YAML list of operations is JSON 6902, any other patch is a strategic merge patch.
 */
export async function applyPatches(
  ctx: BuildContext,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
  resources: Resource[],
): Promise<Resource[]> {
  let result = resources;
  for (const patch of await patchesOf(ctx, dir, file, kustomization)) {
    if (patch.documents.length === 1 && Array.isArray(patch.documents[0])) {
      result = applyJson6902(ctx, patch, result);
    } else {
      for (const document of patch.documents)
        result = applyStrategicMerge(ctx, patch, document, result);
    }
  }
  return result;
}
