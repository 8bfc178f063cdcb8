import { LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { LiveState } from '@gitops-promotions/plugin-promotions-common';
import { LiveStateSource } from '@gitops-promotions/plugin-promotions-node';

/** Several sources' answers for one environment, as one: every application, the oldest age. */
function merge(states: LiveState[]): LiveState {
  const ages = states.flatMap(s => (s.asOf ? [s.asOf] : [])).sort();
  const errors = states.flatMap(s => (s.error ? [s.error] : []));
  return {
    reachable: states.every(s => s.reachable),
    asOf: ages[0] ?? null,
    applications: states.flatMap(s => s.applications),
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
  };
}

/**
 * Asks every live-state source about each entity's environments, a few entities at a time. An
 * entity no source knows has no entry; an environment no source knows is left out of its map.
 */
export async function readLiveStates(options: {
  sources: LiveStateSource[];
  entities: Array<{ entity: Entity; environments: string[] }>;
  logger: LoggerService;
  signal?: AbortSignal;
  concurrency: number;
}): Promise<Map<string, Map<string, LiveState>>> {
  const { sources, entities, logger, signal } = options;
  const result = new Map<string, Map<string, LiveState>>();
  if (sources.length === 0) return result;
  let next = 0;
  const readOne = async ({
    entity,
    environments,
  }: {
    entity: Entity;
    environments: string[];
  }) => {
    const answers = new Map<string, LiveState[]>();
    for (const source of sources) {
      signal?.throwIfAborted();
      try {
        const answer = await source.read({ entity, environments, signal });
        for (const [environment, state] of answer) {
          if (!environments.includes(environment)) continue;
          answers.set(environment, [
            ...(answers.get(environment) ?? []),
            state,
          ]);
        }
      } catch (error) {
        signal?.throwIfAborted();
        // A source answers "unreachable" rather than throwing; one that throws is left out.
        logger.warn(
          `Live-state source ${source.id} failed for ${stringifyEntityRef(
            entity,
          )}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    if (answers.size > 0) {
      result.set(
        stringifyEntityRef(entity),
        new Map([...answers].map(([env, states]) => [env, merge(states)])),
      );
    }
  };
  await Promise.all(
    Array.from(
      { length: Math.min(options.concurrency, entities.length) },
      async () => {
        while (next < entities.length) await readOne(entities[next++]);
      },
    ),
  );
  return result;
}
