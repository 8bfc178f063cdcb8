import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

/**
 * The judge of the resolver: what `kubectl kustomize` (kustomize v5.5) renders for an environment,
 * normalised the way the resolver's `comparable` objects are, so that both can be compared.
 * Used by tests only; the resolver never runs kustomize.
 */

type Json = Record<string, any>;

export type Rendered = { objects: Json[] } | { error: string };

export interface Image {
  name: string;
  tag: string | null;
  digest: string | null;
}

const ORIGIN = 'config.kubernetes.io/origin';
const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const run = promisify(execFile);

/** A repository and the environments in it to build. */
export interface Repository {
  files: Record<string, string>;
  environments: string[];
}

/**
 * Writes each repository to a temporary directory and builds its environments with
 * `kubectl kustomize`, a few at a time over all repositories. Each environment's kustomization
 * asks for origin annotations (`buildMetadata`), which say which file each object came from.
 */
export async function kustomizeBuild(
  repositories: Repository[],
  concurrency = 4,
): Promise<Array<Map<string, Rendered>>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kustomize-judge-'));
  try {
    const jobs = repositories.flatMap(({ files, environments }, i) => {
      const dir = path.join(root, String(i));
      for (const [file, content] of Object.entries(files)) {
        const target = path.join(dir, file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, content);
      }
      for (const environment of environments) askForOrigins(dir, environment);
      return environments.map(environment => ({ i, environment, dir }));
    });
    const results = repositories.map(() => new Map<string, Rendered>());
    const worker = async () => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const rendered = await build(path.join(job.dir, job.environment));
        results[job.i].set(job.environment, rendered);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return results;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function askForOrigins(root: string, environment: string) {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map(name => path.join(root, environment, name))
    .find(candidate => fs.existsSync(candidate));
  if (!file) return;
  const text = fs.readFileSync(file, 'utf8');
  // Appended as text: parsing and writing the YAML again could change what it says.
  if (/^buildMetadata:/m.test(text) || /^\s*\{/.test(text)) return;
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  fs.writeFileSync(
    file,
    `${text}${separator}buildMetadata: [originAnnotations]\n`,
  );
}

async function build(dir: string): Promise<Rendered> {
  try {
    const { stdout } = await run('kubectl', ['kustomize', dir], {
      maxBuffer: 64 * 1024 * 1024,
      // Nothing of the test's own environment reaches the build, but for a variable named by a
      // key-only line of the cases' env files: kustomize must leave its value empty all the same.
      env: {
        PATH: process.env.PATH,
        HOME: os.tmpdir(),
        FEATURE_FROM_CI: 'set where kustomize runs',
      },
    });
    const objects = parseAllDocuments(stdout)
      .map(doc => doc.toJS())
      .filter(isObject);
    return { objects };
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    return { error: (stderr || message).trim() };
  }
}

/** Pod specs of the workload kinds the suite reads images from. */
const POD_SPEC_PATHS: Record<string, string[][]> = {
  Pod: [['spec']],
  CronJob: [['spec', 'jobTemplate', 'spec', 'template', 'spec']],
  ...Object.fromEntries(
    [
      'Deployment',
      'StatefulSet',
      'DaemonSet',
      'Job',
      'ReplicaSet',
      'ReplicationController',
      'Rollout',
    ].map(kind => [kind, [['spec', 'template', 'spec']]]),
  ),
};

const at = (value: unknown, keys: string[]) =>
  keys.reduce<unknown>(
    (node, key) => (isObject(node) ? node[key] : undefined),
    value,
  );

/** An image reference split as `[registry[:port]/]path[:tag][@digest]`. */
export function splitImage(reference: string): Image {
  const [rest, digest = null] = reference.split('@', 2);
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  }
  return { name: rest, tag: null, digest };
}

/** The workload kinds that carry containers: the cases must render each with its images. */
export const WORKLOAD_KINDS = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Pod',
  'Rollout',
];

