import { ImageRef } from './types';

/**
 * A digest shortened for people: `sha256:` and the first 12 hex digits.
 *
 * @public
 */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.includes(':')
    ? digest.split(':', 2)
    : ['sha256', digest];
  return `${algorithm}:${hex.slice(0, 12)}`;
}

/**
 * An image as `name:tag@digest`, each part when known; with `short`, the digest shortened for
 * people.
 *
 * @public
 */
export function formatImage(
  image: ImageRef,
  options: { short?: boolean } = {},
): string {
  const tag = image.tag ? `:${image.tag}` : '';
  const digest = image.digest
    ? `@${options.short ? shortDigest(image.digest) : image.digest}`
    : '';
  return `${image.name}${tag}${digest}`;
}

/**
 * The version shown for an image: its tag, or its short digest when pinned by digest only.
 *
 * @public
 */
export function displayVersion(image: ImageRef): string | null {
  if (image.tag) return image.tag;
  if (image.digest) return shortDigest(image.digest);
  return null;
}

/**
 * The last part of a config-drift key, as a summary names it: `...env.CACHE_SIZE` → `CACHE_SIZE`.
 *
 * @public
 */
export const shortKey = (key: string) => key.split(/[ .]/).pop() || key;
