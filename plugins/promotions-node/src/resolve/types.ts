import { ImageRef } from '@gitops-promotions/plugin-promotions-common';
import { Probes } from './probes';
import { ResolveLimits } from './budget';
import { ReadablePaths } from '../config/pathRules';

/**
 * A Kubernetes object as read from YAML.
 *
 * @public
 */
export interface KubernetesObject {
  apiVersion?: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/**
 * One rendered object prepared for comparing environments: `id` is stable across environments
 * (kind and name before any name prefix or suffix), and `body` has the keys that are expected to
 * differ between environments (namespace, name prefix and suffix, image references) removed.
 *
 * @public
 */
export interface ComparableObject {
  id: string;
  body: unknown;
}

/** @public */
export interface ResolvedEnvironment {
  layout: 'kustomize' | 'helm';
  /** The environment's path in the repository (a directory or a values file). */
  path: string;
  /** Effective images of every container and init container, in document order, deduplicated. */
  images: ImageRef[];
  /** The version shown for the environment (see `versionOf`); null when no image was found. */
  version: string | null;
  /** The environment's rendered configuration, ready for config-drift comparison. */
  comparable: ComparableObject[];
  /** Every repository file that was read to resolve the environment, sorted. */
  inputs: string[];
  /**
   * Things that were skipped but did not prevent resolution: `<file>: not read: <field>` for each
   * kustomize field or remote resource the resolver does not apply, and patch targets that match
   * nothing.
   */
  warnings: string[];
  /** Every lookup the resolution made: unchanged answers mean an unchanged result. */
  probes: Probes;
  /**
   * With `render`, what the environment renders to, whole and in order: the objects of a
   * Kustomize build, or a Helm environment's merged values.
   */
  rendered?: unknown[];
}

/** @public */
export interface ResolveOptions {
  /** `gitops-promotions/image`: which image is the service's version when there are several. */
  image?: string;
  /** `gitops-promotions/version-key`: Helm values key path, `image.tag` when absent. */
  versionKey?: string;
  /** How much the resolution may read and compute; `DEFAULT_RESOLVE_LIMITS` when absent. */
  limits?: ResolveLimits;
  /** The only files it may read; any other read fails, naming the file and the rule. */
  readable?: ReadablePaths;
  /** Also return the rendered objects, for showing a change before it is made. */
  render?: boolean;
}

/**
 * An environment could not be resolved; `file` names the repository file at fault.
 *
 * @public
 */
export class ResolutionError extends Error {
  readonly file: string;
  /** The lookups made up to the failure, set by `resolveEnvironment`. */
  probes?: Probes;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ResolutionError';
    this.file = file;
  }

  /** The error again, from its parts, as a worker thread reported it. */
  static withMessage(
    file: string,
    message: string,
    probes?: Probes,
  ): ResolutionError {
    const error = new ResolutionError(file, '');
    error.message = message;
    error.probes = probes;
    return error;
  }
}
