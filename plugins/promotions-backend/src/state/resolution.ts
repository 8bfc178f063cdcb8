import { LoggerService } from '@backstage/backend-plugin-api';
import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import {
  ComparableObject,
  Probes,
  PromotionsResolverService,
  ResolutionError,
  ResolveOptions,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import { untilAborted } from '../untilAborted';

/** An environment's resolution as stored: what it deploys, or why that is not known. */
export type EnvironmentResolution =
  | {
      ok: true;
      version: string | null;
      /** Set when the version is the chart's `appVersion`, not a value. */
      versionSource?: 'appVersion';
      images: ImageRef[];
      comparable: ComparableObject[];
      inputs: string[];
      warnings: string[];
    }
  | { ok: false; error: string; inputs: string[] };

/**
 * Resolves one environment at one commit. A failure in the repository's content is a result
 * like any other, with the lookups that led to it, so an unchanged broken environment is not
 * redone either; any other failure (reading the repository) has no probes and is redone. Its
 * message names only the repository and environment, since it is served: the reason, which may
 * hold local paths or git's own words, goes to the log. An aborted `signal` is thrown, not
 * stored.
 */
export async function resolveForState(
  resolver: PromotionsResolverService,
  snapshot: RepositorySnapshot,
  path: string,
  options: ResolveOptions,
  context: {
    repositoryId: string;
    environment: string;
    logger: LoggerService;
    signal?: AbortSignal;
  },
): Promise<{ resolution: EnvironmentResolution; probes: Probes | null }> {
  const { signal } = context;
  signal?.throwIfAborted();
  try {
    const resolved = await untilAborted(
      resolver.resolve(snapshot, path, options),
      signal,
    );
    return {
      probes: resolved.probes,
      resolution: {
        ok: true,
        version: resolved.version,
        ...(resolved.versionSource === 'appVersion'
          ? { versionSource: 'appVersion' as const }
          : {}),
        images: resolved.images,
        comparable: resolved.comparable,
        inputs: resolved.inputs,
        warnings: resolved.warnings,
      },
    };
  } catch (error) {
    signal?.throwIfAborted();
    if (error instanceof ResolutionError) {
      return {
        probes: error.probes ?? null,
        resolution: { ok: false, error: error.message, inputs: [error.file] },
      };
    }
    const { repositoryId, environment, logger } = context;
    logger.warn(
      `Could not resolve environment ${environment} (${path}) of repository ${repositoryId} at ${
        snapshot.commit
      }: ${error instanceof Error ? error.message : String(error)}`,
    );
    return {
      probes: null,
      resolution: {
        ok: false,
        error: `Repository ${repositoryId}: environment ${environment} could not be read at ${path}; the backend's log says why`,
        inputs: [path],
      },
    };
  }
}
