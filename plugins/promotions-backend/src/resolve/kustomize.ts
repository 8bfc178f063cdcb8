import path from 'node:path';
import { RepositorySnapshot } from '../repository/types';
import { formatImage, parseImage } from './images';
import { applyJsonPatch, clone, JsonPatchOperation, strategicMerge } from './patch';
import { KubernetesObject, ResolutionError } from './types';
import { containersOf } from './workloads';
import { parseYaml, parseYamlDocuments, readText } from './yaml';

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const MAX_DEPTH = 20;
const MAX_RESOURCES = 5000;
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
]);

/** A rendered object and the name it had before any prefix or suffix. */
export interface Resource {
  object: KubernetesObject;
  originalName: string;
}

interface Context {
  snapshot: RepositorySnapshot;
  inputs: Set<string>;
  warnings: string[];
}

const isObject = (value: unknown): value is Record<string, any> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isRemote = (reference: string) =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) ||
  reference.startsWith('git@') ||
  reference.includes('?ref=') ||
  /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(reference);

/** Joins a reference to a directory, refusing anything that leaves the repository. */
function inside(dir: string, reference: string, file: string): string {
  if (path.posix.isAbsolute(reference)) {
    throw new ResolutionError(file, `"${reference}" is an absolute path; it must be relative`);
  }
  const joined = path.posix.normalize(path.posix.join(dir, reference));
  if (joined === '..' || joined.startsWith('../')) {
    throw new ResolutionError(file, `"${reference}" is outside the repository`);
  }
  return joined === '.' ? '' : joined.replace(/\/$/, '');
}

function isDirectory(snapshot: RepositorySnapshot, dir: string): boolean {
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const file of snapshot.files.keys()) if (file.startsWith(prefix)) return true;
  return false;
}

function kustomizationFile(snapshot: RepositorySnapshot, dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map(name => (dir ? `${dir}/${name}` : name)).find(f => snapshot.files.has(f));
}

function stringList(value: unknown, field: string, file: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some(item => typeof item !== 'string')) {
    throw new ResolutionError(file, `"${field}" must be a list of strings`);
  }
  return value;
}

function asObjects(documents: unknown[], file: string): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const document of documents) {
    if (isObject(document) && document.kind === 'List' && Array.isArray(document.items)) {
      objects.push(...asObjects(document.items, file));
      continue;
    }
    if (!isObject(document) || typeof document.kind !== 'string' || !isObject(document.metadata) || typeof document.metadata.name !== 'string') {
      throw new ResolutionError(file, 'every document must be a Kubernetes object with kind and metadata.name');
    }
    objects.push(document as KubernetesObject);
  }
  return objects;
}

async function loadObjects(ctx: Context, file: string): Promise<KubernetesObject[]> {
  ctx.inputs.add(file);
  return asObjects(parseYamlDocuments(await readText(ctx.snapshot, file), file), file);
}

/** Builds the kustomization in `dir` and returns what it renders. */
export async function buildKustomization(snapshot: RepositorySnapshot, dir: string) {
  const ctx: Context = { snapshot, inputs: new Set(), warnings: [] };
  const resources = await build(ctx, dir, null, []);
  return { resources, inputs: [...ctx.inputs].sort(), warnings: ctx.warnings };
}

