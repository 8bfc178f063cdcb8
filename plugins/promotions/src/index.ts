/**
 * The Promotions tab of GitOps Promotions for Backstage.
 *
 * @packageDocumentation
 */
export {
  promotionsPlugin,
  EntityPromotionsContent,
  EntityPromotionsCard,
  PromotionsFleetPage,
  PromotionsInboxPage,
  isPromotionsAvailable,
  SystemPromotionsContent,
  isSystem,
} from './plugin';
export { rootRouteRef, fleetRouteRef, inboxRouteRef } from './routes';
export { promotionsApiRef, PromotionsClient } from './api';
export type { InboxQuery, PromotionsApi, PromotionRequestInput } from './api';
export {
  EnvironmentPipeline,
  pipelineColumns,
  pipelineEdges,
} from './components/EnvironmentPipeline';
export type { PipelineEdge } from './components/EnvironmentPipeline';
export { EnvironmentCard, formatImageRef } from './components/EnvironmentCard';
export { DriftBadge } from './components/DriftBadge';
