import { ImageRef } from '@gitops-promotions/plugin-promotions-common';

/**
 * Parses an image reference: `[registry[:port]/]path[:tag][@digest]`. A reference without a
 * tag has tag null (not `latest`): the repository did not say.
 */
export function parseImage(reference: string): ImageRef {
  let rest = reference.trim();
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | null = null;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  // A colon before the last slash belongs to a registry port, not a tag.
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

export function formatImage(image: ImageRef): string {
  return `${image.name}${image.tag ? `:${image.tag}` : ''}${
    image.digest ? `@${image.digest}` : ''
  }`;
}

/** A digest shortened for people: `sha256:` and the first 12 hex digits. */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.includes(':')
    ? digest.split(':', 2)
    : ['sha256', digest];
  return `${algorithm}:${hex.slice(0, 12)}`;
}

/** The version shown for an image: its tag, or its short digest when pinned by digest only. */
export function displayVersion(image: ImageRef): string | null {
  if (image.tag) return image.tag;
  if (image.digest) return shortDigest(image.digest);
  return null;
}

/** Whether an image is the one a `gitops-promotions/image` annotation names. */
export function imageMatches(image: ImageRef, wanted: string): boolean {
  const name = parseImage(wanted).name;
  return image.name === name || image.name.endsWith(`/${name}`);
}