/** Every container and init container of the workloads among `objects`, with its image. */
function workloadContainers(objects: Json[]) {
  return objects.flatMap(object =>
    (POD_SPEC_PATHS[object.kind] ?? []).flatMap(keys =>
      ['containers', 'initContainers'].flatMap(list => {
        const containers = at(at(object, keys), [list]);
        return (Array.isArray(containers) ? containers : [])
          .filter(c => typeof c?.image === 'string')
          .map(c => ({ object, list, name: c.name, image: c.image as string }));
      }),
    ),
  );
}

/** Each container's image in each workload, as `Kind/name containers/container image`, sorted. */
export const containerImages = (objects: Json[]) =>
  workloadContainers(objects)
    .map(
      c =>
        `${c.object.kind}/${c.object.metadata?.name} ${c.list}/${c.name} ${c.image}`,
    )
    .sort();

/** The images of every container and init container of the workloads kustomize rendered. */
export const imagesOf = (objects: Json[]): Image[] =>
  workloadContainers(objects).map(c => splitImage(c.image));

/** Images as sorted, deduplicated strings, to compare two lists regardless of order. */
export const imageSet = (images: Image[]) =>
  [...new Set(images.map(i => JSON.stringify([i.name, i.tag, i.digest])))]
    .sort()
    .map(i => JSON.parse(i) as [string, string | null, string | null]);

function documentsOf(text: string): Json[] {
  try {
    return parseAllDocuments(text)
      .map(doc => doc.toJS())
      .flatMap(doc =>
        isObject(doc) && Array.isArray(doc.items) ? doc.items : [doc],
      )
      .filter(isObject);
  } catch {
    return [];
  }
}

function generatorNames(text: string, kind: string): string[] {
  const [kustomization] = documentsOf(text);
  const field = kind === 'Secret' ? 'secretGenerator' : 'configMapGenerator';
  const generators = kustomization?.[field];
  return Array.isArray(generators)
    ? generators.map(g => g?.name).filter(n => typeof n === 'string')
    : [];
}

/** Names an object of this kind may have had in the repository: in its origin file, else anywhere. */
function candidateNames(
  files: Record<string, string>,
  environment: string,
  object: Json,
): string[] {
  const { kind } = object;
  const origin = documentsOf(object.metadata?.annotations?.[ORIGIN] ?? '')[0];
  const named = (docs: Json[]) =>
    docs
      .filter(
        doc => doc.kind === kind && typeof doc.metadata?.name === 'string',
      )
      .map(doc => doc.metadata.name as string);
  if (origin?.path || origin?.configuredIn) {
    const file = path.posix.normalize(
      path.posix.join(environment, origin.path ?? origin.configuredIn),
    );
    const text = files[file] ?? '';
    return origin.path ? named(documentsOf(text)) : generatorNames(text, kind);
  }
  return Object.entries(files).flatMap(([file, text]) =>
    KUSTOMIZATION.test(file)
      ? generatorNames(text, kind)
      : named(documentsOf(text)),
  );
}

/**
 * The name an object had before kustomize prefixed, suffixed or hashed it: the longest name of
 * its kind, from the file it came from, that its rendered name contains.
 */
function originalName(
  files: Record<string, string>,
  environment: string,
  object: Json,
): string {
  const rendered: string = object.metadata.name;
  const candidates = candidateNames(files, environment, object);
  const contained = candidates
    .filter(name => rendered.includes(name))
    .sort((a, b) => b.length - a.length);
  if (contained.length > 0) return contained[0];
  // The namespace transformer renames a Namespace object to the namespace it sets.
  return new Set(candidates).size === 1 ? candidates[0] : rendered;
}

function replaceReferences(
  value: unknown,
  names: Map<string, string>,
): unknown {
  if (typeof value === 'string') return names.get(value) ?? value;
  if (Array.isArray(value))
    return value.map(item => replaceReferences(item, names));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      replaceReferences(item, names),
    ]),
  );
}

