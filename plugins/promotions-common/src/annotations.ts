/**
 * Repository id from `promotions.repositories` in app-config; with `{env}`, a template naming one
 * repository per environment (`environment-{env}`).
 *
 * @public
 */
export const ANNOTATION_REPOSITORY = 'gitops-promotions/repository';
/**
 * Path template with `{env}`: a Kustomize directory or a Helm values file. Without `{env}` when
 * the branch, tag or repository changes with the environment instead.
 *
 * @public
 */
export const ANNOTATION_PATH = 'gitops-promotions/path';
/**
 * Branch template with `{env}` (`{env}`, `env/{env}`): each environment is read from its own
 * branch of the repository.
 *
 * @public
 */
export const ANNOTATION_REF = 'gitops-promotions/ref';
/**
 * Tag pattern with `{env}` and `*` (`v*-{env}`): each environment is read from the tag matching
 * it with the highest version.
 *
 * @public
 */
export const ANNOTATION_TAG = 'gitops-promotions/tag';
/**
 * An Argo CD `Application` or `ApplicationSet` manifest in the repository: the Applications it
 * declares or generates give each environment's path, revision and Helm values.
 *
 * @public
 */
export const ANNOTATION_ARGOCD_MANIFEST = 'gitops-promotions/argocd-manifest';
/**
 * Pipeline name from `promotions.pipelines`; `default` when absent.
 *
 * @public
 */
export const ANNOTATION_PIPELINE = 'gitops-promotions/pipeline';
/**
 * Which image is the service's version when an environment runs several.
 *
 * @public
 */
export const ANNOTATION_IMAGE = 'gitops-promotions/image';
/**
 * Helm values key path of the version; `image.tag` when absent.
 *
 * @public
 */
export const ANNOTATION_VERSION_KEY = 'gitops-promotions/version-key';

/**
 * Annotations of the Argo CD plugins, reused rather than rivalled.
 *
 * @public
 */
export const ANNOTATION_ARGOCD_APP_NAME = 'argocd/app-name';
/** @public */
export const ANNOTATION_ARGOCD_APP_SELECTOR = 'argocd/app-selector';
/** @public */
export const ANNOTATION_ARGOCD_INSTANCE_NAME = 'argocd/instance-name';
/**
 * The namespace of the applications `argocd/app-name` and `argocd/app-selector` find, for
 * applications outside Argo CD's own namespace.
 *
 * @public
 */
export const ANNOTATION_ARGOCD_APP_NAMESPACE = 'argocd/app-namespace';
/**
 * Label selector of the Flux `Kustomization` and `HelmRelease` objects that deploy the entity.
 *
 * @public
 */
export const ANNOTATION_FLUX_SELECTOR = 'gitops-promotions/flux-selector';

/** @public */
export const DEFAULT_PIPELINE = 'default';
/** @public */
export const DEFAULT_VERSION_KEY = 'image.tag';
/** @public */
export const ENV_PLACEHOLDER = '{env}';
