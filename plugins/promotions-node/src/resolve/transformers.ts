import { RE2JS } from 're2js';
import {
  COMMON_ANNOTATIONS,
  COMMON_LABELS,
  FieldSpec,
  setEntries,
  TEMPLATE_LABELS,
} from './fieldSpecs';
import { idsOf, isObject, Resource, withObject } from './resources';
import { groupVersion, isClusterScoped } from './schema';
import { KubernetesObject, ResolutionError } from './types';
import { everyContainer } from './workloads';

/** Kinds `replicas` scales, and the only ones: kustomize refuses a name that is none of these. */
const SCALABLE = [
  'Deployment',
  'ReplicationController',
  'ReplicaSet',
  'StatefulSet',
];

const stringMap = (value: unknown): Record<string, string> =>
  isObject(value) ? (value as Record<string, string>) : {};

/** Whether kustomize keeps an object's name as it is under `namePrefix` and `nameSuffix`. */
function keepsName(resource: Resource): boolean {
  const { kind, apiVersion } = resource.object;
  const [group] = groupVersion(apiVersion);
  return (
    kind === 'Namespace' ||
    kind === 'CustomResourceDefinition' ||
    (kind === 'APIService' && group === 'apiregistration.k8s.io')
  );
}

/** Where the namespace transformer writes besides `metadata.namespace`. */
function namespaceFields(object: KubernetesObject, namespace: string) {
  const [group] = groupVersion(object.apiVersion);
  const result: Record<string, any> = structuredClone(object);
  // kustomize renames a Namespace object after the namespace it sets.
  if (object.kind === 'Namespace' && object.apiVersion === 'v1')
    result.metadata.name = namespace;
  if (object.kind === 'APIService' && group === 'apiregistration.k8s.io') {
    const spec = isObject(result.spec) ? result.spec : {};
    const service = isObject(spec.service) ? spec.service : {};
    result.spec = { ...spec, service: { ...service, namespace } };
  }
  const service =
    result.spec?.conversion?.webhook?.clientConfig?.service ?? undefined;
  if (
    object.kind === 'CustomResourceDefinition' &&
    group === 'apiextensions.k8s.io' &&
    isObject(service) &&
    'namespace' in service
  )
    service.namespace = namespace;
  // Binding subjects named `default` follow the namespace (kustomize's defaultOnly mode).
  if (
    (object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding') &&
    Array.isArray(result.subjects)
  ) {
    for (const subject of result.subjects) {
      if (isObject(subject) && subject.name === 'default')
        subject.namespace = namespace;
    }
  }
  return result as KubernetesObject;
}

function setNamespace(resource: Resource, namespace: string): Resource {
  const object = namespaceFields(resource.object, namespace);
  if (!isClusterScoped(object))
    object.metadata = { ...object.metadata, namespace };
  return withObject(resource, object);
}

function rename(resource: Resource, prefix: string, suffix: string): Resource {
  if (keepsName(resource)) return resource;
  const { metadata } = resource.object;
  return withObject(resource, {
    ...resource.object,
    metadata: { ...metadata, name: `${prefix}${metadata.name}${suffix}` },
  });
}

/** The label transformers of `labels` entries, then that of `commonLabels`, in kustomize's order. */
function labelTransformers(
  kustomization: Record<string, any>,
): Array<[Record<string, string>, FieldSpec[]]> {
  const entries: Array<Record<string, any>> = (
    kustomization.labels ?? []
  ).filter(isObject);
  const transformers = entries.map(
    (entry): [Record<string, string>, FieldSpec[]] => {
      const own: FieldSpec[] = (entry.fields ?? []).filter(isObject);
      if (entry.includeSelectors)
        return [stringMap(entry.pairs), [...own, ...COMMON_LABELS]];
      const templates = entry.includeTemplates ? TEMPLATE_LABELS : [];
      return [
        stringMap(entry.pairs),
        [...own, ...templates, { path: 'metadata/labels', create: true }],
      ];
    },
  );
  return [
    ...transformers,
    [stringMap(kustomization.commonLabels), COMMON_LABELS],
  ];
}

/**
 * `namespace`, `namePrefix` and `nameSuffix`, then `labels` and `commonLabels` (selectors and
 * pod templates included where kustomize includes them), then `commonAnnotations`.
 */
export function transformMetadata(
  kustomization: Record<string, any>,
  resources: Resource[],
  file: string,
): Resource[] {
  const namespace: string = kustomization.namespace ?? '';
  const prefix: string = kustomization.namePrefix ?? '';
  const suffix: string = kustomization.nameSuffix ?? '';
  const annotations = stringMap(kustomization.commonAnnotations);
  const labelings = labelTransformers(kustomization).filter(
    ([labels]) => Object.keys(labels).length > 0,
  );
  return resources.map(resource => {
    let result = namespace ? setNamespace(resource, namespace) : resource;
    // Two steps, as kustomize takes them: the name with only the prefix is one it had too.
    if (prefix) result = rename(result, prefix, '');
    if (suffix) result = rename(result, '', suffix);
    let object = result.object;
    for (const [labels, fieldSpecs] of labelings)
      object = setEntries(object, fieldSpecs, labels, file);
    if (Object.keys(annotations).length > 0)
      object = setEntries(object, COMMON_ANNOTATIONS, annotations, file);
    return { ...result, object };
  });
}

/**
 * `replicas: [{name, count}]` on Deployments, ReplicationControllers, ReplicaSets and
 * StatefulSets with that name now or before; like kustomize, a name none of them has fails.
 */
export function setReplicas(
  kustomization: Record<string, any>,
  resources: Resource[],
  file: string,
): Resource[] {
  let result = resources;
  for (const entry of kustomization.replicas ?? []) {
    if (!isObject(entry)) continue;
    const count = Number(entry.count ?? 0);
    let found = false;
    result = result.map(resource => {
      const { object } = resource;
      const named = idsOf(resource).some(id => id.name === entry.name);
      if (!named || !SCALABLE.includes(object.kind)) return resource;
      found = true;
      const spec = isObject(object.spec) ? object.spec : {};
      return {
        ...resource,
        object: { ...object, spec: { ...spec, replicas: count } },
      };
    });
    if (!found) {
      throw new ResolutionError(
        file,
        `replicas "${entry.name}": no Deployment, ReplicationController, ReplicaSet or StatefulSet has that name`,
      );
    }
  }
  return result;
}

/** An image entry of a kustomization. */
export interface ImageEntry {
  name?: string;
  newName?: string;
  newTag?: string;
  digest?: string;
  tagSuffix?: string;
}

/** Longest image reference the transformer looks at; real ones are far shorter. */
const MAX_IMAGE_LENGTH = 4096;

/**
 * kustomize's image match: the entry's name is a regular expression (RE2 here, as Go's) for
 * the whole name, followed by an optional tag and an optional sha256 digest.
 */
function imageMatcher(name: string, file: string): (image: string) => boolean {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(
      `^(?:${name})(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`,
    );
  } catch {
    throw new ResolutionError(
      file,
      `images name "${name}" is not a valid regular expression (RE2 syntax)`,
    );
  }
  return image => image.length <= MAX_IMAGE_LENGTH && compiled.matches(image);
}

