import { ImageRef } from '@gitops-promotions/plugin-promotions-common';

export {
  displayVersion,
  formatImage,
  shortDigest,
} from '@gitops-promotions/plugin-promotions-common';

/**
 * Parses an image reference: `[registry[:port]/]path[:tag][@digest]`. A reference without a
 * tag has tag null (not `latest`): the repository did not say.
 *
 * @public
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

/** Whether an image is the one a `gitops-promotions/image` annotation names. */
export function imageMatches(image: ImageRef, wanted: string): boolean {
  const name = parseImage(wanted).name;
  return image.name === name || image.name.endsWith(`/${name}`);
}
