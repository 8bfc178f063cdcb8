/**
 * Backend of GitOps Promotions for Backstage: reads per-environment versions from GitOps
 * repositories, computes drift, and serves the Promotions tab.
 *
 * @packageDocumentation
 */
export { promotionsPlugin as default } from './plugin';
export type { GitOpsRepository, RepositorySnapshot, TreeFile, CommitInfo } from './repository/types';
