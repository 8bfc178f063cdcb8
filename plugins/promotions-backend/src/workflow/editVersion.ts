import { InputError } from '@backstage/errors';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import {
  FileChange,
  parseImage,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import {
  Document,
  isMap,
  isScalar,
  isSeq,
  parse,
  parseAllDocuments,
  Scalar,
  YAMLMap,
} from 'yaml';

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

/**
 * Sets a scalar in place: its quoting, and every comment and line around it, stay as written.
 * Returns false when the node is not a scalar to set.
 */
function setScalar(node: unknown, value: string): boolean {
  if (!isScalar(node)) return false;
  // A plain scalar that would read back as anything but this string (1.10, true) is quoted.
  if (node.type === Scalar.PLAIN && parse(value) !== value) {
    node.type = Scalar.QUOTE_DOUBLE;
  }
  node.value = value;
  return true;
}

const text = (node: unknown) =>
  isScalar(node) ? String(node.value ?? '') : undefined;

/** Documents of a file with their source, parsed to be written back as they were. */
async function documentsOf(snapshot: RepositorySnapshot, file: string) {
  const content = await snapshot.readFile(file);
  if (!content) return undefined;
  const source = content.toString('utf8');
  const documents = parseAllDocuments(source, { keepSourceTokens: true });
  if (!Array.isArray(documents) || documents.some(d => d.errors.length > 0)) {
    throw new InputError(`${file} is not valid YAML; nothing was changed`);
  }
  return { source, documents: documents as Document.Parsed[] };
}

const render = (documents: Document[]) =>
  documents.map(d => d.toString({ lineWidth: 0 })).join('');

/**
 * The `images:` entry of a kustomization for an image: by its `newName` or its `name`. Returns
 * undefined when there is none.
 */
function imagesEntry(doc: Document, imageName: string): YAMLMap | undefined {
  const images = doc.get('images', true);
  if (!isSeq(images)) return undefined;
  return images.items.find(
    (item): item is YAMLMap =>
      isMap(item) &&
      (text(item.get('newName', true)) === imageName ||
        (!item.has('newName') && text(item.get('name', true)) === imageName)),
  );
}

/** Sets newTag and digest of an images entry as the image has them. */
function setImagesEntry(entry: YAMLMap, image: ImageRef, where: string) {
  if (entry.has('digest') && !image.digest) {
    throw new InputError(
      `${where} pins its image by digest, and ${image.name}:${image.tag} comes without one: give the digest to pin it by`,
    );
  }
  if (image.tag) {
    if (!setScalar(entry.get('newTag', true), image.tag)) {
      entry.set('newTag', new Scalar(image.tag));
      (entry.get('newTag', true) as Scalar).type = Scalar.QUOTE_DOUBLE;
    }
  } else entry.delete('newTag');
  if (image.digest) {
    if (!setScalar(entry.get('digest', true), image.digest)) {
      entry.set('digest', image.digest);
    }
  } else entry.delete('digest');
}

/** In a strategic-merge patch: containers whose image is this one get the new reference. */
function setPatchImages(doc: Document, image: ImageRef): boolean {
  let changed = false;
  const visit = (node: unknown) => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = text(pair.key);
        if (key === 'image' && isScalar(pair.value)) {
          const current = parseImage(String(pair.value.value ?? ''));
          if (current.name === image.name) {
            const reference = `${image.name}${
              image.tag ? `:${image.tag}` : ''
            }${image.digest ? `@${image.digest}` : ''}`;
            changed = setScalar(pair.value, reference) || changed;
          }
        } else visit(pair.value);
      }
    } else if (isSeq(node)) node.items.forEach(visit);
  };
  visit(doc.contents);
  return changed;
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
    const parsed = await documentsOf(snapshot, path);
    if (!parsed || parsed.documents.length !== 1) {
      throw new InputError(
        `${path} is not one YAML document; nothing was changed`,
      );
    }
    const [doc] = parsed.documents;
    const keys = edit.versionKey.split('.');
    const leaf = doc.getIn(keys, true);
    const value = image.tag ?? image.digest ?? '';
    if (!setScalar(leaf, value)) {
      doc.setIn(keys, value);
      const created = doc.getIn(keys, true);
      if (isScalar(created)) created.type = Scalar.QUOTE_DOUBLE;
    }
    const digestKeys = [...keys.slice(0, -1), 'digest'];
    const digest = doc.getIn(digestKeys, true);
    if (image.digest && image.tag) {
      if (!setScalar(digest, image.digest)) doc.setIn(digestKeys, image.digest);
    } else if (isScalar(digest)) doc.deleteIn(digestKeys);
    return [{ path, content: Buffer.from(render(parsed.documents)) }];
  }

  const dir = path.replace(/\/+$/, '');
  const kustomizationFile = KUSTOMIZATION_FILES.map(f => `${dir}/${f}`).find(
    f => snapshot.files.has(f),
  );
  if (!kustomizationFile) {
    throw new InputError(`${dir} has no kustomization; nothing was changed`);
  }
  const kustomization = await documentsOf(snapshot, kustomizationFile);
  const [kdoc] = kustomization!.documents;
  const entry = imagesEntry(kdoc, image.name);
  if (entry) {
    setImagesEntry(entry, image, kustomizationFile);
    return [
      {
        path: kustomizationFile,
        content: Buffer.from(render(kustomization!.documents)),
      },
    ];
  }
  // The environment's own patches that set the container's image: every one the build reads.
  const patched: FileChange[] = [];
  for (const file of (edit.inputs ?? []).filter(
    f =>
      f.startsWith(`${dir}/`) &&
      /\.ya?ml$/.test(f) &&
      !KUSTOMIZATION_FILES.some(k => f.endsWith(`/${k}`)),
  )) {
    const parsed = await documentsOf(snapshot, file).catch(() => undefined);
    if (!parsed) continue;
    let changed = false;
    for (const doc of parsed.documents)
      changed = setPatchImages(doc, image) || changed;
    if (changed) {
      patched.push({
        path: file,
        content: Buffer.from(render(parsed.documents)),
      });
    }
  }
  if (patched.length > 0) return patched;
  // Only the base sets it: the environment gains an images entry of its own.
  let images = kdoc.get('images', true);
  if (!isSeq(images)) {
    kdoc.set('images', kdoc.createNode([]));
    images = kdoc.get('images', true);
  }
  const added = kdoc.createNode({ name: image.name }) as YAMLMap;
  setImagesEntry(added, image, kustomizationFile);
  (images as { items: unknown[] }).items.push(added);
  return [
    {
      path: kustomizationFile,
      content: Buffer.from(render(kustomization!.documents)),
    },
  ];
}