/** kustomize's split of an image reference into name, tag and digest. */
export function splitImage(image: string): [string, string, string] {
  const slash = image.indexOf('/');
  const start = slash > 0 ? slash : 0;
  const rest = image.slice(start);
  const at = rest.indexOf('@');
  const colon = rest.indexOf(':');
  if (colon < 0 && at < 0) return [image, '', ''];
  if (at >= 0 && (at < colon || colon < 0))
    return [image.slice(0, start + at), '', image.slice(start + at + 1)];
  if (at >= 0)
    return [
      image.slice(0, start + colon),
      image.slice(start + colon + 1, start + at),
      image.slice(start + at + 1),
    ];
  return [image.slice(0, start + colon), image.slice(start + colon + 1), ''];
}

function updatedImage(image: string, entry: ImageEntry): string {
  let [name, tag, digest] = splitImage(image);
  if (entry.newName) name = entry.newName;
  // A new tag or digest replaces both the tag and the digest the image had.
  if (entry.newTag && entry.digest)
    [tag, digest] = [entry.newTag, entry.digest];
  else if (entry.newTag) [tag, digest] = [entry.newTag, ''];
  else if (entry.digest) [tag, digest] = ['', entry.digest];
  else if (entry.tagSuffix) [tag, digest] = [tag + entry.tagSuffix, ''];
  return `${name}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
}

type Update = (container: Record<string, any>) => void;

/** The image fields kustomize's images field specs name; they are updated a second time. */
function imageFieldSpecs(object: Record<string, any>, update: Update) {
  for (const spec of [object.spec, object.spec?.template?.spec]) {
    for (const list of ['containers', 'initContainers']) {
      const containers = isObject(spec) ? spec[list] : undefined;
      if (!Array.isArray(containers)) continue;
      for (const container of containers)
        if (isObject(container)) update(container);
    }
  }
}

/**
 * The `images` transformer (and the deprecated `imageTags`), as kustomize v5.5 runs it: each
 * entry in turn, over every container list at any depth, then again over the field specs.
 * A `tagSuffix` is therefore added twice where both find the image, exactly as kustomize does.
 */
export function setImages(
  kustomization: Record<string, any>,
  resources: Resource[],
  file: string,
): Resource[] {
  const entries: ImageEntry[] = [
    ...(kustomization.images ?? []),
    ...(kustomization.imageTags ?? []),
  ].filter(isObject);
  if (entries.length === 0) return resources;
  const updates = entries.map(entry => {
    const matches = imageMatcher(entry.name ?? '', file);
    return (container: Record<string, any>) => {
      if (typeof container.image === 'string' && matches(container.image))
        container.image = updatedImage(container.image, entry);
    };
  });
  return resources.map(resource => {
    if (resource.object.kind === 'CustomResourceDefinition') return resource;
    const object = structuredClone(resource.object);
    for (const update of updates) {
      everyContainer(object).forEach(update);
      imageFieldSpecs(object, update);
    }
    return { ...resource, object };
  });
}
