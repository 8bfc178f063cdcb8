import { ScmIntegrations } from '@backstage/integration';
import { GitRepository } from './git/GitRepository';
import { GithubRepository } from './github/GithubRepository';
import { GitOpsRepositoryProvider } from './types';

/**
 * The `git` provider: any Git URL, or a path on the backend's machine.
 *
 * @public
 */
export const gitRepositoryProvider: GitOpsRepositoryProvider = {
  type: 'git',
  create: ({ repository, logger, workingDirectory }) =>
    new GitRepository({
      id: repository.id,
      url: repository.url,
      branch: repository.branch,
      cacheDir: workingDirectory,
      logger,
      maxBranchBytes: repository.config.getOptionalNumber('maxBranchBytes'),
    }),
};

/**
 * The `github` provider: GitHub or GitHub Enterprise, with the credentials of Backstage's
 * `integrations.github` for the repository's host.
 *
 * @public
 */
export const githubRepositoryProvider: GitOpsRepositoryProvider = {
  type: 'github',
  create: ({ repository, rootConfig, logger, onRequest }) =>
    new GithubRepository({
      id: repository.id,
      url: repository.url,
      branch: repository.branch,
      integrations: ScmIntegrations.fromConfig(rootConfig),
      logger,
      onRequest,
    }),
};
