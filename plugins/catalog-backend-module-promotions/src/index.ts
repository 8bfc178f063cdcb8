/**
 * Catalog module of GitOps Promotions: reads entities from promotions `git` repositories.
 *
 * @packageDocumentation
 */
export { catalogModulePromotions as default } from './module';
export { GitOpsLocationProcessor } from './GitOpsLocationProcessor';
export { ScaffoldLocationProvider } from './ScaffoldLocationProvider';
