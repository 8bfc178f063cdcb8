import path from 'node:path';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import { RepositorySnapshot } from '../repository/types';
import { inside } from './paths';
import { ResolveBudget } from './budget';
import { argoCdSetValue, HelmSetError, parseHelmSet } from './helmSet';
import { ComparableObject, HelmLayering, ResolutionError } from './types';
import { parseYaml, readText } from './yaml';

type Values = Record<string, unknown>;

const isObject = (value: unknown): value is Values =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Helm's coalescing of values: maps merge, the override wins, lists are replaced, `null` removes a key. */
export function mergeValues(base: Values, override: Values): Values {
  const result: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = Object.hasOwn(result, key) ? result[key] : undefined;
    if (value === null) delete result[key];
    else if (isObject(value) && isObject(current))
      define(result, key, mergeValues(current, value));
    else define(result, key, value);
  }
  return result;
}

/** Sets an own key, whatever it is named (`__proto__` included), never a prototype. */
function define(values: Values, key: string, value: unknown) {
  Object.defineProperty(values, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/**
 * Helm's merging of the values a user supplies (value files, inline values), before they are
 * coalesced with the chart's: maps merge and the override wins, but a `null` stays, to remove
 * the chart's key when coalesced.
 */
function layerValues(base: Values, override: Values): Values {
  const result: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = Object.hasOwn(result, key) ? result[key] : undefined;
    define(
      result,
      key,
      isObject(value) && isObject(current)
        ? layerValues(current, value)
        : value,
    );
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

  const { images, body } = imageOf(values, versionKey, file);
  const comparable: ComparableObject[] = [{ id: 'HelmValues/values', body }];
  return { images, inputs, comparable, values };
}

/**
 * The image the values name (the version key's value with its siblings `repository`, after
 * `registry` when given, and `digest`), and the values with the version key and digest taken
 * out, as they are expected to differ between environments. Without a tag or digest, the image
 * is tagged `fallbackTag` when given.
 */
function imageOf(
  values: Values,
  versionKey: string,
  file: string,
  fallbackTag?: string,
): { images: ImageRef[]; body: Values; derived: boolean } {
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
  let tag =
    text(parent && Object.hasOwn(parent, leaf) ? parent[leaf] : undefined) ||
    null;
  const digest = text(parent?.digest) || null;
  let derived = false;
  if (parent && !tag && !digest && fallbackTag) {
    tag = fallbackTag;
    derived = true;
  }
  if (parent && (tag || digest)) {
    const repository = text(parent.repository);
    const registry = text(parent.registry);
    const name = repository
      ? [registry, repository].filter(Boolean).join('/')
      : versionKey;
    images.push({ name, tag, digest });
  }

  const body = structuredClone(values);
  const bodyParent = parentOf(body, keys);
  if (bodyParent) {
    delete bodyParent[leaf];
    delete bodyParent.digest;
  }
  return { images, body, derived };
}

/** A layering error that names what it is about, in the file given. */
function refusedPath(reference: string, what: string, file: string) {
  try {
    return inside('', reference, file);
  } catch (error) {
    if (!(error instanceof ResolutionError)) throw error;
    throw new ResolutionError(
      file,
      `${what} ${error.message.slice(file.length + 2)}`,
    );
  }
}

/**
 * Resolves a Helm chart's values as Helm under Argo CD layers them (see `HelmLayering`): the
 * value files, inline values and parameters are merged as Helm merges what a user supplies
 * (a `null` kept), then coalesced over the chart's `values.yaml` (maps merge, lists are
 * replaced, `null` removes the chart's key). When the version key is empty or absent and no
 * digest is given, the version is the chart's `appVersion`, marked derived.
 */
export async function resolveHelmLayering(
  snapshot: RepositorySnapshot,
  layering: HelmLayering,
  versionKey: string,
  budget?: ResolveBudget,
) {
  const chart = refusedPath(
    layering.chartPath || '.',
    'the chart path',
    layering.manifest || layering.chartPath,
  );
  const chartYaml = path.posix.join(chart, 'Chart.yaml');
  const manifest = layering.manifest || chartYaml;
  if (!snapshot.files.has(chartYaml)) {
    throw new ResolutionError(
      chartYaml,
      `file not found: "${
        chart || '.'
      }" is not a Helm chart without a Chart.yaml`,
    );
  }
  const inputs = [chartYaml];
  const metadata = parseYaml(await readText(snapshot, chartYaml), chartYaml);
  if (!isObject(metadata))
    throw new ResolutionError(chartYaml, 'Chart.yaml must be a YAML mapping');
  const appVersion = text(metadata.appVersion);

  const defaultsFile = path.posix.join(chart, 'values.yaml');
  let defaults: Values = {};
  if (snapshot.files.has(defaultsFile)) {
    defaults = await readValues(snapshot, defaultsFile);
    inputs.push(defaultsFile);
  }

  let supplied: Values = {};
  for (const reference of layering.valueFiles) {
    const file = refusedPath(reference, 'the value file', manifest);
    if (!snapshot.files.has(file)) {
      if (layering.ignoreMissingValueFiles) continue;
      throw new ResolutionError(
        file,
        `value file not found (set ignoreMissingValueFiles to skip missing value files)`,
      );
    }
    supplied = layerValues(supplied, await readValues(snapshot, file));
    inputs.push(file);
  }

  const hasObject =
    layering.valuesObject !== undefined && layering.valuesObject !== null;
  const inline = hasObject
    ? layering.valuesObject
    : parseYaml(layering.values ?? '', manifest);
  if (inline !== null && inline !== undefined) {
    if (!isObject(inline)) {
      throw new ResolutionError(
        manifest,
        `helm ${hasObject ? 'valuesObject' : 'values'} must be a YAML mapping`,
      );
    }
    supplied = layerValues(supplied, inline);
  }

  // Argo CD keeps one value per parameter name and kind; Helm applies --set before --set-string.
  const set = new Map<string, string>();
  const setString = new Map<string, string>();
  for (const { name, value, forceString } of layering.parameters ?? [])
    (forceString ? setString : set).set(String(name), String(value ?? ''));
  for (const [forceString, parameters] of [
    [false, set],
    [true, setString],
  ] as const) {
    for (const [name, value] of parameters) {
      try {
        supplied = parseHelmSet(
          `${name}=${argoCdSetValue(value)}`,
          supplied,
          forceString,
        );
      } catch (error) {
        if (!(error instanceof HelmSetError)) throw error;
        throw new ResolutionError(
          manifest,
          `helm parameter "${name}": ${error.message}`,
        );
      }
      budget?.time(manifest);
    }
  }

  const values = mergeValues(defaults, supplied);
  budget?.copy(values, manifest);
  const { images, body, derived } = imageOf(
    values,
    versionKey,
    manifest,
    appVersion || undefined,
  );
  const comparable: ComparableObject[] = [{ id: 'HelmValues/values', body }];
  return {
    images,
    inputs: [...new Set(inputs)].sort(),
    comparable,
    values,
    versionSource: derived ? ('appVersion' as const) : ('values' as const),
  };
}
