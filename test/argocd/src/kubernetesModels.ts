import path from 'node:path';
import type * as HelmV2 from '@kubernetes-models/flux-cd/helm.toolkit.fluxcd.io/v2';
import type * as KustomizeV1 from '@kubernetes-models/flux-cd/kustomize.toolkit.fluxcd.io/v1';
import type * as RolloutsV1alpha1 from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';

/**
 * Loads the `@kubernetes-models` classes. They are ES modules whose `exports` map has only an
 * `import` condition, which neither Jest's CommonJS resolver nor `require` can follow; Node's own
 * loader can load them by file path (`require` of an ES module, Node 22.12 and later), and does
 * so the same way under Jest and in a plain Node process.
 */

// Jest replaces `module.createRequire` with its own resolver; the built-in one is Node's.
const nodeRequire = process
  .getBuiltinModule('node:module')
  .createRequire(__filename);

function load<T>(packageName: string, subpath: string): T {
  const root = path.dirname(nodeRequire.resolve(`${packageName}/package.json`));
  return nodeRequire(path.join(root, subpath, 'index.js')) as T;
}

let rollouts: typeof RolloutsV1alpha1 | undefined;
let kustomize: typeof KustomizeV1 | undefined;
let helm: typeof HelmV2 | undefined;

/** `argoproj.io/v1alpha1` of `@kubernetes-models/argo-rollouts`. */
export function rolloutModels(): typeof RolloutsV1alpha1 {
  rollouts ??= load<typeof RolloutsV1alpha1>(
    '@kubernetes-models/argo-rollouts',
    'argoproj.io/v1alpha1',
  );
  return rollouts;
}

/** `kustomize.toolkit.fluxcd.io/v1` of `@kubernetes-models/flux-cd`. */
export function kustomizeModels(): typeof KustomizeV1 {
  kustomize ??= load<typeof KustomizeV1>(
    '@kubernetes-models/flux-cd',
    'kustomize.toolkit.fluxcd.io/v1',
  );
  return kustomize;
}

/** `helm.toolkit.fluxcd.io/v2` of `@kubernetes-models/flux-cd`. */
export function helmModels(): typeof HelmV2 {
  helm ??= load<typeof HelmV2>(
    '@kubernetes-models/flux-cd',
    'helm.toolkit.fluxcd.io/v2',
  );
  return helm;
}

/** The problems `validate()` of a model reports, one per schema error; none when it is valid. */
export function modelProblems(
  model: { validate(): void },
  what: string,
): string[] {
  try {
    model.validate();
    return [];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message
      .replace(/^Error: /, '')
      .split(', data')
      .map(
        (part, i) => `${what} is invalid: ${i === 0 ? part : `data${part}`}`,
      );
  }
}
