import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import {
  ComparableObject,
  Probes,
  PromotionsResolverService,
  ResolutionError,
  ResolveOptions,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';

/** An environment's resolution as stored: what it deploys, or why that is not known. */
export type EnvironmentResolution =
  | {
      ok: true;
      version: string | null;
      images: ImageRef[];
      comparable: ComparableObject[];
      inputs: string[];
      warnings: string[];
    }
  | { ok: false; error: string; inputs: string[] };

/**
 * Resolves one environment at one commit. A failure in the repository's content is a result
 * like any other, with the lookups that led to it, so an unchanged broken environment is not
 * redone either; any other failure (reading the repository) has no probes and is redone.
 */
export async function resolveForState(
  resolver: PromotionsResolverService,
  snapshot: RepositorySnapshot,
  path: string,
  options: ResolveOptions,
): Promise<{ resolution: EnvironmentResolution; probes: Probes | null }> {
  try {
    const resolved = await resolver.resolve(snapshot, path, options);
    return {
      probes: resolved.probes,
      resolution: {
        ok: true,
        version: resolved.version,
        images: resolved.images,
        comparable: resolved.comparable,
        inputs: resolved.inputs,
        warnings: resolved.warnings,
      },
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const inputs = error instanceof ResolutionError ? [error.file] : [path];
    return {
      probes: error instanceof ResolutionError ? error.probes ?? null : null,
      resolution: { ok: false, error: message, inputs },
    };
  }
}
