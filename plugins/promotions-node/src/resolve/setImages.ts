import { ImageEntry, splitImage } from './transformers';
import { ResolutionError } from './types';

/**
 * `kustomize edit set image`, as kustomize v5.5 edits a kustomization's `images` and as Argo CD
 * runs it (every image of `spec.source.kustomize.images` in one command) before building.
 */

/** Keeps the value the kustomization already has, in place of a new name, tag or digest. */
const PRESERVE = '*';

/** Longest argument read; real ones are far shorter. */
const MAX_ARGUMENT_LENGTH = 1024;

/**
 * The entry one argument sets (`name=newName:tag@digest`, `name=newName`, `name:tag`,
 * `name@digest`), or undefined when kustomize refuses the argument.
 */
export function parseSetImage(argument: string): ImageEntry | undefined {
  if (argument.length > MAX_ARGUMENT_LENGTH) return undefined;
  const separator = argument.indexOf('=');
  const key = separator < 0 ? '' : argument.slice(0, separator);
  const value = separator < 0 ? argument : argument.slice(separator + 1);
  const [name, tag, digest] = splitImage(value);
  // A bare name sets nothing: kustomize asks for a new name, tag or digest.
  if (name === argument) return undefined;
  return withoutEmpty(
    key === ''
      ? { name, newTag: tag, digest }
      : { name: key, newName: name, newTag: tag, digest },
  );
}

function withoutEmpty(entry: ImageEntry): ImageEntry {
  return Object.fromEntries(
    Object.entries(entry).filter(([, value]) => value),
  ) as ImageEntry;
}

/** The entry with one field replaced; like kustomize, it drops `tagSuffix`. */
const replaced = (
  entry: ImageEntry,
  field: 'newName' | 'newTag' | 'digest',
  value: string | undefined,
): ImageEntry => ({
  name: entry.name,
  newName: entry.newName,
  newTag: entry.newTag,
  digest: entry.digest,
  [field]: value,
});

const FIELDS = ['newName', 'newTag', 'digest'] as const;

/**
 * The kustomization as `kustomize edit set image <images...>` leaves it: an argument replaces
 * the entry of the same name (`*` keeps that entry's new name, tag or digest), the other entries
 * stay (the first of a name, `imageTags` moved into `images`), and the list is sorted by name.
 * Unchanged when `images` is empty, as Argo CD then runs no edit.
 */
export function editSetImage(
  kustomization: Record<string, any>,
  images: string[],
  file: string,
): Record<string, any> {
  if (images.length === 0) return kustomization;
  const entries = new Map<string, ImageEntry>();
  for (const argument of images) {
    const entry = parseSetImage(argument);
    if (!entry) {
      throw new ResolutionError(
        file,
        `kustomize edit set image refuses "${argument.slice(
          0,
          200,
        )}": give name=newName:tag, name=newName@digest, name:tag or name@digest`,
      );
    }
    entries.set(entry.name ?? '', entry);
  }
  const existing: ImageEntry[] = [
    ...(kustomization.images ?? []),
    ...(kustomization.imageTags ?? []),
  ];
  for (const entry of existing) {
    const name = entry.name ?? '';
    let argument = entries.get(name);
    if (argument) {
      for (const field of FIELDS)
        if (argument[field] === PRESERVE)
          argument = replaced(argument, field, entry[field]);
      entries.set(name, argument);
    } else entries.set(name, entry);
  }
  const edited = [...entries.values()].map(entry => {
    let result = entry;
    for (const field of FIELDS)
      if (result[field] === PRESERVE) result = replaced(result, field, '');
    return withoutEmpty(result);
  });
  edited.sort((a, b) => compare(a.name ?? '', b.name ?? ''));
  const { imageTags: _imageTags, ...rest } = kustomization;
  return { ...rest, images: edited };
}

/** Go's string order: by UTF-8 bytes. */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
