import { KubernetesObject } from './types';

export type Container = {
  name?: string;
  image?: unknown;
  [key: string]: unknown;
};
type PodSpec = Record<string, unknown>;

// Containers before init containers, so that the first image is the workload's own.
const CONTAINER_LISTS = ['containers', 'initContainers'];

const isObject = (value: unknown): value is Record<string, any> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The pod specs of a workload, found by shape as kustomize's images transformer finds them:
 * `spec` (Pod), `spec.template.spec` (Deployment, StatefulSet, DaemonSet, ReplicaSet,
 * ReplicationController, Job, Argo Rollout) and `spec.jobTemplate.spec.template.spec` (CronJob).
 */
export function podSpecs(object: KubernetesObject): PodSpec[] {
  const spec = object.spec;
  if (!isObject(spec)) return [];
  return [
    spec,
    spec.template?.spec,
    spec.jobTemplate?.spec?.template?.spec,
  ].filter(isObject);
}

/** Every container and init container of a workload, in the order they are written. */
export function containersOf(object: KubernetesObject): Container[] {
  return podSpecs(object).flatMap(spec =>
    CONTAINER_LISTS.flatMap(list =>
      Array.isArray(spec[list]) ? (spec[list] as unknown[]) : [],
    ).filter(isObject),
  );
}

/**
 * Every item of every `containers` or `initContainers` list at any depth of an object: where
 * kustomize's images transformer looks for images, a custom resource's pod templates included.
 */
export function everyContainer(node: unknown): Container[] {
  if (Array.isArray(node)) return node.flatMap(everyContainer);
  if (!isObject(node)) return [];
  return Object.entries(node).flatMap(([key, value]) => [
    ...everyContainer(value),
    ...((key === 'containers' || key === 'initContainers') &&
    Array.isArray(value)
      ? value.filter(isObject)
      : []),
  ]);
}
