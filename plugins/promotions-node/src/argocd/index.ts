export * from './types';
export { DEFAULT_ARGOCD_LIMITS } from './budget';
export { parseArgoCdManifest, readArgoCdManifest } from './applicationSets';
