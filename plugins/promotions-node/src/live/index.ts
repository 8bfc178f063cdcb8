export * from './types';
export * from './environmentMapping';
export * from './liveStateConfig';
export { ArgoCdLiveStateSource } from './argocd/ArgoCdLiveStateSource';
export type { ArgoCdLiveStateSourceOptions } from './argocd/ArgoCdLiveStateSource';
export { FluxLiveStateSource } from './flux/FluxLiveStateSource';
export type { FluxLiveStateSourceOptions } from './flux/FluxLiveStateSource';
