import { RepositorySnapshot } from '../repository/types';
import { ResolveBudget } from './budget';
import { KubernetesObject, ResolutionError } from './types';
import { ParseOptions, parseYamlDocuments, readText } from './yaml';

/** A rendered object and the name it had before any prefix or suffix. */
export interface Resource {
  object: KubernetesObject;
  originalName: string;
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
  options: ParseOptions = {},
): Promise<unknown[]> {
  const key = `${options.numbersAsWritten ? 'as-written' : 'typed'}:${file}`;
  let documents = ctx.parsed.get(key);
  if (!documents) {
    documents = parseYamlDocuments(
      await readText(ctx.snapshot, file),
      file,
      options,
    );
    ctx.parsed.set(key, documents);
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
