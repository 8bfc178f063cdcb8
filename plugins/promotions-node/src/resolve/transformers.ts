import { formatImage, parseImage } from './images';
import { isObject, Resource } from './resources';
import { ResolutionError } from './types';
import { containersOf } from './workloads';

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
]);
/** Kinds whose names kustomize never prefixes or suffixes. */
const KEEP_NAME = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'APIService',
]);
const SCALABLE = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'ReplicationController',
  'Rollout',
]);

function optionalString(
  kustomization: Record<string, any>,
  field: string,
  file: string,
): string {
  const value = kustomization[field] ?? '';
  if (typeof value !== 'string')
    throw new ResolutionError(file, `"${field}" must be a string`);
  return value;
}

function stringMap(
  value: unknown,
  field: string,
  file: string,
): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value))
    throw new ResolutionError(file, `"${field}" must be a mapping`);
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, String(item)]),
  );
}

/** `namespace`, `namePrefix`, `nameSuffix`, `commonLabels`, `labels` and `commonAnnotations`, on metadata. */
export function transformMetadata(
  kustomization: Record<string, any>,
  resources: Resource[],
  file: string,
): Resource[] {
  const namespace = optionalString(kustomization, 'namespace', file);
  const prefix = optionalString(kustomization, 'namePrefix', file);
  const suffix = optionalString(kustomization, 'nameSuffix', file);
  const labels = stringMap(kustomization.commonLabels, 'commonLabels', file);
  const labelEntries = Array.isArray(kustomization.labels)
    ? kustomization.labels
    : [];
  for (const entry of labelEntries) {
    Object.assign(labels, stringMap(entry?.pairs, 'labels.pairs', file));
  }
  const annotations = stringMap(
    kustomization.commonAnnotations,
    'commonAnnotations',
    file,
  );
  return resources.map(resource => {
    const { kind } = resource.object;
    const metadata = { ...resource.object.metadata };
    if (namespace && !CLUSTER_SCOPED.has(kind)) metadata.namespace = namespace;
    if (!KEEP_NAME.has(kind))
      metadata.name = `${prefix}${metadata.name}${suffix}`;
    if (Object.keys(labels).length > 0)
      metadata.labels = { ...metadata.labels, ...labels };
    if (Object.keys(annotations).length > 0)
      metadata.annotations = { ...metadata.annotations, ...annotations };
    return { ...resource, object: { ...resource.object, metadata } };
  });
}

/** `replicas: [{name, count}]`, matched by current or original name. */
export function setReplicas(
  kustomization: Record<string, any>,
  resources: Resource[],
  file: string,
): Resource[] {
  const entries = kustomization.replicas ?? [];
  if (!Array.isArray(entries))
    throw new ResolutionError(file, '"replicas" must be a list');
  let result = resources;
  for (const entry of entries) {
    const count = Number(entry?.count);
    if (
      !isObject(entry) ||
      typeof entry.name !== 'string' ||
      !Number.isInteger(count) ||
      count < 0
    ) {
      throw new ResolutionError(
        file,
        'every replicas entry needs a name and a whole-number count',
      );
    }
    result = result.map(resource => {
      const { object, originalName } = resource;
      const named =
        originalName === entry.name || object.metadata.name === entry.name;
      if (!named || !SCALABLE.has(object.kind)) return resource;
      return {
        ...resource,
        object: {
          ...object,
          spec: {
            ...(isObject(object.spec) ? object.spec : {}),
            replicas: count,
          },
        },
      };
    });
  }
  return result;
}

/**
 * The `images` transformer: containers whose image name equals an entry's `name` get its
 * `newName`, `newTag` and `digest`. A digest pins the image, but the tag stays so that people
 * see which version is pinned.
 */
export function setImages(
  kustomization: Record<string, any>,
  resources: Resource[],
  file: string,
): Resource[] {
  const entries = kustomization.images ?? [];
  if (!Array.isArray(entries))
    throw new ResolutionError(file, '"images" must be a list');
  for (const entry of entries) {
    if (!isObject(entry) || typeof entry.name !== 'string') {
      throw new ResolutionError(file, 'every images entry needs a name');
    }
  }
  if (entries.length === 0) return resources;
  return resources.map(resource => {
    const object = structuredClone(resource.object);
    // Entries apply one after another, as kustomize runs them: a renamed image can match a later entry.
    for (const entry of entries) {
      for (const container of containersOf(object)) {
        if (typeof container.image !== 'string') continue;
        const image = parseImage(container.image);
        if (image.name !== entry.name) continue;
        if (typeof entry.newName === 'string' && entry.newName)
          image.name = entry.newName;
        if (
          entry.newTag !== undefined &&
          entry.newTag !== null &&
          entry.newTag !== ''
        ) {
          image.tag = String(entry.newTag);
          image.digest = null;
        }
        // As kustomize: a digest without newTag replaces the whole reference (name@digest).
        if (typeof entry.digest === 'string' && entry.digest) {
          image.digest = entry.digest;
          if (
            entry.newTag === undefined ||
            entry.newTag === null ||
            entry.newTag === ''
          )
            image.tag = null;
        }
        container.image = formatImage(image);
      }
    }
    return { ...resource, object };
  });
}
