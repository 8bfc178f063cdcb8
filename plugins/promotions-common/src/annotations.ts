/** Repository id from `promotions.repositories` in app-config. */
export const ANNOTATION_REPOSITORY = 'gitops-promotions/repository';
/** Path template with `{env}`: a Kustomize directory or a Helm values file. */
export const ANNOTATION_PATH = 'gitops-promotions/path';
/** Pipeline name from `promotions.pipelines`; `default` when absent. */
export const ANNOTATION_PIPELINE = 'gitops-promotions/pipeline';
/** Which image is the service's version when an environment runs several. */
export const ANNOTATION_IMAGE = 'gitops-promotions/image';
/** Helm values key path of the version; `image.tag` when absent. */
export const ANNOTATION_VERSION_KEY = 'gitops-promotions/version-key';

/** Annotations of the Argo CD plugins, reused rather than rivalled. */
export const ANNOTATION_ARGOCD_APP_NAME = 'argocd/app-name';
export const ANNOTATION_ARGOCD_APP_SELECTOR = 'argocd/app-selector';
export const ANNOTATION_ARGOCD_INSTANCE_NAME = 'argocd/instance-name';

export const DEFAULT_PIPELINE = 'default';
export const DEFAULT_VERSION_KEY = 'image.tag';
export const ENV_PLACEHOLDER = '{env}';
