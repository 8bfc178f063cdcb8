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
      /**
       * The paths of the repository its entities may read: globs (`**` any depth, `*` one
       * segment) with `{entity.metadata.name}`, `{entity.metadata.namespace}`,
       * `{entity.spec.owner}` and `{entity.spec.system}` filled in from the entity, such as
       * `{entity.metadata.name}/**`. Without it, only entities registered from a catalog
       * location inside the repository may read it.
       */
      paths?: string[];
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
      /**
       * Patterns (regular expressions, case-insensitive) of keys whose values are secrets: they
       * are compared under an HMAC with a key only the backend holds and shown as differing,
       * never in clear. Secret data is always treated so. Defaults to password, secret, token,
       * api key, private key, credential, auth, dsn and connection string.
       */
      secretKeys?: string[];
    };
    /** How environments are resolved: off the main thread, within limits. */
    resolution?: {
      /** Worker threads; 0 resolves on the main thread. Defaults to one or two, by cores. */
      workers?: number;
      /** What one environment may cost before it is stopped with an error of its own. */
      limits?: {
        files?: number;
        bytes?: number;
        objects?: number;
        copies?: number;
        milliseconds?: number;
      };
    };
  };
}
