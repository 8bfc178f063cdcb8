/**
 * Backend of GitOps Promotions for Backstage: reads per-environment versions from GitOps
 * repositories, computes drift, and serves the Promotions tab.
 *
 * @packageDocumentation
 */
export { promotionsPlugin as default } from './plugin';
export { readPromotionsConfig } from './config';
export type {
  PromotionsConfig,
  RepositoryConfig,
  PipelineEnvironment,
} from './config';
export { resolveEnvironment, ResolutionError } from './resolve';
export type { ResolvedEnvironment, ResolveOptions } from './resolve';
export { directorySnapshot } from './repository/directory';
export { runGit, gitSource, GitRepository } from './repository/git';
export { GithubRepository } from './repository/github';
export type { GithubRepositoryOptions } from './repository/github';
export type {
  GitOpsRepository,
  RepositorySnapshot,
  TreeFile,
  CommitInfo,
} from './repository/types';
