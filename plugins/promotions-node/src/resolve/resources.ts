import { RepositorySnapshot } from '../repository/types';
import { ResolveBudget } from './budget';
import { KubernetesObject, ResolutionError } from './types';
import { parseYamlDocuments, readText } from './yaml';

/** A name and namespace an object has had. */
export interface ResourceId {
  name: string;
  namespace?: string;
}

/** A rendered object and the name it had before any prefix or suffix. */
export interface Resource {
  object: KubernetesObject;
  originalName: string;
  /** Names and namespaces it had before the current ones, oldest first (kustomize's previous ids). */
  previous?: ResourceId[];
}

/** The namespace kustomize compares ids by: none is `default`. */
export const effectiveNamespace = (namespace: unknown) =>
  typeof namespace === 'string' && namespace !== '' ? namespace : 'default';

const currentId = ({ object }: Resource): ResourceId => ({
  name: object.metadata.name,
  namespace: object.metadata.namespace,
});

/** Every id a resource has had, the current one last. */
export const idsOf = (resource: Resource): ResourceId[] => [
  ...(resource.previous ?? []),
  currentId(resource),
];

/** The id a resource was loaded or generated with. */
export const originalId = (resource: Resource): ResourceId =>
  resource.previous?.[0] ?? currentId(resource);

const idOf = ({ object }: Resource) =>
  `${object.apiVersion ?? ''} ${object.kind} ${
    object.metadata.name
  } in ${effectiveNamespace(object.metadata.namespace)}`;

/**
 * Adds resources to those accumulated, refusing one with the apiVersion, kind, name and
 * namespace of another, as kustomize does: the same object twice is a mistake, not a merge.
 */
export function accumulate(
  resources: Resource[],
  added: Resource[],
  file: string,
): Resource[] {
  return checkUnique([...resources, ...added], file, 'is included twice');
}

/** Refuses two resources with the same id, which kustomize cannot tell apart. */
export function checkUnique(
  resources: Resource[],
  file: string,
  problem: string,
): Resource[] {
  const seen = new Set<string>();
  for (const resource of resources) {
    const id = idOf(resource);
    if (seen.has(id)) throw new ResolutionError(file, `${id} ${problem}`);
    seen.add(id);
  }
  return resources;
}

/** A resource with a new object, remembering its id when the name or namespace changed. */
export function withObject(
  resource: Resource,
  object: KubernetesObject,
): Resource {
  const before = currentId(resource);
  const changed =
    before.name !== object.metadata.name ||
    before.namespace !== object.metadata.namespace;
  return {
    ...resource,
    object,
    ...(changed ? { previous: [...(resource.previous ?? []), before] } : {}),
  };
}

/** What one kustomize build reads and reports, shared by every kustomization it visits. */
export interface BuildContext {
  snapshot: RepositorySnapshot;
  inputs: Set<string>;
  warnings: string[];
  parsed: Map<string, unknown[]>;
  kustomizations: number;
  budget: ResolveBudget;
}

export const isObject = (value: unknown): value is Record<string, any> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The YAML documents of a repository file, parsed once per build; callers get their own copy. */
export async function readDocuments(
  ctx: BuildContext,
  file: string,
): Promise<unknown[]> {
  let documents = ctx.parsed.get(file);
  if (!documents) {
    documents = parseYamlDocuments(await readText(ctx.snapshot, file), file);
    ctx.parsed.set(file, documents);
  }
  ctx.inputs.add(file);
  ctx.budget.copy(documents, file);
  return structuredClone(documents);
}

/** Counts objects against the build's limit. */
export function countObjects(ctx: BuildContext, count: number, file: string) {
  ctx.budget.render(count, file);
}

function asObjects(documents: unknown[], file: string): KubernetesObject[] {
  return documents.flatMap(document => {
    if (
      isObject(document) &&
      typeof document.kind === 'string' &&
      document.kind.endsWith('List') &&
      Array.isArray(document.items)
    ) {
      return asObjects(document.items, file);
    }
    if (
      !isObject(document) ||
      typeof document.kind !== 'string' ||
      !isObject(document.metadata) ||
      typeof document.metadata.name !== 'string'
    ) {
      throw new ResolutionError(
        file,
        'every document must be a Kubernetes object with kind and metadata.name',
      );
    }
    return [document as KubernetesObject];
  });
}

/** The Kubernetes objects of a resource file (multi-document YAML, `List` kinds unwrapped). */
export async function loadResources(
  ctx: BuildContext,
  file: string,
): Promise<Resource[]> {
  const objects = asObjects(await readDocuments(ctx, file), file);
  countObjects(ctx, objects.length, file);
  return objects.map(object => ({
    object,
    originalName: object.metadata.name,
  }));
}
