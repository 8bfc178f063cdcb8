import { gitUrlHasCredentials } from './gitUrlCredentials';
import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import os from 'node:os';
import { Config } from '@backstage/config';
import { DEFAULT_RESOLVE_LIMITS, ResolveLimits } from '../resolve/budget';
import { pathRuleProblem } from './pathRules';
import { EnvironmentPolicy, readEnvironmentPolicy } from './environmentPolicy';
import {
  DEFAULT_PIPELINE,
  environmentNameProblem,
  hasControlCharacter,
  isBranchName,
  repositoryIdProblem,
} from '@gitops-promotions/plugin-promotions-common';

/**
 * One entry of `promotions.repositories`.
 *
 * @public
 */
export interface RepositoryConfig {
  id: string;
  /** Which provider reads and writes it: `git`, `github`, or one a module registers. */
  provider: string;
  url: string;
  /**
   * The URL Argo CD clones the repository from: `argocdRepoURL` when configured, otherwise `url`
   * when that is a remote URL; undefined when Argo CD could not clone it (a local path).
   */
  argocdRepoURL?: string;
  branch: string;
  /**
   * The paths of the repository its entities may read (`paths`, globs with entity
   * placeholders); when absent, an entity must come from a catalog location inside the
   * repository itself.
   */
  paths?: string[];
  /** The whole entry, for settings of a provider's own. */
  config: Config;
}

/**
 * One environment of a pipeline and the environments it is promoted from.
 *
 * @public
 */
export interface PipelineEnvironment {
  name: string;
  requires: string[];
  /** What must hold before a promotion to it may be merged. */
  policy: EnvironmentPolicy;
  /** The environment's whole entry, for gates a module adds. */
  config?: Config;
}

/**
 * The checked `promotions` configuration.
 *
 * @public
 */
export interface PromotionsConfig {
  repositories: Map<string, RepositoryConfig>;
  pipelines: Map<string, PipelineEnvironment[]>;
  refresh: SchedulerServiceTaskScheduleDefinition;
  expectedKeys: string[];
  drift: {
    /** Patterns (case-insensitive) of keys whose values are secrets; defaults when absent. */
    secretKeys?: string[];
  };
  resolution: {
    /** Worker threads resolving environments; 0 resolves on the main thread. */
    workers: number;
    /** The heap each worker may use, in MB; a resolution needing more fails its environment. */
    workerMemoryMb: number;
    limits: ResolveLimits;
  };
}

const DEFAULT_PIPELINE_ENVIRONMENTS: PipelineEnvironment[] = [
  { name: 'dev', requires: [], policy: { production: false, services: [] } },
  {
    name: 'staging',
    requires: ['dev'],
    policy: { production: false, services: [] },
  },
  {
    name: 'prod',
    requires: ['staging'],
    policy: {
      production: true,
      approvals: { count: 1, groups: [] },
      services: [],
    },
  },
];

/**
 * Reads and checks `promotions` from app-config; a mistake stops the backend with its reason.
 *
 * @public
 */
export function readPromotionsConfig(root: Config): PromotionsConfig {
  const config = root.getOptionalConfig('promotions');

  const repositories = new Map<string, RepositoryConfig>();
  for (const repo of config?.getOptionalConfigArray('repositories') ?? []) {
    const id = repo.getString('id');
    if (repositories.has(id)) {
      throw new Error(`promotions.repositories: the id "${id}" is used twice`);
    }
    const problem = repositoryIdProblem(id);
    if (problem) throw new Error(`promotions.repositories: ${problem}`);
    const provider = repo.getString('provider');
    if (!/^[a-z][a-z0-9-]*$/.test(provider)) {
      throw new Error(
        `promotions.repositories[${id}]: provider "${provider}" is not a provider name such as git or github`,
      );
    }
    const branch = repo.getOptionalString('branch') ?? 'main';
    if (!isBranchName(branch)) {
      throw new Error(
        `promotions.repositories[${id}]: "${branch}" is not a valid branch name`,
      );
    }
    const paths = repo.getOptionalStringArray('paths');
    for (const rule of paths ?? []) {
      const ruleProblem = pathRuleProblem(rule);
      if (ruleProblem) {
        throw new Error(`promotions.repositories[${id}].paths: ${ruleProblem}`);
      }
    }
    const url = repo.getString('url');
    const argocdRepoURL = repo.getOptionalString('argocdRepoURL');
    if (argocdRepoURL !== undefined && gitUrlHasCredentials(argocdRepoURL)) {
      throw new Error(
        `promotions.repositories[${id}].argocdRepoURL holds credentials: it is written into the Argo CD manifests of new services, so give it without them and let Argo CD use its own repository credentials`,
      );
    }
    if (argocdRepoURL !== undefined && !isRemoteGitUrl(argocdRepoURL)) {
      throw new Error(
        `promotions.repositories[${id}].argocdRepoURL: ${JSON.stringify(
          argocdRepoURL,
        )} is not a URL Argo CD can clone, such as https://github.com/acme/gitops.git or git@github.com:acme/gitops.git`,
      );
    }
    repositories.set(id, {
      id,
      provider,
      url,
      // A url holding credentials is never copied into manifests that are committed.
      argocdRepoURL:
        argocdRepoURL ??
        (isRemoteGitUrl(url) && !gitUrlHasCredentials(url) ? url : undefined),
      branch,
      paths,
      config: repo,
    });
  }

  const pipelines = new Map<string, PipelineEnvironment[]>();
  const pipelinesConfig = config?.getOptionalConfig('pipelines');
  for (const name of pipelinesConfig?.keys() ?? []) {
    const environments = pipelinesConfig!
      .getConfigArray(name)
      .map((env, i) => ({
        name: env.getString('name'),
        requires: env.getOptionalStringArray('requires') ?? [],
        policy: readEnvironmentPolicy(
          env,
          `promotions.pipelines.${name}[${i}]`,
        ),
        config: env,
      }));
    pipelines.set(name, checkPipeline(name, environments));
  }
  if (!pipelines.has(DEFAULT_PIPELINE)) {
    pipelines.set(DEFAULT_PIPELINE, DEFAULT_PIPELINE_ENVIRONMENTS);
  }

  const refresh = config?.has('refresh')
    ? readSchedulerServiceTaskScheduleDefinitionFromConfig(
        config.getConfig('refresh'),
      )
    : { frequency: { seconds: 30 }, timeout: { minutes: 5 } };

  return {
    repositories,
    pipelines,
    refresh,
    expectedKeys: config?.getOptionalStringArray('drift.expectedKeys') ?? [],
    drift: { secretKeys: readSecretKeys(config) },
    resolution: readResolution(config?.getOptionalConfig('resolution')),
  };
}

