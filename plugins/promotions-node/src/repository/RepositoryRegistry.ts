import os from 'node:os';
import path from 'node:path';
import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { NotFoundError } from '@backstage/errors';
import { PromotionsConfig, readPromotionsConfig } from '../config';
import {
  GitOpsRepository,
  GitOpsRepositoryProvider,
  RepositoryRequestObserver,
} from './types';

/**
 * The configured GitOps repositories of one backend, each built once by its provider and
 * shared by every plugin and module that reads or writes it.
 *
 * @public
 */
export interface PromotionsRepositoriesService {
  /** The checked `promotions` configuration. */
  readonly config: PromotionsConfig;
  /**
   * The repository with a configured id. A `NotFoundError` when no repository has that id; an
   * error naming the provider when no installed module provides it.
   */
  get(id: string): Promise<GitOpsRepository>;
  /** Adds a provider; the promotions backend calls it for each provider of its extension point. */
  addProvider(provider: GitOpsRepositoryProvider): void;
  /** The provider types known so far. */
  providerTypes(): string[];
  /**
   * Tells `observer` of every request attempt a provider sends to its host's API for a
   * repository built from now on (the promotions backend counts them as metrics).
   */
  observeRequests?(observer: RepositoryRequestObserver): void;
}

/**
 * The default `PromotionsRepositoriesService`: builds repositories lazily, once each. A provider
 * added by a module is known once the backend has started, so a repository asked for before
 * then waits for it.
 *
 * @public
 */
export class RepositoryRegistry implements PromotionsRepositoriesService {
  readonly config: PromotionsConfig;
  private readonly providers = new Map<string, GitOpsRepositoryProvider>();
  private readonly repositories = new Map<string, GitOpsRepository>();
  private readonly workingDirectory: string;
  private readonly observers: RepositoryRequestObserver[] = [];

  constructor(
    private readonly deps: {
      rootConfig: Config;
      logger: LoggerService;
      /** Settles once every plugin and module of the backend has been initialized. */
      started: Promise<void>;
      providers?: GitOpsRepositoryProvider[];
    },
  ) {
    this.config = readPromotionsConfig(deps.rootConfig);
    this.workingDirectory = path.join(
      deps.rootConfig.getOptionalString('backend.workingDirectory') ??
        os.tmpdir(),
      'backstage-promotions',
    );
    for (const provider of deps.providers ?? []) this.addProvider(provider);
  }

  addProvider(provider: GitOpsRepositoryProvider) {
    if (this.providers.has(provider.type)) {
      throw new Error(
        `A promotions repository provider of type "${provider.type}" is already installed`,
      );
    }
    this.providers.set(provider.type, provider);
  }

  providerTypes(): string[] {
    return [...this.providers.keys()];
  }

  observeRequests(observer: RepositoryRequestObserver) {
    this.observers.push(observer);
  }

  async get(id: string): Promise<GitOpsRepository> {
    const existing = this.repositories.get(id);
    if (existing) return existing;
    const repository = this.config.repositories.get(id);
    if (!repository) {
      throw new NotFoundError(
        `"${id}" is not a repository of promotions.repositories`,
      );
    }
    let provider = this.providers.get(repository.provider);
    if (!provider) {
      await this.deps.started;
      provider = this.providers.get(repository.provider);
    }
    if (!provider) {
      throw new Error(
        `Repository ${id} uses the provider "${
          repository.provider
        }", which no installed module provides (installed: ${this.providerTypes().join(
          ', ',
        )})`,
      );
    }
    // Another caller may have built it while this one waited.
    const built = this.repositories.get(id);
    if (built) return built;
    const created = provider.create({
      repository,
      rootConfig: this.deps.rootConfig,
      logger: this.deps.logger.child({ repository: id }),
      workingDirectory: this.workingDirectory,
      onRequest: request => {
        for (const observer of this.observers) {
          try {
            observer(id, request);
          } catch (error) {
            // Counting a request never fails the read it counts.
            this.deps.logger.debug(`A request observer failed: ${error}`);
          }
        }
      },
    });
    this.repositories.set(id, created);
    return created;
  }
}
