import { InputError } from '@backstage/errors';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import {
  FileChange,
  parseImage,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Scalar,
  YAMLMap,
  YAMLSeq,
} from 'yaml';
import { NewValue, plain, quoted, YamlFileEdit } from './YamlFileEdit';

const KUSTOMIZATION_FILES = [
  'kustomization.yaml',
  'kustomization.yml',
  'Kustomization',
];

/** What to set an environment to, and where its files are. */
export interface VersionEdit {
  snapshot: RepositorySnapshot;
  /** The environment's path: a Kustomize directory or a Helm values file. */
  path: string;
  /** The image to deploy: name, tag and digest, as the upstream runs it. */
  image: ImageRef;
  /** The Helm key path of the version (`image.tag`). */
  versionKey: string;
  /** Every file the environment's resolution read: where its patches are. */
  inputs?: string[];
}

const text = (node: unknown) =>
  isScalar(node) ? String(node.value ?? '') : undefined;

/** A file of the snapshot, to change in place; undefined when there is no such file. */
async function editOf(snapshot: RepositorySnapshot, file: string) {
  const content = await snapshot.readFile(file);
  if (!content) return undefined;
  return new YamlFileEdit(file, content.toString('utf8'));
}

const changeOf = (edit: YamlFileEdit): FileChange => ({
  path: edit.file,
  content: Buffer.from(edit.toString()),
});

const referenceOf = (image: ImageRef) =>
  `${image.name}${image.tag ? `:${image.tag}` : ''}${
    image.digest ? `@${image.digest}` : ''
  }`;

/** Sets a scalar value in place, or adds it when there is none, or removes it when it goes. */
function setValue(
  edit: YamlFileEdit,
  map: YAMLMap,
  key: string,
  value: Scalar | undefined,
  what: string,
) {
  const node = map.get(key, true);
  if (node === undefined) {
    if (value) edit.addPair(map, key, value);
    return;
  }
  edit.refuseShared([node], what);
  if (!value) {
    edit.removePair(map, key, what);
    return;
  }
  if (!isScalar(node)) {
    throw new InputError(
      `${edit.file}: ${what} is not a single value; nothing was changed`,
    );
  }
  edit.setScalar(node, String(value.value), Boolean(map.flow), what);
}

/**
 * The `images:` entry of a kustomization for an image: by its `newName` or its `name`. Returns
 * undefined when there is none.
 */
function imagesEntry(
  edit: YamlFileEdit,
  images: YAMLSeq,
  imageName: string,
): YAMLMap | undefined {
  const [doc] = edit.documents;
  for (const item of images.items) {
    const entry = isAlias(item) ? item.resolve(doc) : item;
    if (
      isMap(entry) &&
      (text(entry.get('newName', true)) === imageName ||
        (!entry.has('newName') && text(entry.get('name', true)) === imageName))
    ) {
      edit.refuseShared([item, entry], `the images entry of ${imageName}`);
      return entry;
    }
  }
  return undefined;
}

/** Sets newTag and digest of an images entry as the image has them. */
function setImagesEntry(edit: YamlFileEdit, entry: YAMLMap, image: ImageRef) {
  if (entry.has('digest') && !image.digest) {
    throw new InputError(
      `${edit.file} pins its image by digest, and ${image.name}:${image.tag} comes without one: give the digest to pin it by`,
    );
  }
  const tag = image.tag ? quoted(image.tag) : undefined;
  setValue(edit, entry, 'newTag', tag, `newTag of ${image.name}`);
  const digest = image.digest ? plain(image.digest) : undefined;
  setValue(edit, entry, 'digest', digest, `digest of ${image.name}`);
}

/** In a strategic-merge patch: containers whose image is this one get the new reference. */
function setPatchImages(edit: YamlFileEdit, image: ImageRef): boolean {
  let changed = false;
  let doc = edit.documents[0];
  const visit = (node: unknown, path: unknown[], inFlow: boolean) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (text(pair.key) !== 'image') {
          visit(pair.value, [...path, node], inFlow || Boolean(node.flow));
          continue;
        }
        const value = isAlias(pair.value)
          ? pair.value.resolve(doc)
          : pair.value;
        if (
          isScalar(value) &&
          parseImage(String(value.value ?? '')).name === image.name
        ) {
          const what = `the image of a container of ${image.name}`;
          edit.refuseShared([...path, node, pair.value], what);
          edit.setScalar(
            value,
            referenceOf(image),
            inFlow || Boolean(node.flow),
            what,
          );
          changed = true;
        }
      }
    } else if (isSeq(node)) {
      for (const item of node.items) {
        visit(item, [...path, node], inFlow || Boolean(node.flow));
      }
    }
  };
  for (const document of edit.documents) {
    doc = document;
    visit(doc.contents, [], false);
  }
  return changed;
}

/** The value of a key path ending in the version, with the digest beside it. */
function nested(
  keys: string[],
  version: Scalar,
  digest?: Scalar,
): { [key: string]: NewValue } {
  let value: { [key: string]: NewValue } = {
    [keys[keys.length - 1]]: version,
    ...(digest ? { digest } : {}),
  };
  for (const key of keys.slice(0, -1).reverse()) value = { [key]: value };
  return value;
}

