import path from 'node:path';
import { fileIn } from './paths';
import {
  BuildContext,
  countObjects,
  effectiveNamespace,
  idsOf,
  isObject,
  Resource,
} from './resources';
import { KubernetesObject, ResolutionError } from './types';
import { readText } from './yaml';

const GENERATORS = [
  ['configMapGenerator', 'ConfigMap'],
  ['secretGenerator', 'Secret'],
] as const;

type Pair = [string, string];

/** `KEY=VALUE`, split at the first `=`; a value in matching quotes loses them. */
function literal(source: string, file: string): Pair {
  const eq = source.indexOf('=');
  if (eq <= 0) {
    throw new ResolutionError(file, `literal "${source}" is not KEY=VALUE`);
  }
  const value = source.slice(eq + 1);
  const quoted =
    value.length >= 2 &&
    value[0] === value[value.length - 1] &&
    (value[0] === '"' || value[0] === "'");
  return [source.slice(0, eq), quoted ? value.slice(1, -1) : value];
}

/**
 * The pairs of an env file, read line by line as kustomize v5.5 reads them: leading blanks are
 * dropped, blank lines and `#` comments skipped, the rest split at the first `=` and kept as
 * written. A line with only a key has the empty value: kustomize v5 no longer takes it from the
 * environment of whoever runs it, and the resolver never reads its own.
 */
function envFilePairs(text: string): Pair[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map(line => line.replace(/^\s+/, ''))
    .filter(line => line !== '' && !line.startsWith('#'))
    .map(line => {
      const eq = line.indexOf('=');
      return eq < 0 ? [line, ''] : [line.slice(0, eq), line.slice(eq + 1)];
    });
}

/** `files` entries: `path` (keyed by its base name) or `key=path`. */
function fileSource(source: string, file: string): [string, string] {
  const parts = source.split('=');
  if (parts.length === 1) return [path.posix.basename(source), source];
  if (parts.length > 2 || !parts[0] || !parts[1]) {
    throw new ResolutionError(file, `file source "${source}" is not KEY=PATH`);
  }
  return [parts[0], parts[1]];
}

async function generatorPairs(
  ctx: BuildContext,
  dir: string,
  file: string,
  generator: Record<string, any>,
): Promise<Pair[]> {
  const pairs: Pair[] = [];
  // kustomize reads env files first, then literals, then files.
  const envs = [
    ...(generator.envs ?? []),
    ...(generator.env ? [generator.env] : []),
  ];
  for (const envFile of envs) {
    const target = fileIn(dir, envFile, file);
    ctx.inputs.add(target);
    pairs.push(...envFilePairs(await readText(ctx.snapshot, target)));
  }
  for (const source of generator.literals ?? [])
    pairs.push(literal(source, file));
  for (const source of generator.files ?? []) {
    const [key, sourcePath] = fileSource(source, file);
    const target = fileIn(dir, sourcePath, file);
    ctx.inputs.add(target);
    pairs.push([key, await readText(ctx.snapshot, target)]);
  }
  return pairs;
}

async function generatorData(
  ctx: BuildContext,
  dir: string,
  file: string,
  generator: Record<string, any>,
  kind: string,
): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  for (const [key, value] of await generatorPairs(ctx, dir, file, generator)) {
    if (Object.hasOwn(data, key)) {
      throw new ResolutionError(
        file,
        `${kind} "${generator.name}" repeats the key "${key}"`,
      );
    }
    data[key] =
      kind === 'Secret' ? Buffer.from(value).toString('base64') : value;
  }
  return data;
}

/** A generator's options over the kustomization's `generatorOptions`: its own labels win. */
function optionsOf(
  kustomization: Record<string, any>,
  generator: Record<string, any>,
) {
  const global = isObject(kustomization.generatorOptions)
    ? kustomization.generatorOptions
    : {};
  const own = isObject(generator.options) ? generator.options : {};
  return {
    labels: { ...global.labels, ...own.labels },
    annotations: { ...global.annotations, ...own.annotations },
    immutable: Boolean(global.immutable || own.immutable),
  };
}