async function build(ctx: Context, dir: string, inherited: Resource[] | null, stack: string[]): Promise<Resource[]> {
  const file = kustomizationFile(ctx.snapshot, dir);
  if (!file) {
    throw new ResolutionError(dir || '.', `no kustomization.yaml in "${dir || '.'}"`);
  }
  if (stack.includes(dir)) {
    throw new ResolutionError(file, `kustomizations refer to each other in a cycle: ${[...stack, dir].join(' -> ')}`);
  }
  if (stack.length >= MAX_DEPTH) {
    throw new ResolutionError(file, `kustomizations are nested more than ${MAX_DEPTH} deep`);
  }
  ctx.inputs.add(file);
  const kustomization = parseYaml(await readText(ctx.snapshot, file), file);
  if (!isObject(kustomization)) throw new ResolutionError(file, 'a kustomization must be a YAML mapping');
  const innerStack = [...stack, dir];

  let resources: Resource[] = inherited ? [...inherited] : [];
  const add = (objects: KubernetesObject[]) => {
    resources.push(...objects.map(object => ({ object, originalName: object.metadata.name })));
    if (resources.length > MAX_RESOURCES) {
      throw new ResolutionError(file, `renders more than ${MAX_RESOURCES} objects`);
    }
  };

  for (const reference of [
    ...stringList(kustomization.resources, 'resources', file),
    ...stringList(kustomization.bases, 'bases', file),
  ]) {
    if (isRemote(reference)) {
      ctx.warnings.push(`${file}: remote resource "${reference}" was not read`);
      continue;
    }
    const target = inside(dir, reference, file);
    if (ctx.snapshot.files.has(target)) add(await loadObjects(ctx, target));
    else if (isDirectory(ctx.snapshot, target)) {
      const built = await build(ctx, target, null, innerStack);
      resources.push(...built);
    } else throw new ResolutionError(file, `resource "${reference}" not found`);
  }

  for (const reference of stringList(kustomization.components, 'components', file)) {
    if (isRemote(reference)) {
      ctx.warnings.push(`${file}: remote component "${reference}" was not read`);
      continue;
    }
    resources = await build(ctx, inside(dir, reference, file), resources, innerStack);
  }

  resources = await generate(ctx, dir, file, kustomization, resources);
  resources = await patch(ctx, dir, file, kustomization, resources);
  transformMetadata(kustomization, resources);
  setReplicas(kustomization, resources, file);
  setImages(kustomization, resources, file);
  return resources;
}

