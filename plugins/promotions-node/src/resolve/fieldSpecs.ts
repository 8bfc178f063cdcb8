import { groupVersion } from './schema';
import { KubernetesObject, ResolutionError } from './types';

/**
 * A kustomize field spec: where in objects of some kinds a transformer writes, and whether it
 * creates the field when it is missing. `a/b[]/c` steps into every item of the list `b`.
 */
export interface FieldSpec {
  path: string;
  create?: boolean;
  kind?: string;
  group?: string;
  version?: string;
}

const spec = (
  path: string,
  create: boolean,
  kind?: string,
  group?: string,
  version?: string,
): FieldSpec => ({ path, create, kind, group, version });

const templateMetadata = (field: string): FieldSpec[] => [
  spec(`metadata/${field}`, true),
  spec(
    `spec/template/metadata/${field}`,
    true,
    'ReplicationController',
    undefined,
    'v1',
  ),
  spec(`spec/template/metadata/${field}`, true, 'Deployment'),
  spec(`spec/template/metadata/${field}`, true, 'ReplicaSet'),
  spec(`spec/template/metadata/${field}`, true, 'DaemonSet'),
  spec(`spec/template/metadata/${field}`, true, 'StatefulSet', 'apps'),
  spec(`spec/template/metadata/${field}`, true, 'Job', 'batch'),
  spec(`spec/jobTemplate/metadata/${field}`, true, 'CronJob', 'batch'),
  spec(
    `spec/jobTemplate/spec/template/metadata/${field}`,
    true,
    'CronJob',
    'batch',
  ),
];

/** Where kustomize writes labels that leave selectors alone (`labels` with `includeTemplates`). */
export const TEMPLATE_LABELS: FieldSpec[] = [
  ...templateMetadata('labels'),
  spec(
    'spec/volumeClaimTemplates[]/metadata/labels',
    true,
    'StatefulSet',
    'apps',
  ),
];

const AFFINITY = 'spec/template/spec/affinity';
const podSelectors = (kind: string): FieldSpec[] => [
  spec(
    `${AFFINITY}/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels`,
    false,
    kind,
    'apps',
  ),
  spec(
    `${AFFINITY}/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels`,
    false,
    kind,
    'apps',
  ),
  spec(
    `${AFFINITY}/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels`,
    false,
    kind,
    'apps',
  ),
  spec(
    `${AFFINITY}/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels`,
    false,
    kind,
    'apps',
  ),
  spec(
    'spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels',
    false,
    kind,
    'apps',
  ),
];

/** Where kustomize writes `commonLabels` and `labels` with `includeSelectors`: selectors too. */
export const COMMON_LABELS: FieldSpec[] = [
  spec('spec/selector', true, 'Service', undefined, 'v1'),
  spec('spec/selector', true, 'ReplicationController', undefined, 'v1'),
  spec('spec/selector/matchLabels', true, 'Deployment'),
  ...podSelectors('Deployment'),
  spec('spec/selector/matchLabels', true, 'ReplicaSet'),
  spec('spec/selector/matchLabels', true, 'DaemonSet'),
  spec('spec/selector/matchLabels', true, 'StatefulSet', 'apps'),
  ...podSelectors('StatefulSet'),
  spec('spec/selector/matchLabels', false, 'Job', 'batch'),
  spec('spec/jobTemplate/spec/selector/matchLabels', false, 'CronJob', 'batch'),
  spec('spec/selector/matchLabels', false, 'PodDisruptionBudget', 'policy'),
  spec(
    'spec/podSelector/matchLabels',
    false,
    'NetworkPolicy',
    'networking.k8s.io',
  ),
  spec(
    'spec/ingress/from/podSelector/matchLabels',
    false,
    'NetworkPolicy',
    'networking.k8s.io',
  ),
  spec(
    'spec/egress/to/podSelector/matchLabels',
    false,
    'NetworkPolicy',
    'networking.k8s.io',
  ),
  ...TEMPLATE_LABELS,
];

/** Where kustomize writes `commonAnnotations`. */
export const COMMON_ANNOTATIONS: FieldSpec[] = templateMetadata('annotations');

const isObject = (value: unknown): value is Record<string, any> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function selects(fieldSpec: FieldSpec, object: KubernetesObject): boolean {
  const [group, version] = groupVersion(object.apiVersion);
  return (
    (!fieldSpec.kind || fieldSpec.kind === object.kind) &&
    (!fieldSpec.group || fieldSpec.group === group) &&
    (!fieldSpec.version || fieldSpec.version === version)
  );
}

/**
 * Calls `update` with the mapping at each place a field spec names in an object, creating the
 * path when the spec says so, as kustomize's field spec filter walks it; `update` returns the
 * new mapping.
 */
function visit(
  node: unknown,
  parts: string[],
  create: boolean,
  update: (value: Record<string, unknown>) => Record<string, unknown>,
  where: string,
): unknown {
  if (node === null || node === undefined) return node;
  if (Array.isArray(node))
    return node.map(item => visit(item, parts, create, update, where));
  if (!isObject(node)) {
    throw new ResolutionError(
      where,
      `expected a mapping or list at ${parts.join('/')}`,
    );
  }
  const [part, ...rest] = parts;
  const isList = part.endsWith('[]');
  const field = isList ? part.slice(0, -2) : part;
  let value = node[field];
  if (value === undefined || value === null) {
    if (!create || isList) return node;
    value = {};
  }
  if (rest.length === 0) {
    if (!isObject(value)) {
      throw new ResolutionError(where, `expected a mapping at ${field}`);
    }
    return { ...node, [field]: update(value) };
  }
  return { ...node, [field]: visit(value, rest, create, update, where) };
}

/** Sets string entries (labels, annotations) at every place the field specs name in an object. */
export function setEntries(
  object: KubernetesObject,
  fieldSpecs: FieldSpec[],
  entries: Record<string, string>,
  file: string,
): KubernetesObject {
  let result: unknown = object;
  const seen = new Set<string>();
  for (const fieldSpec of fieldSpecs) {
    const key = JSON.stringify(fieldSpec);
    if (seen.has(key) || !selects(fieldSpec, object)) continue;
    seen.add(key);
    result = visit(
      result,
      fieldSpec.path.split('/'),
      fieldSpec.create ?? false,
      value => ({ ...value, ...entries }),
      file,
    );
  }
  return result as KubernetesObject;
}
