import {
  DEFAULT_VERSION_KEY,
  ImageRef,
} from '@gitops-promotions/plugin-promotions-common';
import { RepositorySnapshot } from '../repository/types';
import { resolveHelmLayering, resolveHelmValues } from './helm';
import {
  displayVersion,
  formatImage,
  imageMatches,
  parseImage,
} from './images';
import { buildKustomization, Resource } from './kustomize';
import {
  ComparableObject,
  ResolvedEnvironment,
  ResolveOptions,
  ResolutionError,
} from './types';
import { containersOf, everyContainer } from './workloads';
import { recordingSnapshot } from './probes';
import { ResolveBudget } from './budget';

export * from './types';
export { hasDirectory, probesDigest, probesHold } from './probes';
export type { Probes } from './probes';
export { DEFAULT_RESOLVE_LIMITS } from './budget';
export type { ResolveLimits } from './budget';
export { parseImage, formatImage, displayVersion } from './images';
export { isUnsafeKeyPath } from './helm';

function uniqueImages(images: ImageRef[]): ImageRef[] {
  const seen = new Set<string>();
  return images.filter(image => {
    const key = formatImage(image);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The version shown for an environment: that of the image the entity names, else of the first. */
function versionOf(
  images: ImageRef[],
  wanted: string | undefined,
  path: string,
): string | null {
  if (images.length === 0) return null;
  if (!wanted) return displayVersion(images[0]);
  const match = images.find(image => imageMatches(image, wanted));
  if (!match) {
    const found = images.map(image => image.name).join(', ');
    throw new ResolutionError(
      path,
      `no container runs the image "${wanted}" (found: ${found})`,
    );
  }
  return displayVersion(match);
}

/** An object as compared between environments: namespace, name prefix and suffix, and images taken out. */
function comparable({ object, originalName }: Resource): ComparableObject {
  const body = structuredClone(object);
  delete body.metadata.namespace;
  body.metadata.name = originalName;
  // Images are taken out wherever the images transformer would set them; a CRD has none.
  if (body.kind !== 'CustomResourceDefinition')
    for (const container of everyContainer(body)) delete container.image;
  // Secret values stay as they are here; whoever stores or shows them must hide them first.
  return { id: `${object.kind}/${originalName}`, body };
}

/**
 * Resolves what an environment would deploy. With the `helm` option, a Helm chart's values
 * layered as Argo CD has Helm layer them (`path` then only names the environment); otherwise a
 * path ending in `.yaml` or `.yml` is a Helm values file, merged over the `values.yaml` beside
 * it, and any other path is a Kustomize directory, built by kustomize's rules (resources,
 * components, patches, then the images transformer).
 *
 * @public
 */
export async function resolveEnvironment(
  repositorySnapshot: RepositorySnapshot,
  path: string,
  options: ResolveOptions = {},
): Promise<ResolvedEnvironment> {
  const budget = new ResolveBudget(options.limits);
  const { snapshot, probes } = recordingSnapshot(
    repositorySnapshot,
    budget,
    options.readable,
  );
  try {
    return { ...(await resolve(snapshot, path, options, budget)), probes };
  } catch (error) {
    // What was read before the failure decides it as much as what a success reads.
    if (error instanceof ResolutionError) error.probes = probes;
    throw error;
  }
}

async function resolve(
  snapshot: RepositorySnapshot,
  path: string,
  options: ResolveOptions,
  budget: ResolveBudget,
): Promise<Omit<ResolvedEnvironment, 'probes'>> {
  if (options.helm) {
    const helm = await resolveHelmLayering(
      snapshot,
      options.helm,
      options.versionKey || DEFAULT_VERSION_KEY,
      budget,
    );
    const version = versionOf(helm.images, options.image, path);
    return {
      layout: 'helm',
      path,
      images: helm.images,
      version,
      comparable: helm.comparable,
      inputs: helm.inputs,
      warnings: [],
      ...(version !== null ? { versionSource: helm.versionSource } : {}),
      ...(options.render ? { rendered: [helm.values] } : {}),
    };
  }
  if (/\.ya?ml$/.test(path)) {
    const helm = await resolveHelmValues(
      snapshot,
      path,
      options.versionKey || DEFAULT_VERSION_KEY,
    );
    return {
      layout: 'helm',
      path,
      images: helm.images,
      version: versionOf(helm.images, options.image, path),
      comparable: helm.comparable,
      inputs: helm.inputs,
      warnings: [],
      ...(options.render ? { rendered: [helm.values] } : {}),
    };
  }
  const built = await buildKustomization(
    snapshot,
    path,
    budget,
    options.kustomizeImages,
  );
  const images = uniqueImages(
    built.resources.flatMap(({ object }) =>
      containersOf(object).flatMap(container =>
        typeof container.image === 'string'
          ? [parseImage(container.image)]
          : [],
      ),
    ),
  );
  return {
    layout: 'kustomize',
    path,
    images,
    version: versionOf(images, options.image, path),
    comparable: built.resources.map(comparable),
    inputs: built.inputs,
    warnings: built.warnings,
    ...(options.render
      ? { rendered: built.resources.map(({ object }) => object) }
      : {}),
  };
}
