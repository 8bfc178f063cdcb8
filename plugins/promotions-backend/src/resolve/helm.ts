import path from 'node:path';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import { RepositorySnapshot } from '../repository/types';
import { clone } from './patch';
import { ResolutionError } from './types';
import { parseYaml, readText } from './yaml';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Helm's merge of values files: maps merge, the later file wins, lists are replaced. */
export function mergeValues(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    result[key] = value === null ? null : mergeValues(result[key], value);
  }
  return result;
}

async function readValues(snapshot: RepositorySnapshot, file: string): Promise<Record<string, unknown>> {
  const values = parseYaml(await readText(snapshot, file), file);
  if (values === null || values === undefined) return {};
  if (!isObject(values)) throw new ResolutionError(file, 'a values file must be a YAML mapping');
  return values;
}

/** Reads an environment's Helm values: `values.yaml` beside the file, overridden by the file. */
export async function resolveHelmValues(snapshot: RepositorySnapshot, file: string, versionKey: string) {
  if (!snapshot.files.has(file)) throw new ResolutionError(file, 'values file not found');
  const base = path.posix.join(path.posix.dirname(file), 'values.yaml');
  const inputs = [file];
  let values: unknown = await readValues(snapshot, file);
  if (base !== file && snapshot.files.has(base)) {
    inputs.unshift(base);
    values = mergeValues(await readValues(snapshot, base), values);
  }

  const keys = versionKey.split('.');
  const parentKeys = keys.slice(0, -1);
  let parent: unknown = values;
  for (const key of parentKeys) parent = isObject(parent) ? parent[key] : undefined;
  const leaf = keys[keys.length - 1];
  const tagValue = isObject(parent) ? parent[leaf] : undefined;

  const images: ImageRef[] = [];
  if (tagValue !== undefined && tagValue !== null && isObject(parent)) {
    const repository = typeof parent.repository === 'string' ? parent.repository : undefined;
    const registry = typeof parent.registry === 'string' ? parent.registry : undefined;
    const name = repository ? (registry ? `${registry}/${repository}` : repository) : versionKey;
    images.push({
      name,
      tag: String(tagValue),
      digest: typeof parent.digest === 'string' && parent.digest ? parent.digest : null,
    });
  }

  // The version key and its digest are expected to differ between environments.
  const comparable = clone(values) as Record<string, unknown>;
  let node: unknown = comparable;
  for (const key of parentKeys) node = isObject(node) ? node[key] : undefined;
  if (isObject(node)) {
    delete node[leaf];
    delete node.digest;
  }
  return { images, inputs, comparable: [{ id: 'HelmValues/values', body: comparable }] };
}
