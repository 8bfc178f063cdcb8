import { ResolutionError } from './types';

/**
 * The fields of a kustomization as kustomize v5.5 decodes them: strictly, so that an unknown
 * field or a value of the wrong type (`newTag: 1.20`, a number) fails the build as it fails
 * kustomize's, instead of being read in a way kustomize never would.
 */
type Shape =
  | 'string'
  | 'bool'
  | 'int'
  | 'strings'
  | 'stringMap'
  | 'boolMap'
  | 'any'
  | { fields: Record<string, Shape> }
  | { list: Shape };

const object = (fields: Record<string, Shape>): Shape => ({ fields });
const list = (item: Shape): Shape => ({ list: item });

const GVK = { group: 'string', version: 'string', kind: 'string' } as const;
const RES_ID = { ...GVK, name: 'string', namespace: 'string' } as const;
const SELECTOR = object({
  ...RES_ID,
  labelSelector: 'string',
  annotationSelector: 'string',
});
const FIELD_SPEC = object({ ...GVK, path: 'string', create: 'bool' });
const GENERATOR_OPTIONS = object({
  labels: 'stringMap',
  annotations: 'stringMap',
  disableNameSuffixHash: 'bool',
  immutable: 'bool',
});
const GENERATOR = {
  name: 'string',
  namespace: 'string',
  behavior: 'string',
  literals: 'strings',
  files: 'strings',
  envs: 'strings',
  env: 'string',
  options: GENERATOR_OPTIONS,
} as const;
const IMAGE = object({
  name: 'string',
  newName: 'string',
  newTag: 'string',
  digest: 'string',
  tagSuffix: 'string',
});
const PATCH = object({
  path: 'string',
  patch: 'string',
  target: SELECTOR,
  options: 'boolMap',
});
const FIELD_OPTIONS = object({
  delimiter: 'string',
  index: 'int',
  encoding: 'string',
  create: 'bool',
});
const REPLACEMENT = object({
  path: 'string',
  source: object({ ...RES_ID, fieldPath: 'string', options: FIELD_OPTIONS }),
  targets: list(
    object({
      select: SELECTOR,
      reject: list(SELECTOR),
      fieldPaths: 'strings',
      options: FIELD_OPTIONS,
    }),
  ),
});

const KUSTOMIZATION: Record<string, Shape> = {
  apiVersion: 'string',
  kind: 'string',
  metadata: 'any',
  openapi: 'any',
  namePrefix: 'string',
  nameSuffix: 'string',
  namespace: 'string',
  commonLabels: 'stringMap',
  labels: list(
    object({
      pairs: 'stringMap',
      includeSelectors: 'bool',
      includeTemplates: 'bool',
      fields: list(FIELD_SPEC),
    }),
  ),
  commonAnnotations: 'stringMap',
  patchesStrategicMerge: 'strings',
  patchesJson6902: list(PATCH),
  patches: list(PATCH),
  images: list(IMAGE),
  imageTags: list(IMAGE),
  replacements: list(REPLACEMENT),
  replicas: list(object({ name: 'string', count: 'int' })),
  vars: 'any',
  sortOptions: 'any',
  resources: 'strings',
  components: 'strings',
  crds: 'strings',
  bases: 'strings',
  configMapGenerator: list(object(GENERATOR)),
  secretGenerator: list(object({ ...GENERATOR, type: 'string' })),
  helmGlobals: 'any',
  helmCharts: 'any',
  helmChartInflationGenerator: 'any',
  generatorOptions: GENERATOR_OPTIONS,
  configurations: 'strings',
  generators: 'strings',
  transformers: 'strings',
  validators: 'strings',
  buildMetadata: 'strings',
};

/**
 * Fields that change what kustomize renders but that the resolver does not apply: each is
 * reported as `not read: <field>` on the environment. `sortOptions` is not among them: it
 * changes only the order of the output, which nothing here depends on.
 */
export const NOT_READ = [
  'helmCharts',
  'helmGlobals',
  'helmChartInflationGenerator',
  'vars',
  'generators',
  'transformers',
  'validators',
  'configurations',
  'crds',
  'openapi',
  'buildMetadata',
];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function typeName(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isObject(value)) return 'a mapping';
  return `a ${typeof value}`;
}

function check(value: unknown, shape: Shape, at: string): string | undefined {
  // A null field is an absent one, as in kustomize's JSON decoding.
  if (value === null || value === undefined || shape === 'any')
    return undefined;
  const wrong = (expected: string) =>
    `"${at}" must be ${expected}, not ${typeName(value)}`;
  if (shape === 'string')
    return typeof value === 'string' ? undefined : wrong('a string');
  if (shape === 'bool')
    return typeof value === 'boolean' ? undefined : wrong('true or false');
  if (shape === 'int')
    return Number.isInteger(value) ? undefined : wrong('a whole number');
  if (shape === 'strings') return check(value, list('string'), at);
  if (shape === 'stringMap' || shape === 'boolMap') {
    if (!isObject(value)) return wrong('a mapping');
    const item = shape === 'stringMap' ? 'string' : 'bool';
    for (const [key, entry] of Object.entries(value)) {
      const error = check(entry, item, `${at}.${key}`);
      if (error) return error;
    }
    return undefined;
  }
  if ('list' in shape) {
    if (!Array.isArray(value)) return wrong('a list');
    for (const [i, item] of value.entries()) {
      const error = check(item, shape.list, `${at}[${i}]`);
      if (error) return error;
    }
    return undefined;
  }
  if (!isObject(value)) return wrong('a mapping');
  for (const [key, entry] of Object.entries(value)) {
    const field = shape.fields[key];
    if (!field)
      return `"${at ? `${at}.` : ''}${key}" is not a field kustomize knows`;
    const error = check(entry, field, at ? `${at}.${key}` : key);
    if (error) return error;
  }
  return undefined;
}

const VERSIONS: Record<string, string> = {
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
  Component: 'kustomize.config.k8s.io/v1alpha1',
};

/** Refuses a kustomization that kustomize would refuse to decode, naming the field. */
export function checkKustomization(
  kustomization: Record<string, unknown>,
  file: string,
) {
  const error = check(kustomization, object(KUSTOMIZATION), '');
  if (error) throw new ResolutionError(file, `invalid kustomization: ${error}`);
  const kind = (kustomization.kind as string | undefined) || 'Kustomization';
  if (!VERSIONS[kind]) {
    throw new ResolutionError(
      file,
      'invalid kustomization: kind must be Kustomization or Component',
    );
  }
  const apiVersion = kustomization.apiVersion;
  if (apiVersion && apiVersion !== VERSIONS[kind]) {
    throw new ResolutionError(
      file,
      `invalid kustomization: apiVersion of a ${kind} must be ${VERSIONS[kind]}`,
    );
  }
}
