import os from 'node:os';
import path from 'node:path';
import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { RepositoryConfig } from '../config';
import { GitRepository } from './git';
import { GitOpsRepository } from './types';

export * from './types';
export { GitRepository } from './git';

/** Creates the repository reader of each configured repository, by provider. */
export function createRepositories(
  repositories: Iterable<RepositoryConfig>,
  deps: { rootConfig: Config; logger: LoggerService },
): Map<string, GitOpsRepository> {
  const cacheDir = path.join(
    deps.rootConfig.getOptionalString('backend.workingDirectory') ?? os.tmpdir(),
    'backstage-promotions',
  );
  const result = new Map<string, GitOpsRepository>();
  for (const repository of repositories) {
    if (repository.provider === 'git') {
      result.set(
        repository.id,
        new GitRepository({ ...repository, cacheDir, logger: deps.logger.child({ repository: repository.id }) }),
      );
    } else {
      throw new Error(
        `promotions.repositories[${repository.id}]: provider "${repository.provider}" is not available in this version`,
      );
    }
  }
  return result;
}
