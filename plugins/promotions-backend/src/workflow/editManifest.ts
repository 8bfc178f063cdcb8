import { isDeepStrictEqual } from 'node:util';
import { InputError } from '@backstage/errors';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import {
  ArgoCdApplication,
  ArgoCdManifest,
  ArgoCdManifestError,
  ArgoCdReadOptions,
  ArgoCdSource,
  FileChange,
  isUnsafeKeyPath,
  parseArgoCdManifest,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import {
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Node,
  parse,
  Scalar,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { plain, YamlFileEdit } from './YamlFileEdit';

/**
 * Sets an environment's version in the Argo CD manifest that deploys it, where the manifest sets
 * it: a Helm parameter, `valuesObject`, `values` or a `kustomize.images` entry of its
 * Application, or the list generator element an ApplicationSet's template reads it from.
 */

/** What to set, in which manifest, for which environment. */
export interface ManifestVersionEdit {
  /** The manifest's path in the repository. */
  file: string;
  /** The manifest's text; read from `snapshot` at `file` when not given. */
  text?: string;
  /** The repository the manifest is read from, when `text` is not given. */
  snapshot?: RepositorySnapshot;
  /**
   * The pipeline environment and the name of the Application that deploys it, as
   * `manifestEnvironments` gives them (a `ManifestEnvironment`, or an `EnvironmentSpec`'s
   * `name` and `application`).
   */
  environment: { environment: string; application: string };
  /** The image to deploy: name, tag and digest, as the upstream runs it. */
  image: ImageRef;
  /** The Helm key path of the version; `image.tag` when not given. */
  versionKey?: string;
  /** How the manifest is read, as it was read for the entity (its git generators' repository). */
  readOptions?: Omit<ArgoCdReadOptions, 'file'>;
}

/**
 * The manifest changed in place, or word that the manifest does not set the version: then it
 * lives in the repository files the Application reads, which `editVersion` changes.
 */
export type ManifestVersionResult =
  | { change: FileChange }
  | { notInManifest: true };

const DEFAULT_VERSION_KEY = 'image.tag';

/** Where the last layer that sets the version is, in the Application as Argo CD reads it. */
type Layer =
  | { kind: 'parameter'; index: number; digestIndex?: number }
  | { kind: 'valuesObject' }
  | { kind: 'values' }
  | { kind: 'kustomizeImage'; index: number };

/** What the layer is to hold: the version, and the digest beside it (null: none). */
interface Wanted {
  version: string;
  digest: string | null;
}

type Json = Record<string, unknown>;

const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const shown = (text: string) => JSON.stringify(text.slice(0, 200));

/** The map holding a key path's leaf in plain values, when there is one (own keys only). */
function parentIn(values: unknown, keys: string[]): Json | undefined {
  let node = values;
  for (const key of keys.slice(0, -1))
    node = isJson(node) && Object.hasOwn(node, key) ? node[key] : undefined;
  return isJson(node) ? node : undefined;
}

/** The image an argument of `kustomize edit set image` names, as it is split for writing. */
function splitArgument(argument: string) {
  const separator = argument.indexOf('=');
  const key = separator < 0 ? undefined : argument.slice(0, separator);
  const value = separator < 0 ? argument : argument.slice(separator + 1);
  const at = value.indexOf('@');
  const beforeDigest = at < 0 ? value : value.slice(0, at);
  const digest = at < 0 ? null : value.slice(at + 1);
  const colon = beforeDigest.lastIndexOf(':');
  const tagged = colon > beforeDigest.lastIndexOf('/');
  return {
    key,
    name: tagged ? beforeDigest.slice(0, colon) : beforeDigest,
    tag: tagged ? beforeDigest.slice(colon + 1) : null,
    digest,
  };
}

/** The image name an argument leaves in the build: its new name, else its name. */
function argumentImage(argument: string) {
  const { key, name } = splitArgument(argument);
  return key !== undefined && name !== '' && name !== '*' ? name : key ?? name;
}

/** The argument with the image's tag and digest in place of its own, its names kept. */
function withVersion(argument: string, image: ImageRef): string {
  const { key, name, digest } = splitArgument(argument);
  if (digest && !image.digest)
    throw new InputError(
      `the kustomize image ${shown(argument)} pins its image by digest, and ${
        image.name
      }:${image.tag} comes without one: give the digest to pin it by`,
    );
  return `${key !== undefined ? `${key}=` : ''}${name}${
    image.tag ? `:${image.tag}` : ''
  }${image.digest ? `@${image.digest}` : ''}`;
}

/** The values a Helm `values` text holds (null when empty), for comparing. */
function valuesText(text: string | null, what: string): unknown {
  if (!text) return null;
  try {
    return parse(text, { maxAliasCount: 100 }) ?? null;
  } catch {
    throw new InputError(`${what} is not valid YAML; nothing was changed`);
  }
}

/** The deployed source of an Application: the only one with a path. */
function deployedSource(application: ArgoCdApplication, file: string) {
  const indexes = application.sources.flatMap((source, i) =>
    source.path ? [i] : [],
  );
  if (indexes.length !== 1)
    throw new InputError(
      `${file}: Application ${shown(application.name)} deploys ${
        indexes.length
      } sources with a path; only one can be the environment, so nothing was changed`,
    );
  return indexes[0];
}

/** Finds the layer of a source that sets the version last, as Argo CD layers them. */
function layerOf(
  source: ArgoCdSource,
  keys: string[],
  image: ImageRef,
  where: string,
): Layer | undefined {
  const versionKey = keys.join('.');
  if (source.helm) {
    const { parameters, valuesObject, values } = source.helm;
    const named = (name: string) =>
      parameters.flatMap((p, i) => (p.name === name ? [i] : []));
    const versions = named(versionKey);
    const digests = named([...keys.slice(0, -1), 'digest'].join('.'));
    if (versions.length > 1 || digests.length > 1)
      throw new InputError(
        `${where} names ${
          versions.length > 1 ? versionKey : digests[0]
        } in more than one helm parameter; keep one and promote again: nothing was changed`,
      );
    if (versions.length === 1)
      return { kind: 'parameter', index: versions[0], digestIndex: digests[0] };
    // Argo CD reads valuesObject instead of values when both are set.
    const hasObject = valuesObject !== null && valuesObject !== undefined;
    const inline = hasObject
      ? valuesObject
      : valuesText(values, `${where} helm.values`);
    const parent = parentIn(inline, keys);
    const leaf = keys[keys.length - 1];
    if (!parent || !Object.hasOwn(parent, leaf) || parent[leaf] === null)
      return undefined;
    if (typeof parent[leaf] === 'object')
      throw new InputError(
        `${where} sets ${versionKey} in helm.${
          hasObject ? 'valuesObject' : 'values'
        } to something that is not a single value: nothing was changed`,
      );
    return { kind: hasObject ? 'valuesObject' : 'values' };
  }
  if (source.kustomize) {
    const matching = source.kustomize.images.flatMap((argument, i) =>
      argumentImage(argument) === image.name ? [i] : [],
    );
    if (matching.length > 1)
      throw new InputError(
        `${where} sets ${image.name} in more than one kustomize image; keep one and promote again: nothing was changed`,
      );
    if (matching.length === 1)
      return { kind: 'kustomizeImage', index: matching[0] };
  }
  return undefined;
}

/** What the version layer of a source holds, to prove the edit set it. */
function versionIn(
  source: ArgoCdSource,
  layer: Layer,
  keys: string[],
): Wanted | undefined {
  const helm = source.helm;
  const digestKey = [...keys.slice(0, -1), 'digest'].join('.');
  const text = (value: unknown) =>
    value === undefined || value === null ? null : String(value);
  switch (layer.kind) {
    case 'parameter': {
      const version = helm?.parameters.find(p => p.name === keys.join('.'));
      const digest = helm?.parameters.find(p => p.name === digestKey);
      return version
        ? { version: version.value, digest: digest?.value ?? null }
        : undefined;
    }
    case 'valuesObject':
    case 'values': {
      const inline =
        layer.kind === 'valuesObject'
          ? helm?.valuesObject
          : valuesText(helm?.values ?? null, 'helm.values');
      const parent = parentIn(inline, keys);
      const version = text(parent?.[keys[keys.length - 1]]);
      return version === null
        ? undefined
        : { version, digest: text(parent?.digest) };
    }
    default:
      return undefined;
  }
}

/** An Application with its version taken out: what must not change when only the version does. */
function withoutVersion(
  application: ArgoCdApplication,
  keys: string[],
  image: ImageRef,
  sourceIndex: number | undefined,
) {
  const leaf = keys[keys.length - 1];
  const digestKey = [...keys.slice(0, -1), 'digest'].join('.');
  const strip = (inline: unknown) => {
    const copy = structuredClone(inline);
    const parent = parentIn(copy, keys);
    if (parent) {
      delete parent[leaf];
      delete parent.digest;
    }
    return copy;
  };
  const sources = application.sources.map((source, i) => {
    if (i !== sourceIndex) return source;
    return {
      ...source,
      helm: source.helm && {
        ...source.helm,
        parameters: source.helm.parameters.filter(
          p => p.name !== keys.join('.') && p.name !== digestKey,
        ),
        valuesObject: strip(source.helm.valuesObject),
        values: strip(valuesText(source.helm.values, 'helm.values')),
      },
      kustomize: source.kustomize && {
        images: source.kustomize.images.filter(
          argument => argumentImage(argument) !== image.name,
        ),
      },
    };
  });
  // Labels and annotations may carry the version too; they do not decide what is deployed.
  return {
    name: application.name,
    namespace: application.namespace,
    project: application.project,
    destination: application.destination,
    sources,
    syncPolicy: application.syncPolicy,
  };
}

/** A template value made of one parameter reference between fixed text. */
interface TemplateReference {
  prefix: string;
  suffix: string;
  /** The element's key path the reference reads (`['values', 'tag']`). */
  keys: string[];
}

const GO_FIELD = /^[ \t]*\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)[ \t]*$/;

/**
 * The one parameter reference of a template value, as Go templates (`{{ .version }}`) or
 * fasttemplate (`{{ version }}`) read it; undefined for a value without any; an InputError for
 * a value that computes anything else.
 */
function referenceIn(
  template: string,
  goTemplate: boolean,
  what: string,
): TemplateReference | undefined {
  const open = template.indexOf('{{');
  if (open < 0) return undefined;
  const close = template.indexOf('}}', open + 2);
  const rest = close < 0 ? '' : template.slice(close + 2);
  const tag = close < 0 ? '' : template.slice(open + 2, close);
  let keys: string[] | undefined;
  if (goTemplate) {
    const field = GO_FIELD.exec(tag);
    keys = field?.[1].split('.');
  } else if (tag.trim() && !tag.includes('\n')) {
    const key = tag.trim();
    // Without goTemplate a list element's `values` map is flattened to `values.<key>`.
    keys = key.startsWith('values.')
      ? ['values', key.slice('values.'.length)]
      : [key];
  }
  if (
    !keys ||
    rest.includes('{{') ||
    rest.includes('}}') ||
    template.slice(0, open).includes('}}')
  )
    throw new InputError(
      `${what} is the template ${shown(
        template,
      )}, which computes the version rather than reading one generator parameter; set the version there by hand: nothing was changed`,
    );
  return { prefix: template.slice(0, open), suffix: rest, keys };
}

/** The node at a key path of a map, with the nodes on the way (for `refuseShared`). */
function nodeAt(
  doc: Document.Parsed,
  start: unknown,
  keys: Array<string | number>,
): { node: unknown; path: unknown[] } {
  const path: unknown[] = [];
  let node = start;
  for (const key of keys) {
    path.push(node);
    const collection = isAlias(node) ? node.resolve(doc) : node;
    if (typeof key === 'number') {
      node = isSeq(collection) ? collection.items[key] : undefined;
    } else {
      node = isMap(collection) ? collection.get(key, true) : undefined;
    }
    if (node === undefined) break;
  }
  return { node, path: [...path, node] };
}

/** Whether a list element gave a generated Application's parameters. */
function gaveParameters(element: Json, params: Json, goTemplate: boolean) {
  const flat: Json = {};
  for (const [key, value] of Object.entries(element)) {
    if (!goTemplate && key === 'values' && isJson(value)) {
      for (const [k, v] of Object.entries(value)) flat[`values.${k}`] = v;
    } else flat[key] = value;
  }
  return Object.entries(flat).every(
    ([key, value]) =>
      Object.hasOwn(params, key) && isDeepStrictEqual(params[key], value),
  );
}

/** One document of the manifest changed in place; the other documents keep every byte. */
class ManifestEdit {
  readonly yaml: YamlFileEdit;
  readonly doc: Document.Parsed;
  readonly root: YAMLMap;
  readonly goTemplate: boolean;

  constructor(
    readonly file: string,
    text: string,
    readonly application: ArgoCdApplication,
  ) {
    this.yaml = new YamlFileEdit(file, text);
    const generated = application.generatedBy;
    const found = this.yaml.documents.filter(doc => {
      const kind = doc.get('kind');
      const name = doc.getIn(['metadata', 'name']);
      return generated
        ? kind === 'ApplicationSet' && name === generated.applicationSet
        : kind === 'Application' && name === application.name;
    });
    const what = generated
      ? `ApplicationSet ${shown(generated.applicationSet)}`
      : `Application ${shown(application.name)}`;
    if (found.length !== 1 || !isMap(found[0].contents))
      throw new InputError(
        `${file} holds ${
          found.length === 0 ? 'no' : 'more than one'
        } ${what}; nothing was changed`,
      );
    this.doc = found[0];
    this.root = found[0].contents as YAMLMap;
    const goTemplate = this.root.getIn(['spec', 'goTemplate']);
    this.goTemplate = goTemplate === true;
  }

  /** Where the Application's sources are written: its own spec, or its ApplicationSet's template. */
  sourcePath(index: number): Array<string | number> {
    const spec = this.application.generatedBy
      ? ['spec', 'template', 'spec']
      : ['spec'];
    const sources = this.root.getIn([...spec, 'sources'], true);
    return isSeq(sources) && sources.items.length > 0
      ? [...spec, 'sources', index]
      : [...spec, 'source'];
  }

  node(keys: Array<string | number>) {
    return nodeAt(this.doc, this.root, keys);
  }

  /** A scalar written in place, or, in an ApplicationSet, in the element its template reads. */
  setValue(keys: Array<string | number>, value: string, what: string) {
    const { node, path } = this.node(keys);
    this.setNode(node, path, value, what);
  }

  setNode(node: unknown, path: unknown[], value: string, what: string) {
    this.yaml.refuseShared(path, what);
    if (!isScalar(node) || typeof node.value === 'object')
      throw new InputError(
        `${this.file}: ${what} is not a single value; nothing was changed`,
      );
    if (this.application.generatedBy) {
      this.setInElement(String(node.value), value, what);
      return;
    }
    this.yaml.setScalar(node, value, this.inFlow(path), what);
  }

  private inFlow(path: unknown[]) {
    return path.some(n => (isMap(n) || isSeq(n)) && Boolean(n.flow));
  }

  /** Sets the list generator element's key a template value reads, so that it renders `value`. */
  setInElement(template: string, value: string, what: string) {
    const generated = this.application.generatedBy!;
    const where = `${
      this.file
    }: ${what} in the template of ApplicationSet ${shown(
      generated.applicationSet,
    )}`;
    const reference = referenceIn(template, this.goTemplate, where);
    if (!reference)
      throw new InputError(
        `${where} is written in the template for every Application it generates; read it from a list generator element to promote one environment: nothing was changed`,
      );
    const { prefix, suffix, keys } = reference;
    if (
      !value.startsWith(prefix) ||
      !value.endsWith(suffix) ||
      value.length < prefix.length + suffix.length
    )
      throw new InputError(
        `${where} is the template ${shown(
          template,
        )}, which cannot render ${shown(value)}: nothing was changed`,
      );
    const elementValue = value.slice(
      prefix.length,
      value.length - suffix.length,
    );
    const holders = this.elementsOf(generated.generator).filter(({ item }) => {
      const element = isAlias(item) ? item.resolve(this.doc) : item;
      const js = (element as Node).toJS(this.doc, { maxAliasCount: 100 });
      return (
        isJson(js) &&
        gaveParameters(js, generated.parameters, this.goTemplate) &&
        nodeAt(this.doc, element, keys).node !== undefined
      );
    });
    if (holders.length !== 1)
      throw new InputError(
        `${where} reads ${keys.join('.')}, which ${
          holders.length === 0
            ? 'no list generator element of this environment sets'
            : `${holders.length} list generator elements of this environment set`
        }: nothing was changed`,
      );
    const { item, path } = holders[0];
    const element = isAlias(item) ? item.resolve(this.doc) : item;
    const found = nodeAt(this.doc, element, keys);
    const at = [...path, item, ...found.path.slice(1)];
    const whatElement = `${keys.join('.')} of the list generator element`;
    this.yaml.refuseShared(at, whatElement);
    if (!isScalar(found.node) || typeof found.node.value === 'object')
      throw new InputError(
        `${this.file}: ${whatElement} is not a single value; nothing was changed`,
      );
    this.yaml.setScalar(found.node, elementValue, this.inFlow(at), whatElement);
  }

  /** Every list generator element of the generator that made the Application. */
  private elementsOf(generator: string) {
    const match = /^generators\[(\d+)\]\.(\w+)$/.exec(generator);
    const spec = this.root.get('spec', true);
    const generators = isMap(spec) ? spec.get('generators', true) : undefined;
    const top =
      match && isSeq(generators)
        ? generators.items[Number(match[1])]
        : undefined;
    if (
      !match ||
      !isMap(top) ||
      !['list', 'matrix', 'merge'].includes(match[2])
    )
      throw new InputError(
        `${this.file}: Application ${shown(
          this.application.name,
        )} is generated by ${generator}, not by a list generator, so its version cannot be set in the manifest: nothing was changed`,
      );
    const lists: unknown[] = [];
    if (match[2] === 'list') lists.push(top.get('list', true));
    else {
      const children = nodeAt(this.doc, top, [match[2], 'generators']).node;
      if (isSeq(children))
        for (const child of children.items)
          if (isMap(child) && child.has('list'))
            lists.push(child.get('list', true));
    }
    const out: Array<{ item: unknown; path: unknown[] }> = [];
    for (const list of lists) {
      if (!isMap(list)) continue;
      const yamlElements = list.get('elementsYaml', true);
      if (isScalar(yamlElements) && yamlElements.value)
        throw new InputError(
          `${this.file}: the list generator of ${generator} gives elements through elementsYaml, which is not changed in place: nothing was changed`,
        );
      const elements = list.get('elements', true);
      this.yaml.refuseShared([list, elements], `the elements of ${generator}`);
      if (isSeq(elements))
        for (const item of elements.items)
          out.push({ item, path: [top, list, elements] });
    }
    return out;
  }
}

/** Sets the version key (and digest beside it) of a Helm values map, in place. */
function setValues(
  edit: ManifestEdit | YamlFileEdit,
  doc: Document.Parsed,
  map: unknown,
  keys: string[],
  wanted: Wanted,
  what: string,
) {
  const { node: parent, path } = nodeAt(doc, map, keys.slice(0, -1));
  const parentMap = isAlias(parent) ? parent.resolve(doc) : parent;
  if (!isMap(parentMap))
    throw new InputError(`${what}: ${keys.join('.')} cannot be located`);
  const leaf = parentMap.get(keys[keys.length - 1], true);
  const set = (node: unknown, key: string, value: string) => {
    const at = [...path, node];
    const name = `${what} ${[...keys.slice(0, -1), key].join('.')}`;
    if (edit instanceof ManifestEdit) edit.setNode(node, at, value, name);
    else {
      edit.refuseShared(at, name);
      if (!isScalar(node) || typeof node.value === 'object')
        throw new InputError(
          `${name} is not a single value; nothing was changed`,
        );
      edit.setScalar(node, value, Boolean(parentMap.flow), name);
    }
  };
  set(leaf, keys[keys.length - 1], wanted.version);
  const digest = parentMap.get('digest', true);
  const yaml = edit instanceof ManifestEdit ? edit.yaml : edit;
  if (wanted.digest && digest !== undefined)
    set(digest, 'digest', wanted.digest);
  else if (wanted.digest || (digest !== undefined && isScalar(digest))) {
    if (edit instanceof ManifestEdit && edit.application.generatedBy)
      throw new InputError(
        `${what}: the digest beside ${keys.join('.')} would have to be ${
          wanted.digest ? 'added to' : 'removed from'
        } the ApplicationSet's template; write it in the list generator elements to promote: nothing was changed`,
      );
    yaml.refuseShared([...path, digest], `${what} digest`);
    if (wanted.digest) yaml.addPair(parentMap, 'digest', plain(wanted.digest));
    else yaml.removePair(parentMap, 'digest', `${what} digest`);
  }
}

/** Reads a manifest's Applications, a refusal as an InputError. */
async function readManifest(
  text: string,
  edit: ManifestVersionEdit,
): Promise<ArgoCdManifest> {
  try {
    return await parseArgoCdManifest(text, {
      ...edit.readOptions,
      file: edit.file,
    });
  } catch (error) {
    if (error instanceof ArgoCdManifestError)
      throw new InputError(`${error.message}; nothing was changed`);
    throw error;
  }
}

/**
 * The change of an Argo CD manifest that sets an environment to an image, made where the
 * manifest sets the version, in the order Argo CD applies its layers (the last one that sets it
 * is changed): a `helm.parameters` entry named the version key (and its `digest` beside it),
 * else `helm.valuesObject`, else the YAML text of `helm.values`, or a `kustomize.images` entry
 * of the image. For an Application an ApplicationSet generates, the list generator element of
 * the environment that the template reads is changed, never the template. `{ notInManifest: true }`
 * when the manifest does not set the version: it lives in the files the Application reads.
 *
 * Only the version's lines change; comments, order, quoting and the other documents of the file
 * stay byte for byte. The manifest is read again after the change: the environment must now
 * deploy the image and every other Application stay as it was, or nothing is changed. Anything
 * ambiguous (two entries of the key, an anchor shared with another place, a value that is not a
 * single value, a template that computes the version) is an InputError that says why.
 */
export async function editManifestVersion(
  edit: ManifestVersionEdit,
): Promise<ManifestVersionResult> {
  const { file, image, environment } = edit;
  const versionKey = edit.versionKey || DEFAULT_VERSION_KEY;
  if (isUnsafeKeyPath(versionKey) || versionKey.length > 256)
    throw new InputError(
      `${shown(
        versionKey,
      )} is not a usable values key path; nothing was changed`,
    );
  const keys = versionKey.split('.');
  const version = image.tag ?? image.digest;
  if (!version)
    throw new InputError(
      `${image.name} has neither a tag nor a digest to promote; nothing was changed`,
    );
  let text = edit.text;
  if (text === undefined) {
    const content = await edit.snapshot?.readFile(file);
    if (!content) throw new InputError(`${file}: file not found`);
    text = content.toString('utf8');
  }
  const before = await readManifest(text, edit);
  const named = before.applications.filter(
    a => a.name === environment.application,
  );
  if (named.length !== 1)
    throw new InputError(
      `${file} ${
        named.length === 0 ? 'has no' : 'has more than one'
      } Application ${shown(environment.application)} of ${
        environment.environment
      }; nothing was changed`,
    );
  const application = named[0];
  const sourceIndex = deployedSource(application, file);
  const source = application.sources[sourceIndex];
  const where = `${file}: Application ${shown(application.name)}`;
  const layer = layerOf(source, keys, image, where);
  if (!layer) return { notInManifest: true };
  const wanted: Wanted = {
    version,
    digest: image.tag && image.digest ? image.digest : null,
  };

  const manifest = new ManifestEdit(file, text, application);
  const sourcePath = manifest.sourcePath(sourceIndex);
  switch (layer.kind) {
    case 'parameter': {
      const parameters = [...sourcePath, 'helm', 'parameters'];
      manifest.setValue(
        [...parameters, layer.index, 'value'],
        wanted.version,
        `helm parameter ${versionKey}`,
      );
      const digestKey = [...keys.slice(0, -1), 'digest'].join('.');
      if (layer.digestIndex !== undefined && wanted.digest)
        manifest.setValue(
          [...parameters, layer.digestIndex, 'value'],
          wanted.digest,
          `helm parameter ${digestKey}`,
        );
      else if (layer.digestIndex !== undefined)
        throw new InputError(
          `${where} sets helm parameter ${digestKey}, and ${image.name}${
            image.tag ? `:${image.tag}` : ''
          } is promoted without a digest beside its tag: remove that parameter or give the digest, and promote again; nothing was changed`,
        );
      else if (wanted.digest) {
        const { node: list } = manifest.node(parameters);
        if (application.generatedBy || !isSeq(list))
          throw new InputError(
            `${where}: a helm parameter ${digestKey} would have to be added to pin the digest; add it by hand: nothing was changed`,
          );
        manifest.yaml.refuseShared([list], `helm parameters`);
        manifest.yaml.appendItem(list as YAMLSeq, {
          name: plain(digestKey),
          value: plain(wanted.digest),
        });
      }
      break;
    }
    case 'valuesObject': {
      const { node: values } = manifest.node([
        ...sourcePath,
        'helm',
        'valuesObject',
      ]);
      setValues(
        manifest,
        manifest.doc,
        values,
        keys,
        wanted,
        'helm.valuesObject',
      );
      break;
    }
    case 'values': {
      const { node, path } = manifest.node([...sourcePath, 'helm', 'values']);
      manifest.yaml.refuseShared(path, 'helm.values');
      if (!isScalar(node) || typeof node.value !== 'string')
        throw new InputError(
          `${where}: helm.values is not a text; nothing was changed`,
        );
      const inner = new YamlFileEdit(`${where} helm.values`, node.value);
      if (inner.documents.length !== 1)
        throw new InputError(
          `${where}: helm.values is not one YAML document; nothing was changed`,
        );
      if (application.generatedBy) {
        // The template's text is changed nowhere: its element is, through the key's own template.
        const [doc] = inner.documents;
        const found = nodeAt(doc, doc.contents, keys);
        inner.refuseShared(found.path, `helm.values ${versionKey}`);
        if (!isScalar(found.node) || typeof found.node.value === 'object')
          throw new InputError(
            `${where}: ${versionKey} of helm.values in the template is not a single value; nothing was changed`,
          );
        if (
          wanted.digest ||
          parentIn(valuesText(node.value, `${where} helm.values`), keys)
            ?.digest !== undefined
        )
          throw new InputError(
            `${where}: the digest beside ${versionKey} is written in the template's helm.values; write it in the list generator elements to promote: nothing was changed`,
          );
        manifest.setInElement(
          String(found.node.value),
          wanted.version,
          `helm.values ${versionKey}`,
        );
        break;
      }
      setValues(
        inner,
        inner.documents[0],
        inner.documents[0].contents,
        keys,
        wanted,
        `${where} helm.values`,
      );
      const values = inner.toString();
      if (node.type === Scalar.BLOCK_LITERAL)
        manifest.yaml.setBlockLiteral(node, values, 'helm.values');
      else manifest.yaml.setScalar(node, values, false, 'helm.values');
      break;
    }
    case 'kustomizeImage': {
      const argument = source.kustomize!.images[layer.index];
      manifest.setValue(
        [...sourcePath, 'kustomize', 'images', layer.index],
        withVersion(argument, image),
        `kustomize image ${image.name}`,
      );
      break;
    }
    default:
      break;
  }

  const edited = manifest.yaml.toString();
  await proveEdit(edit, before, edited, application, {
    keys,
    layer,
    sourceIndex,
    wanted,
  });
  return { change: { path: file, content: Buffer.from(edited) } };
}

/**
 * Reads the edited manifest again: the Application must now set the version, and nothing else of
 * it nor of any other Application may differ.
 */
async function proveEdit(
  edit: ManifestVersionEdit,
  before: ArgoCdManifest,
  edited: string,
  application: ArgoCdApplication,
  changed: {
    keys: string[];
    layer: Layer;
    sourceIndex: number;
    wanted: Wanted;
  },
) {
  const { file, image } = edit;
  const { keys, layer, sourceIndex, wanted } = changed;
  const after = await readManifest(edited, edit);
  const refuse = (why: string) => {
    throw new InputError(
      `${file}: setting ${application.name} to ${
        image.tag ?? image.digest
      } ${why}; nothing was changed`,
    );
  };
  if (
    after.applications.length !== before.applications.length ||
    after.applications.some((a, i) => a.name !== before.applications[i].name)
  )
    refuse('would change which Applications the manifest gives');
  after.applications.forEach((next, i) => {
    const previous = before.applications[i];
    if (previous === application) {
      if (
        !isDeepStrictEqual(
          withoutVersion(previous, keys, image, sourceIndex),
          withoutVersion(next, keys, image, sourceIndex),
        )
      )
        refuse('would change more of it than its version');
      const source = next.sources[sourceIndex];
      if (layer.kind === 'kustomizeImage') {
        const argument = source.kustomize?.images[layer.index] ?? '';
        const { tag, digest } = splitArgument(argument);
        if (tag !== image.tag || digest !== image.digest)
          refuse('would not set its kustomize image');
      } else if (!isDeepStrictEqual(versionIn(source, layer, keys), wanted))
        refuse(`would not set ${keys.join('.')}`);
    } else if (!isDeepStrictEqual(previous, next)) {
      refuse(`would change Application ${shown(next.name)} too`);
    }
  });
  if (!isDeepStrictEqual(before.notes, after.notes))
    refuse('would change what the manifest notes');
}
