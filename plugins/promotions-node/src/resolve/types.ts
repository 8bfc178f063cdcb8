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
  /**
   * For a Helm environment resolved with `helm` layering and a version: `values` when the version
   * is the version key's value (or the digest beside it), `appVersion` when the version key is
   * empty or absent and the version is the chart's `Chart.yaml` `appVersion`, as a chart's
   * templates usually derive the image tag.
   */
  versionSource?: 'values' | 'appVersion';
}

/**
 * A Helm parameter, as `helm --set` (or with `forceString`, `--set-string`) applies it.
 *
 * @public
 */
export interface HelmParameter {
  /** The key path in Helm's `--set` syntax: `a.b`, `a[0].b`, `\.` and `\,` escaped. */
  name: string;
  /** The value as Helm's `--set` syntax reads it: `{a,b}` is a list, other commas stay in it. */
  value: string;
  /** `--set-string`: the value stays a string rather than being typed. */
  forceString?: boolean;
}

/**
 * How Helm under Argo CD layers a chart's values (an Argo CD source's `path` and `helm` block):
 * the chart's `values.yaml`, then each value file in order, then `valuesObject` (or, when it is
 * not set, `values`), then `parameters`. Paths are from the repository's root.
 *
 * @public
 */
export interface HelmLayering {
  /** The chart's directory: its `Chart.yaml` must exist; its `values.yaml` is read when present. */
  chartPath: string;
  /** Value files (`--values`), in merge order; any directory of the repository. */
  valueFiles: string[];
  /** Inline values, a YAML mapping as text; ignored when `valuesObject` is set. */
  values?: string | null;
  /** Inline values as an object; Argo CD prefers it over `values`. */
  valuesObject?: unknown;
  /**
   * `--set` and `--set-string` parameters. As Argo CD passes them, a later parameter of the same
   * name and kind replaces an earlier one, and every `--set` applies before every `--set-string`.
   */
  parameters?: HelmParameter[];
  /** Skip value files that do not exist rather than failing. */
  ignoreMissingValueFiles?: boolean;
  /**
   * The file the layering is written in (an Argo CD Application manifest), named by errors in
   * `values`, `valuesObject` and `parameters`; the chart's `Chart.yaml` when absent.
   */
  manifest?: string;
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
  /**
   * Resolve the environment as a Helm chart with these values layered as Argo CD has Helm layer
   * them, instead of reading `path` as a values file over the `values.yaml` beside it; `path`
   * then only names the environment in the result.
   */
  helm?: HelmLayering;
  /**
   * Images set in a Kustomize environment's kustomization before it is built, as Argo CD sets an
   * Application's `kustomize.images` with `kustomize edit set image`: `name=newName:tag`,
   * `name:tag`, `name@digest`. Not read for a Helm environment.
   */
  kustomizeImages?: string[];
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
