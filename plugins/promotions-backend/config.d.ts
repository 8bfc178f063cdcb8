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
      /**
       * The URL Argo CD clones the repository from, written into the Argo CD manifests the
       * service template generates: `https://`, `ssh://`, `git://` or `git@host:path`. Defaults
       * to `url` when that is a remote URL; a repository given by local path needs it, or the
       * template refuses to write an ApplicationSet Argo CD could not use.
       */
      argocdRepoURL?: string;
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
      /**
       * `git` provider, remote URL: what a branch other than `branch` (a published layout's)
       * may add to the clone, in bytes; a larger one is refused. Defaults to 64 MiB. Fetching
       * such a branch stops after two minutes.
       */
      maxBranchBytes?: number;
    }>;
    /**
     * Environment pipelines by name. Each environment lists the environments it is promoted
     * from (`requires`); the pipeline is a graph, so several environments may require one.
     * Beside the keys below, an environment may name the gates installed modules add (by their
     * key); any other key, such as a mistyped gate, stops the backend at startup.
     */
    pipelines?: {
      [name: string]: Array<{
        name: string;
        requires?: string[];
        /** A production environment: the example policy lets only release managers act on it. */
        production?: boolean;
        /**
         * Approvals a promotion needs before it is merged, by people other than its requester:
         * a count, or a count and the groups (`release-managers` or `group:default/...`) whose
         * members' approvals count. GitHub reviews count as approvals.
         */
        approvals?: number | { count?: number; groups?: string[] };
        /** How long the version must have run in every upstream environment, such as `{ hours: 24 }`. */
        soak?: { [unit: string]: number } | string;
        /**
         * How long a promotion may stay open before it is stale, such as `2d` or `36h`: its
         * requester and the service's owners are notified once, and the environment shows the
         * `stale-promotion` drift until it is merged or closed.
         */
        stalePromotion?: { [unit: string]: number } | string;
        /** When merges may happen: days (`mon`…`sun`), hours (`09:00-17:00`) and a time zone. */
        windows?: Array<{ days?: string[]; hours?: string; timeZone?: string }>;
        /** Checks (GitHub check runs and commit statuses) that must be green: all, or those named. */
        checks?: boolean | string[];
        /** Refuse tags that move (`latest`, `main`): only numbered versions, commit hashes, digests. */
        immutableVersion?: boolean;
        /**
         * The owners in CODEOWNERS of the changed paths must be among the approvers: `@org/team`
         * a member of the group with that `github.com/team-slug` (else that name), `@login` the
         * user with that `github.com/user-login` (else that name), an e-mail the user with that
         * `spec.profile.email`.
         */
        codeowners?: boolean;
        /**
         * A URL that must answer 2xx before a merge; `{entityRef}`, `{environment}` and
         * `{version}` are filled in.
         */
        http?:
          | string
          | { url: string; timeout?: { [unit: string]: number } | string };
        /**
         * Services that may ask for promotions here, by the subject of their external access
         * token (`ci`), as CI does for the first environment after a build.
         */
        services?: string[];
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
    /** Argo CD instances whose applications are read as environments' live state. */
    argocd?: {
      /** Several instances may be configured; `argocd/instance-name` picks among them. */
      instances?: Array<{
        /** What `argocd/instance-name` names it by, and what the API shows. */
        name: string;
        /** The Argo CD server's base URL; the API is below `/api`. */
        url: string;
        /**
         * An API token (`argocd account generate-token`), from an environment variable:
         * `token: ${ARGOCD_TOKEN}`. Never sent to the browser.
         * @visibility secret
         */
        token?: string;
        /** An account to log in with once, when no token is given. */
        username?: string;
        /** @visibility secret */
        password?: string;
        /** How long one request may take: `{ seconds: 10 }` or ISO 8601. Defaults to 10 seconds. */
        timeout?: { [unit: string]: number } | string | number;
        /** PEM certificates to trust for this instance, beside the system's. */
        caData?: string;
        /** Accept any TLS certificate (for a test instance only). */
        insecure?: boolean;
      }>;
      /** Follow each instance's application stream so that a sync shows within seconds (default true). */
      stream?: boolean;
    };
    /** Flux objects read from the clusters of Backstage's `kubernetes` config. */
    flux?: {
      /** Which `kubernetes` clusters to read (every serviceAccount cluster by default). */
      clusters?: string[];
      timeout?: { [unit: string]: number } | string | number;
    };
    /** How live-state sources (Argo CD, Flux, or a module's) are read at each refresh. */
    live?: {
      /**
       * How an application maps to an environment, first match wins: `{ label: env }` (the
       * label's value is the environment), `{ name: '{name}-{env}' }` or
       * `{ namespace: '{env}' }` (`{name}` is the entity's name). Defaults to the labels
       * `gitops-promotions/environment` and `env`, then `{name}-{env}` as name or namespace,
       * then `{env}` as namespace.
       */
      mapping?: Array<{ label?: string; name?: string; namespace?: string }>;
      /**
       * How long a source may take to answer for one entity before its environments are stored
       * as unreachable, with that reason: `{ seconds: 10 }` or ISO 8601 (`PT10S`). Defaults to
       * 10 seconds.
       */
      timeout?: { [unit: string]: number } | string;
    };
    /** How environments are resolved: off the main thread, within limits. */
    resolution?: {
      /** Worker threads; 0 resolves on the main thread. Defaults to one or two, by cores. */
      workers?: number;
      /** The heap each worker may use, in MB (default 512); a resolution needing more fails its environment. */
      workerMemoryMb?: number;
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