/** Sets a Helm values key (and its `digest` beside it), adding the keys a file does not have. */
function setValuesKey(edit: YamlFileEdit, versionKey: string, image: ImageRef) {
  const [doc] = edit.documents;
  const keys = versionKey.split('.');
  const version = quoted(image.tag ?? image.digest ?? '');
  const digest = image.tag && image.digest ? plain(image.digest) : undefined;
  if (edit.empty && edit.documents.length <= 1) {
    edit.addToEmptyFile(nested(keys, version, digest));
    return;
  }
  let map: unknown = doc.contents;
  for (let depth = 0; depth < keys.length; depth++) {
    const where = keys.slice(0, depth).join('.') || 'the file';
    edit.refuseShared([map], where);
    if (!isMap(map)) {
      throw new InputError(
        `${edit.file}: ${where} is not a map of values, so ${versionKey} cannot be set; nothing was changed`,
      );
    }
    if (depth === keys.length - 1) break;
    const next = map.get(keys[depth], true);
    // The rest of the key path is new: written at once, version and digest.
    if (next === undefined) {
      edit.addPair(
        map,
        keys[depth],
        nested(keys.slice(depth + 1), version, digest),
      );
      return;
    }
    if (isScalar(next) && next.value === null) {
      const value = nested(keys.slice(depth + 1), version, digest);
      edit.fillEmpty(map, keys[depth], value, Boolean(map.flow));
      return;
    }
    map = next;
  }
  const parent = map as YAMLMap;
  setValue(edit, parent, keys[keys.length - 1], version, versionKey);
  const digestKey = [...keys.slice(0, -1), 'digest'].join('.');
  if (
    digest ||
    (parent.has('digest') && isScalar(parent.get('digest', true)))
  ) {
    setValue(edit, parent, 'digest', digest, digestKey);
  }
}

/**
 * The file changes that set an environment to an image, written where the environment keeps its
 * version: an `images:` entry of its kustomization, a patch setting the container's image, or a
 * Helm values key; when only the base sets it, an `images:` entry is added to the environment's
 * kustomization, as `kustomize edit set image` does. Only the version lines change: comments,
 * key order, quoting and formatting are kept.
 */
export async function editVersion(edit: VersionEdit): Promise<FileChange[]> {
  const { snapshot, path, image } = edit;
  if (/\.ya?ml$/.test(path)) {
    const values = await editOf(snapshot, path);
    if (!values || values.documents.length > 1) {
      throw new InputError(
        `${path} is not one YAML document; nothing was changed`,
      );
    }
    setValuesKey(values, edit.versionKey, image);
    return [changeOf(values)];
  }

  const dir = path.replace(/\/+$/, '');
  const kustomizationFile = KUSTOMIZATION_FILES.map(f => `${dir}/${f}`).find(
    f => snapshot.files.has(f),
  );
  const kustomization =
    kustomizationFile && (await editOf(snapshot, kustomizationFile));
  if (!kustomization) {
    throw new InputError(`${dir} has no kustomization; nothing was changed`);
  }
  const root = kustomization.documents[0].contents;
  if (!isMap(root)) {
    throw new InputError(
      `${kustomization.file} is not a kustomization; nothing was changed`,
    );
  }
  const images = root.get('images', true);
  if (images !== undefined) {
    kustomization.refuseShared([images], 'images');
    if (!isSeq(images) && !(isScalar(images) && images.value === null)) {
      throw new InputError(
        `${kustomization.file}: images is not a list; nothing was changed`,
      );
    }
    const entry =
      isSeq(images) && imagesEntry(kustomization, images, image.name);
    if (entry) {
      setImagesEntry(kustomization, entry, image);
      return [changeOf(kustomization)];
    }
  }
  // The environment's own patches that set the container's image: every one the build reads.
  const patched: FileChange[] = [];
  for (const file of (edit.inputs ?? []).filter(
    f =>
      f.startsWith(`${dir}/`) &&
      /\.ya?ml$/.test(f) &&
      !KUSTOMIZATION_FILES.some(k => f.endsWith(`/${k}`)),
  )) {
    const patch = await editOf(snapshot, file).catch(() => undefined);
    if (patch && setPatchImages(patch, image)) patched.push(changeOf(patch));
  }
  if (patched.length > 0) return patched;
  // Only the base sets it: the environment gains an images entry of its own.
  const added: NewValue = {
    name: plain(image.name),
    ...(image.tag ? { newTag: quoted(image.tag) } : {}),
    ...(image.digest ? { digest: plain(image.digest) } : {}),
  };
  if (isSeq(images)) kustomization.appendItem(images, added);
  else if (images === undefined) kustomization.addPair(root, 'images', [added]);
  else kustomization.fillEmpty(root, 'images', [added], Boolean(root.flow));
  return [changeOf(kustomization)];
}
