import { LoggerService } from '@backstage/backend-plugin-api';
import {
  CatalogProcessor,
  CatalogProcessorEmit,
  CatalogProcessorParser,
  LocationSpec,
  processingResult,
} from '@backstage/plugin-catalog-node';
import {
  GitRepository,
  PromotionsConfig,
} from '@gitops-promotions/plugin-promotions-backend';

/** Location type of a file in a promotions GitOps repository: `<repository id>:<branch>:<path>`. */
export const GITOPS_LOCATION_TYPE = 'gitops-promotions';

export function gitopsLocationTarget(
  repository: string,
  branch: string,
  path: string,
) {
  return `${repository}:${branch}:${path}`;
}

/**
 * Reads `gitops-promotions` locations: catalog files in repositories of the `git` provider,
 * which no URL reader can reach (a local path, or a Git URL outside the configured integrations).
 */
export class GitOpsLocationProcessor implements CatalogProcessor {
  constructor(
    private readonly options: {
      config: PromotionsConfig;
      cacheDir: string;
      logger: LoggerService;
    },
  ) {}

  getProcessorName() {
    return 'GitOpsLocationProcessor';
  }

  async readLocation(
    location: LocationSpec,
    optional: boolean,
    emit: CatalogProcessorEmit,
    parser: CatalogProcessorParser,
  ): Promise<boolean> {
    if (location.type !== GITOPS_LOCATION_TYPE) return false;
    const [repositoryId, branch, ...rest] = location.target.split(':');
    const path = rest.join(':');
    const repository = this.options.config.repositories.get(repositoryId);
    if (!repository || repository.provider !== 'git' || !branch || !path) {
      emit(
        processingResult.inputError(
          location,
          `"${location.target}" is not <git repository id>:<branch>:<path>`,
        ),
      );
      return true;
    }
    try {
      const reader = new GitRepository({
        id: repository.id,
        url: repository.url,
        branch,
        cacheDir: this.options.cacheDir,
        logger: this.options.logger,
      });
      const content = await (await reader.snapshot()).readFile(path);
      if (!content) {
        if (!optional)
          emit(
            processingResult.notFoundError(
              location,
              `${path} not found on ${branch} of ${repositoryId}`,
            ),
          );
        return true;
      }
      for await (const result of parser({ data: content, location }))
        emit(result);
    } catch (error) {
      emit(
        processingResult.generalError(
          location,
          `Could not read ${location.target}: ${(error as Error).message}`,
        ),
      );
    }
    return true;
  }
}