/**
 * Whether a Git URL names a repository a clone on another machine (Argo CD's) can reach:
 * `https://`, `http://`, `ssh://`, `git://` or scp-like `user@host:path`, never a local path or
 * `file://`.
 */
function isRemoteGitUrl(url: string): boolean {
  if (/\s/.test(url) || hasControlCharacter(url)) return false;
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!\/\/)[^:]+$/.test(url)) return true;
  try {
    const parsed = new URL(url);
    return (
      ['https:', 'http:', 'ssh:', 'git:'].includes(parsed.protocol) &&
      parsed.hostname !== '' &&
      parsed.pathname.replace(/\/+$/, '') !== ''
    );
  } catch {
    return false;
  }
}

/** `promotions.drift.secretKeys`: patterns that must compile, case-insensitively. */
function readSecretKeys(config: Config | undefined) {
  const patterns = config?.getOptionalStringArray('drift.secretKeys');
  for (const pattern of patterns ?? []) {
    try {
      new RegExp(pattern, 'i'); // eslint-disable-line no-new
    } catch {
      throw new Error(
        `promotions.drift.secretKeys: "${pattern}" is not a regular expression`,
      );
    }
  }
  return patterns;
}

/** `promotions.resolution`: how many workers resolve, and within which limits. */
function readResolution(config: Config | undefined) {
  const workers =
    config?.getOptionalNumber('workers') ??
    Math.min(2, Math.max(1, os.availableParallelism() - 1));
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) {
    throw new Error(
      `promotions.resolution.workers must be a whole number from 0 to 64, not ${workers}`,
    );
  }
  const workerMemoryMb = config?.getOptionalNumber('workerMemoryMb') ?? 512;
  if (!Number.isInteger(workerMemoryMb) || workerMemoryMb < 16) {
    throw new Error(
      `promotions.resolution.workerMemoryMb must be a whole number of at least 16, not ${workerMemoryMb}`,
    );
  }
  const limits = { ...DEFAULT_RESOLVE_LIMITS };
  for (const key of Object.keys(limits) as Array<keyof ResolveLimits>) {
    const value = config?.getOptionalNumber(`limits.${key}`);
    if (value === undefined) continue;
    if (!(value > 0)) {
      throw new Error(
        `promotions.resolution.limits.${key} must be a positive number, not ${value}`,
      );
    }
    limits[key] = value;
  }
  return { workers, workerMemoryMb, limits };
}

/**
 * Returns the environments in promotion order (every environment after those it requires).
 *
 * @public
 */
export function checkPipeline(
  pipeline: string,
  environments: PipelineEnvironment[],
): PipelineEnvironment[] {
  const where = `promotions.pipelines.${pipeline}`;
  if (environments.length === 0)
    throw new Error(`${where} has no environments`);
  const byName = new Map<string, PipelineEnvironment>();
  for (const env of environments) {
    const problem = environmentNameProblem(env.name);
    if (problem) throw new Error(`${where}: ${problem}`);
    if (byName.has(env.name))
      throw new Error(`${where}: "${env.name}" is listed twice`);
    byName.set(env.name, env);
  }
  for (const env of environments) {
    for (const upstream of env.requires) {
      if (!byName.has(upstream)) {
        throw new Error(
          `${where}: "${env.name}" requires "${upstream}", which is not in the pipeline`,
        );
      }
    }
  }

  const ordered: PipelineEnvironment[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (env: PipelineEnvironment, path: string[]) => {
    if (state.get(env.name) === 'done') return;
    if (state.get(env.name) === 'visiting') {
      throw new Error(
        `${where}: the requirements form a cycle (${[...path, env.name].join(
          ' -> ',
        )})`,
      );
    }
    state.set(env.name, 'visiting');
    for (const upstream of env.requires)
      visit(byName.get(upstream)!, [...path, env.name]);
    state.set(env.name, 'done');
    ordered.push(env);
  };
  for (const env of environments) visit(env, []);
  return ordered;
}
