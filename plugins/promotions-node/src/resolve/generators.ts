import path from 'node:path';
import { inside } from './paths';
import { BuildContext, countObjects, isObject, Resource } from './resources';
import { KubernetesObject, ResolutionError } from './types';
import { readText } from './yaml';

const GENERATORS = [
  ['configMapGenerator', 'ConfigMap'],
  ['secretGenerator', 'Secret'],
] as const;

function strings(value: unknown, field: string, file: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some(item => typeof item !== 'string')) {
    throw new ResolutionError(file, `"${field}" must be a list of strings`);
  }
  return value;
}

function keyValue(line: string, file: string): [string, string] {
  const eq = line.indexOf('=');
  if (eq <= 0) throw new ResolutionError(file, `"${line}" is not KEY=VALUE`);
  return [line.slice(0, eq).trim(), line.slice(eq + 1)];
}

async function generatorData(
  ctx: BuildContext,
  dir: string,
  file: string,
  field: string,
  generator: Record<string, any>,
) {
  const data: Record<string, string> = {};
  for (const literal of strings(
    generator.literals,
    `${field}.literals`,
    file,
  )) {
    const [key, value] = keyValue(literal, file);
    data[key] = value.replace(/^(["'])(.*)\1$/s, '$2');
  }
  const envs = strings(
    generator.envs ?? (generator.env ? [generator.env] : []),
    `${field}.envs`,
    file,
  );
  for (const envFile of envs) {
    const target = inside(dir, envFile, file);
    ctx.inputs.add(target);
    for (const line of (await readText(ctx.snapshot, target)).split(/\r?\n/)) {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) continue;
      const [key, value] = keyValue(trimmed, target);
      data[key] = value;
    }
  }
  for (const entry of strings(generator.files, `${field}.files`, file)) {
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq) : path.posix.basename(entry);
    const target = inside(dir, eq > 0 ? entry.slice(eq + 1) : entry, file);
    ctx.inputs.add(target);
    data[key] = await readText(ctx.snapshot, target);
  }
  return data;
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
  const options = isObject(kustomization.generatorOptions)
    ? kustomization.generatorOptions
    : {};
  for (const [field, kind] of GENERATORS) {
    const generators = kustomization[field] ?? [];
    if (!Array.isArray(generators))
      throw new ResolutionError(file, `"${field}" must be a list`);
    for (const generator of generators) {
      if (!isObject(generator) || typeof generator.name !== 'string') {
        throw new ResolutionError(file, `every ${field} entry needs a name`);
      }
      let data = await generatorData(ctx, dir, file, field, generator);
      if (kind === 'Secret') {
        data = Object.fromEntries(
          Object.entries(data).map(([key, value]) => [
            key,
            Buffer.from(value).toString('base64'),
          ]),
        );
      }
      const behavior = generator.behavior ?? 'create';
      if (behavior === 'merge' || behavior === 'replace') {
        const index = result.findIndex(
          r => r.object.kind === kind && r.originalName === generator.name,
        );
        if (index < 0) {
          throw new ResolutionError(
            file,
            `${field} "${generator.name}" has behavior ${behavior} but no ${kind} of that name exists`,
          );
        }
        const existing = result[index].object;
        const previous =
          behavior === 'merge' && isObject(existing.data) ? existing.data : {};
        result[index] = {
          ...result[index],
          object: { ...existing, data: { ...previous, ...data } },
        };
        continue;
      }
      if (behavior !== 'create') {
        throw new ResolutionError(
          file,
          `${field} "${generator.name}" has unknown behavior "${behavior}"`,
        );
      }
      const own = isObject(generator.options) ? generator.options : {};
      const labels = { ...options.labels, ...own.labels };
      const annotations = { ...options.annotations, ...own.annotations };
      const object: KubernetesObject = {
        apiVersion: 'v1',
        kind,
        metadata: {
          name: generator.name,
          ...(typeof generator.namespace === 'string'
            ? { namespace: generator.namespace }
            : {}),
          ...(Object.keys(labels).length > 0 ? { labels } : {}),
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        },
        ...(kind === 'Secret' ? { type: generator.type ?? 'Opaque' } : {}),
        data,
      };
      countObjects(ctx, 1, file);
      result.push({ object, originalName: generator.name });
    }
  }
  return result;
}