/** Removes `image` from every item of every `containers` or `initContainers` list, at any depth. */
function withoutImages(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutImages);
  if (!isObject(value)) return value;
  const result: Json = {};
  for (const [key, item] of Object.entries(value)) {
    if (
      (key === 'containers' || key === 'initContainers') &&
      Array.isArray(item)
    ) {
      result[key] = item.map(container => {
        if (!isObject(container)) return withoutImages(container);
        const { image: _image, ...rest } = container;
        return withoutImages(rest);
      });
    } else result[key] = withoutImages(item);
  }
  return result;
}

/**
 * Kustomize's output in the resolver's comparable form: each object named by its original name
 * (references to renamed or hashed objects too), without namespace, images and the origin
 * annotation the judge asked for.
 */
export function comparableOf(
  objects: Json[],
  files: Record<string, string>,
  environment: string,
): Array<{ id: string; body: unknown }> {
  const originals = objects.map(object =>
    originalName(files, environment, object),
  );
  const renamed = new Map<string, string>();
  objects.forEach((object, i) => {
    // A Namespace renamed by `namespace` is referred to as a namespace, which is taken out anyway.
    if (object.metadata.name !== originals[i] && object.kind !== 'Namespace')
      renamed.set(object.metadata.name, originals[i]);
  });
  return objects.map((object, i) => {
    const { metadata, ...rest } = object;
    const {
      annotations,
      namespace: _namespace,
      name: _name,
      ...meta
    } = metadata;
    const { [ORIGIN]: _origin, ...kept } = annotations ?? {};
    const body: Json = {
      ...(replaceReferences(rest, renamed) as Json),
      metadata: {
        ...meta,
        name: originals[i],
        ...(annotations &&
        (Object.keys(kept).length > 0 || !(ORIGIN in annotations))
          ? { annotations: kept }
          : {}),
      },
    };
    return {
      id: `${object.kind}/${originals[i]}`,
      body:
        object.kind === 'CustomResourceDefinition' ? body : withoutImages(body),
    };
  });
}

/** Every leaf of a value by its path, lists by index: two values are equal when these are. */
export function leaves(
  value: unknown,
  prefix: string,
  out = new Map<string, string>(),
): Map<string, string> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, '[]');
    value.forEach((item, i) => leaves(item, `${prefix}[${i}]`, out));
  } else if (isObject(value)) {
    if (Object.keys(value).length === 0) out.set(prefix, '{}');
    for (const [key, item] of Object.entries(value))
      leaves(item, `${prefix}.${key}`, out);
  } else out.set(prefix, JSON.stringify(value));
  return out;
}

/** All leaves of a set of comparable objects, each prefixed with its object's id. */
export function leavesOf(objects: Array<{ id: string; body: unknown }>) {
  const out = new Map<string, string>();
  for (const { id, body } of objects) leaves(body, id, out);
  return out;
}

/** The keys whose values differ between two sets of leaves, with both values. */
export function differences(
  a: Map<string, string>,
  b: Map<string, string>,
): string[] {
  return [...new Set([...a.keys(), ...b.keys()])]
    .filter(key => a.get(key) !== b.get(key))
    .sort()
    .map(
      key => `${key}: ${a.get(key) ?? '(none)'} | ${b.get(key) ?? '(none)'}`,
    );
}

/** Each object's kind and original name, with the name and namespace it is deployed with. */
export function placesOf(
  objects: Json[],
  files: Record<string, string>,
  environment: string,
): string[] {
  return objects
    .map(object => {
      const { name, namespace } = object.metadata;
      const original = originalName(files, environment, object);
      // The resolver leaves generated names without kustomize's content hash.
      const unhashed = name.replace(/-[a-z0-9]{10}$/, '');
      const shown =
        object.kind === 'ConfigMap' || object.kind === 'Secret'
          ? unhashed
          : name;
      return `${object.kind}/${original} as ${shown} in ${namespace ?? '-'}`;
    })
    .sort();
}
