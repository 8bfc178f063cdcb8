/**
 * Backend of GitOps Promotions for Backstage: reads per-environment versions from GitOps
 * repositories, computes drift, and serves the Promotions tab. What other packages build on
 * is in `@gitops-promotions/plugin-promotions-node`.
 *
 * @packageDocumentation
 */
export { promotionsPlugin as default } from './plugin';
