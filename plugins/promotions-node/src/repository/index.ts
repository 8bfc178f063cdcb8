export * from './types';
export type { RepositoryTag } from './tags';
export { pickTag, tagPatternProblem } from './tags';
export { GitRepository, gitSource } from './git/GitRepository';
export type { GitRepositoryOptions } from './git/GitRepository';
export { GithubRepository } from './github/GithubRepository';
export type { GithubRepositoryOptions } from './github/GithubRepository';
export type {
  GithubRequestPolicy,
  GithubRequestRecord,
} from './github/githubClient';
export { directorySnapshot, gitBlobId } from './directorySnapshot';
export { gitRepositoryProvider, githubRepositoryProvider } from './providers';
export type { PromotionsRepositoriesService } from './RepositoryRegistry';
export { RepositoryRegistry } from './RepositoryRegistry';