async function generate(
  ctx: Context,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
  resources: Resource[],
): Promise<Resource[]> {
  const result = [...resources];
  for (const [field, kind] of [
    ['configMapGenerator', 'ConfigMap'],
    ['secretGenerator', 'Secret'],
  ] as const) {
    const generators = kustomization[field] ?? [];
    if (!Array.isArray(generators)) throw new ResolutionError(file, `"${field}" must be a list`);
    for (const generator of generators) {
      if (!isObject(generator) || typeof generator.name !== 'string') {
        throw new ResolutionError(file, `every ${field} entry needs a name`);
      }
      const data: Record<string, string> = {};
      for (const literal of stringList(generator.literals, `${field}.literals`, file)) {
        const eq = literal.indexOf('=');
        if (eq <= 0) throw new ResolutionError(file, `literal "${literal}" is not KEY=VALUE`);
        data[literal.slice(0, eq)] = literal.slice(eq + 1).replace(/^"(.*)"$/, '$1');
      }
      for (const envFile of stringList(generator.envs ?? (generator.env ? [generator.env] : []), `${field}.envs`, file)) {
        const target = inside(dir, envFile, file);
        ctx.inputs.add(target);
        for (const line of (await readText(ctx.snapshot, target)).split(/\r?\n/)) {
          const trimmed = line.trim();
          if (!trimmed || trimmed.startsWith('#')) continue;
          const eq = trimmed.indexOf('=');
          if (eq <= 0) throw new ResolutionError(target, `line "${trimmed}" is not KEY=VALUE`);
          data[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
        }
      }
      for (const entry of stringList(generator.files, `${field}.files`, file)) {
        const eq = entry.indexOf('=');
        const key = eq > 0 ? entry.slice(0, eq) : path.posix.basename(entry);
        const target = inside(dir, eq > 0 ? entry.slice(eq + 1) : entry, file);
        ctx.inputs.add(target);
        data[key] = await readText(ctx.snapshot, target);
      }
      const behavior = generator.behavior ?? 'create';
      const existing = result.find(r => r.object.kind === kind && r.originalName === generator.name);
      if (behavior === 'merge' || behavior === 'replace') {
        if (!existing) {
          throw new ResolutionError(file, `${field} "${generator.name}" has behavior ${behavior} but no ${kind} of that name exists`);
        }
        const previous = behavior === 'merge' ? ((existing.object.data as Record<string, string>) ?? {}) : {};
        existing.object = { ...existing.object, data: { ...previous, ...data } };
        continue;
      }
      const object: KubernetesObject = {
        apiVersion: 'v1',
        kind,
        metadata: { name: generator.name, ...(generator.namespace ? { namespace: generator.namespace } : {}) },
        data,
        ...(kind === 'Secret' ? { type: generator.type ?? 'Opaque' } : {}),
      };
      result.push({ object, originalName: generator.name });
    }
  }
  return result;
}

interface Target {
  kind?: string;
  name?: string;
  namespace?: string;
  group?: string;
  version?: string;
  labelSelector?: string;
  annotationSelector?: string;
}

function selectorMatches(selector: string, values: Record<string, string> | undefined): boolean {
  return selector
    .split(',')
    .map(term => term.trim())
    .filter(Boolean)
    .every(term => {
      const [key, value] = term.split(/!?=/).map(s => s.trim());
      const actual = values?.[key];
      if (term.includes('!=')) return actual !== value;
      return value === undefined ? actual !== undefined : actual === value;
    });
}

function targetMatches(target: Target, resource: Resource): boolean {
  const { object } = resource;
  const [group, version] = (object.apiVersion ?? '').includes('/')
    ? (object.apiVersion as string).split('/')
    : ['', object.apiVersion ?? ''];
  const anchored = (pattern: string, value: string) => new RegExp(`^(?:${pattern})$`).test(value);
  if (target.kind && !anchored(target.kind, object.kind)) return false;
  if (target.name && !anchored(target.name, object.metadata.name) && !anchored(target.name, resource.originalName)) {
    return false;
  }
  if (target.namespace && !anchored(target.namespace, object.metadata.namespace ?? '')) return false;
  if (target.group !== undefined && target.group !== group) return false;
  if (target.version && target.version !== version) return false;
  if (target.labelSelector && !selectorMatches(target.labelSelector, object.metadata.labels)) return false;
  if (target.annotationSelector && !selectorMatches(target.annotationSelector, object.metadata.annotations)) {
    return false;
  }
  return true;
}

async function patchContent(ctx: Context, dir: string, file: string, entry: string | Record<string, any>) {
  if (typeof entry === 'string') {
    const inline = entry.includes('\n') || /^\s*(apiVersion|kind|-)\b/.test(entry);
    if (inline) return { documents: parseYamlDocuments(entry, file), source: file };
    const target = inside(dir, entry, file);
    ctx.inputs.add(target);
    return { documents: parseYamlDocuments(await readText(ctx.snapshot, target), target), source: target };
  }
  if (typeof entry.path === 'string') return patchContent(ctx, dir, file, entry.path);
  if (typeof entry.patch === 'string') return { documents: parseYamlDocuments(entry.patch, file), source: file };
  throw new ResolutionError(file, 'a patch needs a path or an inline patch');
}

async function patch(
  ctx: Context,
  dir: string,
  file: string,
  kustomization: Record<string, any>,
  resources: Resource[],
): Promise<Resource[]> {
  let result = resources;
  const entries: Array<{ entry: string | Record<string, any>; target?: Target }> = [];
  for (const entry of kustomization.patchesStrategicMerge ?? []) entries.push({ entry });
  for (const entry of [...(kustomization.patches ?? []), ...(kustomization.patchesJson6902 ?? [])]) {
    if (!isObject(entry) && typeof entry !== 'string') throw new ResolutionError(file, 'every patch must be a mapping or a path');
    entries.push({ entry, target: isObject(entry) && isObject(entry.target) ? (entry.target as Target) : undefined });
  }

  for (const { entry, target } of entries) {
    const { documents, source } = await patchContent(ctx, dir, file, entry);
    // A YAML list of operations is a JSON 6902 patch; anything else is a strategic merge patch.
    if (documents.length === 1 && Array.isArray(documents[0])) {
      if (!target) throw new ResolutionError(source, 'a JSON 6902 patch needs a target');
      let matched = false;
      result = result.map(resource => {
        if (!targetMatches(target, resource)) return resource;
        matched = true;
        try {
          const object = applyJsonPatch(resource.object, documents[0] as JsonPatchOperation[]) as KubernetesObject;
          return { ...resource, object };
        } catch (error) {
          throw new ResolutionError(source, (error as Error).message);
        }
      });
      if (!matched) ctx.warnings.push(`${source}: patch target matches no resource`);
      continue;
    }
    for (const document of documents) {
      if (!isObject(document)) throw new ResolutionError(source, 'a strategic merge patch must be a mapping');
      const selector: Target = target ?? {
        kind: document.kind,
        name: document.metadata?.name?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      };
      if (!selector.kind && !selector.name) {
        throw new ResolutionError(source, 'a strategic merge patch needs kind and metadata.name, or a target');
      }
      let matched = false;
      const next: Resource[] = [];
      for (const resource of result) {
        if (!targetMatches(selector, resource)) {
          next.push(resource);
          continue;
        }
        matched = true;
        const body = clone(document) as Record<string, any>;
        if (target && body.metadata) delete body.metadata.name;
        const merged = strategicMerge(resource.object, body) as KubernetesObject | undefined;
        if (merged) next.push({ ...resource, object: merged });
      }
      if (!matched) ctx.warnings.push(`${source}: patch matches no resource`);
      result = next;
    }
  }
  return result;
}

function transformMetadata(kustomization: Record<string, any>, resources: Resource[]) {
  const labels: Record<string, string> = { ...(kustomization.commonLabels ?? {}) };
  for (const entry of kustomization.labels ?? []) Object.assign(labels, entry?.pairs ?? {});
  const annotations: Record<string, string> = { ...(kustomization.commonAnnotations ?? {}) };
  for (const resource of resources) {
    const metadata = { ...resource.object.metadata };
    if (typeof kustomization.namespace === 'string' && !CLUSTER_SCOPED.has(resource.object.kind)) {
      metadata.namespace = kustomization.namespace;
    }
    if (resource.object.kind !== 'Namespace' && resource.object.kind !== 'CustomResourceDefinition') {
      metadata.name = `${kustomization.namePrefix ?? ''}${metadata.name}${kustomization.nameSuffix ?? ''}`;
    }
    if (Object.keys(labels).length > 0) metadata.labels = { ...metadata.labels, ...labels };
    if (Object.keys(annotations).length > 0) metadata.annotations = { ...metadata.annotations, ...annotations };
    resource.object = { ...resource.object, metadata };
  }
}

function setReplicas(kustomization: Record<string, any>, resources: Resource[], file: string) {
  for (const entry of kustomization.replicas ?? []) {
    if (!isObject(entry) || typeof entry.name !== 'string' || typeof entry.count !== 'number') {
      throw new ResolutionError(file, 'every replicas entry needs a name and a numeric count');
    }
    for (const resource of resources) {
      if (resource.originalName === entry.name || resource.object.metadata.name === entry.name) {
        if (isObject(resource.object.spec)) {
          resource.object = { ...resource.object, spec: { ...resource.object.spec, replicas: entry.count } };
        }
      }
    }
  }
}

function setImages(kustomization: Record<string, any>, resources: Resource[], file: string) {
  const images = kustomization.images ?? [];
  if (!Array.isArray(images)) throw new ResolutionError(file, '"images" must be a list');
  for (const entry of images) {
    if (!isObject(entry) || typeof entry.name !== 'string') {
      throw new ResolutionError(file, 'every images entry needs a name');
    }
    for (const resource of resources) {
      for (const container of containersOf(resource.object)) {
        if (typeof container.image !== 'string') continue;
        const image = parseImage(container.image);
        if (image.name !== entry.name) continue;
        const next = { ...image };
        if (typeof entry.newName === 'string') next.name = entry.newName;
        if (entry.newTag !== undefined && entry.newTag !== null) {
          next.tag = String(entry.newTag);
          next.digest = null;
        }
        // A digest pins the image; the tag stays, so people see which version it is.
        if (typeof entry.digest === 'string') next.digest = entry.digest;
        container.image = formatImage(next);
      }
    }
  }
}
