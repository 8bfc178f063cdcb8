import os from 'node:os';
import path from 'node:path';
import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { RepositoryConfig } from '../config';
import { GitRepository } from './git';
import { GithubRepository } from './github';
import { GitOpsRepository } from './types';

export * from './types';
export { GitRepository } from './git';
export { GithubRepository } from './github';
export type {
  GithubRepositoryOptions,
  GithubRequestPolicy,
  GithubRequestRecord,
} from './github';

/** Creates the repository reader of each configured repository, by provider. */
export function createRepositories(
  repositories: Iterable<RepositoryConfig>,
  deps: { rootConfig: Config; logger: LoggerService },
): Map<string, GitOpsRepository> {
  const cacheDir = path.join(
    deps.rootConfig.getOptionalString('backend.workingDirectory') ??
      os.tmpdir(),
    'backstage-promotions',
  );
  let integrations: ScmIntegrations | undefined;
  const result = new Map<string, GitOpsRepository>();
  for (const repository of repositories) {
    const logger = deps.logger.child({ repository: repository.id });
    if (repository.provider === 'git') {
      result.set(
        repository.id,
        new GitRepository({ ...repository, cacheDir, logger }),
      );
    } else {
      integrations ??= ScmIntegrations.fromConfig(deps.rootConfig);
      result.set(
        repository.id,
        new GithubRepository({ ...repository, integrations, logger }),
      );
    }
  }
  return result;
}
