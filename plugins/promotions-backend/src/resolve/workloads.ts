import { KubernetesObject } from './types';

type Container = { name?: string; image?: unknown; [key: string]: unknown };
type PodSpec = Record<string, unknown>;

const CONTAINER_LISTS = ['initContainers', 'containers'];

/** The pod specs of a workload: Pod, CronJob, and every kind with spec.template.spec. */
export function podSpecs(object: KubernetesObject): PodSpec[] {
  const spec = object.spec as Record<string, any> | undefined;
  if (!spec || typeof spec !== 'object') return [];
  if (object.kind === 'Pod') return [spec];
  const found: PodSpec[] = [];
  const template = spec.template?.spec;
  if (template && typeof template === 'object') found.push(template);
  const jobTemplate = spec.jobTemplate?.spec?.template?.spec;
  if (jobTemplate && typeof jobTemplate === 'object') found.push(jobTemplate);
  return found;
}

/** Every container and init container of a workload, init containers first. */
export function containersOf(object: KubernetesObject): Container[] {
  const result: Container[] = [];
  for (const spec of podSpecs(object)) {
    for (const list of CONTAINER_LISTS) {
      const containers = spec[list];
      if (Array.isArray(containers)) {
        for (const container of containers) {
          if (container && typeof container === 'object') result.push(container as Container);
        }
      }
    }
  }
  return result;
}
