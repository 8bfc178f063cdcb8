import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import {
  DEFAULT_PIPELINE,
  environmentNameProblem,
} from '@gitops-promotions/plugin-promotions-common';

export type RepositoryProvider = 'git' | 'github';

export interface RepositoryConfig {
  id: string;
  provider: RepositoryProvider;
  url: string;
  branch: string;
}

export interface PipelineEnvironment {
  name: string;
  requires: string[];
}

export interface PromotionsConfig {
  repositories: Map<string, RepositoryConfig>;
  pipelines: Map<string, PipelineEnvironment[]>;
  refresh: SchedulerServiceTaskScheduleDefinition;
  expectedKeys: string[];
}

const DEFAULT_PIPELINE_ENVIRONMENTS: PipelineEnvironment[] = [
  { name: 'dev', requires: [] },
  { name: 'staging', requires: ['dev'] },
  { name: 'prod', requires: ['staging'] },
];

/** Reads and checks `promotions` from app-config; a mistake stops the backend with its reason. */
export function readPromotionsConfig(root: Config): PromotionsConfig {
  const config = root.getOptionalConfig('promotions');

  const repositories = new Map<string, RepositoryConfig>();
  for (const repo of config?.getOptionalConfigArray('repositories') ?? []) {
    const id = repo.getString('id');
    if (repositories.has(id)) {
      throw new Error(`promotions.repositories: the id "${id}" is used twice`);
    }
    const provider = repo.getString('provider');
    if (provider !== 'git' && provider !== 'github') {
      throw new Error(
        `promotions.repositories[${id}]: provider must be "git" or "github", not "${provider}"`,
      );
    }
    repositories.set(id, {
      id,
      provider,
      url: repo.getString('url'),
      branch: repo.getOptionalString('branch') ?? 'main',
    });
  }

  const pipelines = new Map<string, PipelineEnvironment[]>();
  const pipelinesConfig = config?.getOptionalConfig('pipelines');
  for (const name of pipelinesConfig?.keys() ?? []) {
    const environments = pipelinesConfig!.getConfigArray(name).map(env => ({
      name: env.getString('name'),
      requires: env.getOptionalStringArray('requires') ?? [],
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
  };
}

/** Returns the environments in promotion order (every environment after those it requires). */
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
