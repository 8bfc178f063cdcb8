import path from 'node:path';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import { RepositorySnapshot } from '../repository/types';
import { inside } from './paths';
import { ComparableObject, ResolutionError } from './types';
import { parseYaml, readText } from './yaml';

type Values = Record<string, unknown>;

const isObject = (value: unknown): value is Values =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Helm's coalescing of values: maps merge, the override wins, lists are replaced, `null` removes a key. */
export function mergeValues(base: Values, override: Values): Values {
  const result: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    if (value === null) delete result[key];
    else if (isObject(value) && isObject(current))
      result[key] = mergeValues(current, value);
    else result[key] = value;
  }
  return result;
}

async function readValues(
  snapshot: RepositorySnapshot,
  file: string,
): Promise<Values> {
  const values = parseYaml(await readText(snapshot, file), file);
  if (values === null) return {};
  if (!isObject(values))
    throw new ResolutionError(file, 'a values file must be a YAML mapping');
  return values;
}

const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Whether a values key path names an object's internals rather than a value.
 *
 * @public
 */
export const isUnsafeKeyPath = (keyPath: string) =>
  keyPath.split('.').some(key => UNSAFE_KEYS.has(key) || key === '');

const text = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : '';

/** The map holding the version key (`image` for `image.tag`), when there is one. */
function parentOf(values: Values, keys: string[]): Values | undefined {
  let node: unknown = values;
  // Own keys only: a key path never reaches Object.prototype, whatever it names.
  for (const key of keys.slice(0, -1))
    node = isObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
  return isObject(node) ? node : undefined;
}

/**
 * Reads an environment's Helm values: the `values.yaml` beside the file, overridden by the file.
 * The image is the version key's value with its siblings `repository` (after `registry`, when
 * given) and `digest`.
 */
export async function resolveHelmValues(
  snapshot: RepositorySnapshot,
  file: string,
  versionKey: string,
) {
  const valuesFile = inside('', file, file);
  if (!snapshot.files.has(valuesFile))
    throw new ResolutionError(valuesFile, 'values file not found');
  const base = path.posix.join(path.posix.dirname(valuesFile), 'values.yaml');
  const inputs = [valuesFile];
  let values = await readValues(snapshot, valuesFile);
  if (base !== valuesFile && snapshot.files.has(base)) {
    inputs.unshift(base);
    values = mergeValues(await readValues(snapshot, base), values);
  }

  const keys = versionKey.split('.');
  if (isUnsafeKeyPath(versionKey)) {
    throw new ResolutionError(
      file,
      `"${versionKey}" is not a usable values key path`,
    );
  }
  const leaf = keys[keys.length - 1];
  const parent = parentOf(values, keys);
  const images: ImageRef[] = [];
  const tag =
    text(parent && Object.hasOwn(parent, leaf) ? parent[leaf] : undefined) ||
    null;
  const digest = text(parent?.digest) || null;
  if (parent && (tag || digest)) {
    const repository = text(parent.repository);
    const registry = text(parent.registry);
    const name = repository
      ? [registry, repository].filter(Boolean).join('/')
      : versionKey;
    images.push({ name, tag, digest });
  }

  // The version key and its digest are expected to differ between environments.
  const body = structuredClone(values);
  const bodyParent = parentOf(body, keys);
  if (bodyParent) {
    delete bodyParent[leaf];
    delete bodyParent.digest;
  }
  const comparable: ComparableObject[] = [{ id: 'HelmValues/values', body }];
  return { images, inputs, comparable, values };
}
