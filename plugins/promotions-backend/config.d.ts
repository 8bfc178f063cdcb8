import { SchedulerServiceTaskScheduleDefinitionConfig } from '@backstage/backend-plugin-api';

export interface Config {
  promotions?: {
    /** GitOps repositories that entities refer to with `gitops-promotions/repository`. */
    repositories: Array<{
      /** The id used in the `gitops-promotions/repository` annotation. */
      id: string;
      /**
       * `git`: any Git URL or a local path (relative to the backend's working directory).
       * `github`: read through the GitHub API with the credentials of `integrations.github`.
       */
      provider: 'git' | 'github';
      /** A Git URL or local path (`git`), or `https://<host>/<org>/<repo>` (`github`). */
      url: string;
      /** The branch environments are read from. Defaults to `main`. */
      branch?: string;
    }>;
    /**
     * Environment pipelines by name. Each environment lists the environments it is promoted
     * from (`requires`); the pipeline is a graph, so several environments may require one.
     */
    pipelines?: {
      [name: string]: Array<{
        name: string;
        requires?: string[];
      }>;
    };
    /** How often repositories are read. Defaults to every 30 seconds. */
    refresh?: SchedulerServiceTaskScheduleDefinitionConfig;
    drift?: {
      /**
       * Rendered keys that are expected to differ between environments and so are not config
       * drift, matched as a suffix of the key path (for example `spec.replicas`, `replicaCount`).
       * Image references, namespaces and name prefixes are always expected to differ.
       */
      expectedKeys?: string[];
    };
  };
}
