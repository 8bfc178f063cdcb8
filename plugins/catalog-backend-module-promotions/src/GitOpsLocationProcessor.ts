import { LoggerService } from '@backstage/backend-plugin-api';
import {
  CatalogProcessor,
  CatalogProcessorEmit,
  CatalogProcessorParser,
  LocationSpec,
  processingResult,
} from '@backstage/plugin-catalog-node';
import {
  GITOPS_LOCATION_TYPE,
  isBranchName,
  pathTemplateProblem,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsRepositoriesService } from '@gitops-promotions/plugin-promotions-node';

/** Catalog files larger than this are refused rather than parsed. */
const MAX_CATALOG_FILE_BYTES = 512 * 1024;

/**
 * Reads `gitops-promotions` locations: catalog files on branches of promotions repositories,
 * which no URL reader can reach (a local path, or a Git URL outside the configured integrations).
 * Reads go through the backend's one shared reader of each repository, and its caches.
 *
 * @public
 */
export class GitOpsLocationProcessor implements CatalogProcessor {
  constructor(
    private readonly options: {
      repositories: PromotionsRepositoriesService;
      logger: LoggerService;
      /** Which branches a location may read: the repository's own, and published layouts'. */
      branches: { allows(repositoryId: string, branch: string): boolean };
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
    const repository =
      this.options.repositories.config.repositories.get(repositoryId);
    if (
      !repository ||
      !isBranchName(branch ?? '') ||
      !path ||
      pathTemplateProblem(`${path}/{env}`)
    ) {
      emit(
        processingResult.inputError(
          location,
          `"${location.target}" is not <repository id>:<branch>:<path>`,
        ),
      );
      return true;
    }
    if (!this.options.branches.allows(repositoryId, branch)) {
      emit(
        processingResult.inputError(
          location,
          `${location.target}: branch ${branch} of ${repositoryId} is neither the branch it is read from nor a published layout's`,
        ),
      );
      return true;
    }
    try {
      const reader = await this.options.repositories.get(repositoryId);
      const snapshot = await reader.snapshot(branch);
      const file = snapshot.files.get(path);
      if (!file) {
        if (!optional)
          emit(
            processingResult.notFoundError(
              location,
              `${path} not found on ${branch} of ${repositoryId}`,
            ),
          );
        return true;
      }
      if (file.size > MAX_CATALOG_FILE_BYTES) {
        emit(
          processingResult.inputError(
            location,
            `${path} on ${branch} of ${repositoryId} is ${file.size} bytes, more than the ${MAX_CATALOG_FILE_BYTES} allowed`,
          ),
        );
        return true;
      }
      const content = (await snapshot.readFile(path))!;
      for await (const result of parser({ data: content, location }))
        emit(result);
    } catch (error) {
      this.options.logger.warn(
        `Could not read ${location.target}: ${(error as Error).message}`,
      );
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
