export * from './types';
export { DEFAULT_ARGOCD_LIMITS } from './budget';
export { parseArgoCdManifest, readArgoCdManifest } from './applicationSets';
export { isRepositoryURL, manifestEnvironments } from './environments';
export type {
  ManifestEnvironment,
  ManifestEnvironmentsOptions,
} from './environments';
