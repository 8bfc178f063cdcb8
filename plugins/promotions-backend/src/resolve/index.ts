import crypto from 'node:crypto';
import { DEFAULT_VERSION_KEY, ImageRef } from '@gitops-promotions/plugin-promotions-common';
import { RepositorySnapshot } from '../repository/types';
import { resolveHelmValues } from './helm';
import { displayVersion, formatImage, imageMatches, parseImage } from './images';
import { buildKustomization, Resource } from './kustomize';
import { clone } from './patch';
import { ComparableObject, ResolvedEnvironment, ResolveOptions, ResolutionError } from './types';
import { containersOf } from './workloads';

export * from './types';
export { parseImage, formatImage, displayVersion } from './images';

function uniqueImages(images: ImageRef[]): ImageRef[] {
  const seen = new Set<string>();
  return images.filter(image => {
    const key = formatImage(image);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function chooseVersion(images: ImageRef[], wanted: string | undefined, path: string): string | null {
  if (images.length === 0) return null;
  if (!wanted) return displayVersion(images[0]);
  const match = images.find(image => imageMatches(image, wanted));
  if (!match) {
    throw new ResolutionError(
      path,
      `no container runs the image "${wanted}" (found: ${images.map(i => i.name).join(', ')})`,
    );
  }
  return displayVersion(match);
}

const secretDigest = (value: unknown) =>
  `sha256:${crypto.createHash('sha256').update(String(value)).digest('hex').slice(0, 12)}`;

/** An object as compared between environments: namespace, name prefix and images taken out. */
function comparable(resource: Resource): ComparableObject {
  const body = clone(resource.object);
  delete body.metadata.namespace;
  body.metadata.name = resource.originalName;
  for (const container of containersOf(body)) delete container.image;
  if (body.kind === 'Secret') {
    // Secret values are compared by digest so that drift never shows them.
    for (const field of ['data', 'stringData']) {
      const data = body[field] as Record<string, unknown> | undefined;
      if (data) for (const key of Object.keys(data)) data[key] = secretDigest(data[key]);
    }
  }
  return { id: `${resource.object.kind}/${resource.originalName}`, body };
}

/**
 * Resolves what an environment would deploy: a Kustomize directory is built by kustomize's rules
 * (resources, components, patches, then the images transformer); a values file is merged over
 * the `values.yaml` beside it.
 */
export async function resolveEnvironment(
  snapshot: RepositorySnapshot,
  path: string,
  options: ResolveOptions = {},
): Promise<ResolvedEnvironment> {
  if (/\.ya?ml$/.test(path)) {
    const helm = await resolveHelmValues(snapshot, path, options.versionKey ?? DEFAULT_VERSION_KEY);
    return {
      layout: 'helm',
      path,
      images: helm.images,
      version: chooseVersion(helm.images, options.image, path),
      comparable: helm.comparable,
      inputs: helm.inputs,
      warnings: [],
    };
  }
  const built = await buildKustomization(snapshot, path);
  const images = uniqueImages(
    built.resources.flatMap(resource =>
      containersOf(resource.object)
        .filter(container => typeof container.image === 'string')
        .map(container => parseImage(container.image as string)),
    ),
  );
  return {
    layout: 'kustomize',
    path,
    images,
    version: chooseVersion(images, options.image, path),
    comparable: built.resources.map(comparable),
    inputs: built.inputs,
    warnings: built.warnings,
  };
}
