export * from './types';
export { DEFAULT_ARGOCD_LIMITS } from './budget';
export { parseArgoCdManifest, readArgoCdManifest } from './applicationSets';
export { manifestEnvironments } from './environments';
export type {
  ManifestEnvironment,
  ManifestEnvironmentsOptions,
} from './environments';
