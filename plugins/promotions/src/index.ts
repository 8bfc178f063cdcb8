/**
 * The Promotions tab of GitOps Promotions for Backstage.
 *
 * @packageDocumentation
 */
export { promotionsPlugin, EntityPromotionsContent, isPromotionsAvailable } from './plugin';
export { promotionsApiRef, PromotionsClient } from './api';
export type { PromotionsApi } from './api';
export { EnvironmentPipeline, pipelineColumns } from './components/EnvironmentPipeline';
export { EnvironmentCard } from './components/EnvironmentCard';
export { DriftBadge } from './components/DriftBadge';