function generatedObject(
  kind: string,
  generator: Record<string, any>,
  data: Record<string, string>,
  options: ReturnType<typeof optionsOf>,
): KubernetesObject {
  const { labels, annotations, immutable } = options;
  return {
    apiVersion: 'v1',
    kind,
    metadata: {
      name: generator.name,
      ...(generator.namespace ? { namespace: generator.namespace } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    ...(kind === 'Secret' ? { type: generator.type || 'Opaque' } : {}),
    ...(Object.keys(data).length > 0 ? { data } : {}),
    ...(immutable ? { immutable: true } : {}),
  };
}

/** The resource a generator of this kind and name (and namespace) merges into or replaces. */
function existingIndex(
  resources: Resource[],
  kind: string,
  generator: Record<string, any>,
): number[] {
  const namespace = effectiveNamespace(generator.namespace);
  return resources.flatMap((resource, i) =>
    resource.object.kind === kind &&
    resource.object.apiVersion === 'v1' &&
    idsOf(resource).some(
      id =>
        id.name === generator.name &&
        effectiveNamespace(id.namespace) === namespace,
    )
      ? [i]
      : [],
  );
}

/**
 * What `behavior: merge` or `replace` leaves, as kustomize does it: the generated object takes
 * the existing one's name and namespace, and their labels and annotations merged; `merge` keeps
 * the existing data its own does not replace.
 */
function mergeGenerated(
  existing: Resource,
  generated: KubernetesObject,
  behavior: string,
): Resource {
  const old = existing.object;
  const labels = { ...old.metadata.labels, ...generated.metadata.labels };
  const annotations = {
    ...old.metadata.annotations,
    ...generated.metadata.annotations,
  };
  const data =
    behavior === 'merge'
      ? { ...(isObject(old.data) ? old.data : {}), ...(generated.data ?? {}) }
      : generated.data;
  const { data: _data, ...rest } = generated;
  const object: KubernetesObject = {
    ...rest,
    metadata: {
      name: old.metadata.name,
      ...(old.metadata.namespace ? { namespace: old.metadata.namespace } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    ...(data && Object.keys(data).length > 0 ? { data } : {}),
  };
  return { ...existing, object };
}

/**
 * Runs `configMapGenerator` and `secretGenerator`. Names are left without kustomize's content
 * hash, which would differ between environments whenever the data does.
 */
export async function generate(
  ctx: BuildContext,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
  resources: Resource[],
): Promise<Resource[]> {
  const result = [...resources];
  for (const [field, kind] of GENERATORS) {
    for (const generator of (kustomization[field] ?? []).filter(isObject)) {
      if (!generator.name)
        throw new ResolutionError(file, `every ${field} entry needs a name`);
      const behavior = generator.behavior || 'create';
      if (!['create', 'merge', 'replace'].includes(behavior)) {
        throw new ResolutionError(
          file,
          `${field} "${generator.name}" has unknown behavior "${behavior}"`,
        );
      }
      const data = await generatorData(ctx, dir, file, generator, kind);
      const object = generatedObject(
        kind,
        generator,
        data,
        optionsOf(kustomization, generator),
      );
      const matches = existingIndex(result, kind, generator);
      if (matches.length > 1) {
        throw new ResolutionError(
          file,
          `${field} "${generator.name}": several ${kind}s have that name`,
        );
      }
      if (behavior === 'create') {
        if (matches.length > 0) {
          throw new ResolutionError(
            file,
            `${field} "${generator.name}": a ${kind} of that name exists; its behavior must be merge or replace`,
          );
        }
        countObjects(ctx, 1, file);
        result.push({ object, originalName: generator.name });
      } else if (matches.length === 0) {
        throw new ResolutionError(
          file,
          `${field} "${generator.name}" has behavior ${behavior} but no ${kind} of that name exists`,
        );
      } else {
        result[matches[0]] = mergeGenerated(
          result[matches[0]],
          object,
          behavior,
        );
      }
    }
  }
  return result;
}
