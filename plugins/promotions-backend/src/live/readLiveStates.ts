import { LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import {
  LiveApplication,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';
import { LiveStateSource } from '@gitops-promotions/plugin-promotions-node';
import { untilAborted } from '../untilAborted';

/** How long a source may take to answer for one entity, unless configured otherwise. */
export const DEFAULT_LIVE_STATE_TIMEOUT_MS = 10_000;

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

const sameApplication = (a: LiveApplication, b: LiveApplication) =>
  a.source === b.source &&
  a.instance === b.instance &&
  a.namespace === b.namespace &&
  a.name === b.name;

/**
 * Says since when each OutOfSync application is so, as the backend first saw it: kept from the
 * state stored before while it stays OutOfSync, the time it was read otherwise. The stored state
 * is read only for an entity that has an OutOfSync application without a time.
 */
async function markOutOfSyncSince(
  states: Map<string, LiveState>,
  previous: () => Promise<Map<string, LiveState> | undefined>,
) {
  const unmarked = [...states.values()].some(state =>
    state.applications.some(
      a => a.syncStatus === 'OutOfSync' && !a.outOfSyncSince,
    ),
  );
  if (!unmarked) return;
  const before = await previous();
  for (const [environment, state] of states) {
    const seen = new Date().toISOString();
    state.applications = state.applications.map(application => {
      if (application.syncStatus !== 'OutOfSync' || application.outOfSyncSince)
        return application;
      const earlier = before
        ?.get(environment)
        ?.applications.find(a => sameApplication(a, application));
      return {
        ...application,
        outOfSyncSince:
          (earlier?.syncStatus === 'OutOfSync' && earlier.outOfSyncSince) ||
          (state.asOf ?? seen),
      };
    });
  }
}

/** The live state of each environment in a stored promotions body, if it has any. */
export function storedLiveStates(
  body: string | null | undefined,
): Map<string, LiveState> | undefined {
  if (!body) return undefined;
  const parsed = JSON.parse(body) as {
    environments?: Array<{ name: string; live?: LiveState | null }>;
  };
  return new Map(
    (parsed.environments ?? []).flatMap(env =>
      env.live ? [[env.name, env.live] as const] : [],
    ),
  );
}

/**
 * Asks every live-state source about each entity's environments, a few entities at a time. An
 * entity no source knows has no entry; an environment no source knows is left out of its map.
 * A source that throws, or does not answer within `timeoutMs`, counts as unreachable for every
 * environment of the entity, with the reason as its error and the applications it last gave, as
 * stored; the other sources' answers stand.
 */
export async function readLiveStates(options: {
  sources: LiveStateSource[];
  entities: Array<{ entity: Entity; environments: string[] }>;
  logger: LoggerService;
  signal?: AbortSignal;
  concurrency: number;
  timeoutMs?: number;
  /**
   * The live state stored for an entity by an earlier refresh: to keep since when an application
   * is OutOfSync, and to serve a source's last known applications while it cannot be reached.
   */
  previous?: (entityRef: string) => Promise<Map<string, LiveState> | undefined>;
}): Promise<Map<string, Map<string, LiveState>>> {
  const { sources, entities, logger, signal } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LIVE_STATE_TIMEOUT_MS;
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
    const entityRef = stringifyEntityRef(entity);
    let stored: Promise<Map<string, LiveState> | undefined> | undefined;
    const previous = () =>
      (stored ??= options.previous?.(entityRef) ?? Promise.resolve(undefined));
    const answers = new Map<string, LiveState[]>();
    const add = async (
      source: LiveStateSource,
      environment: string,
      state: LiveState,
    ) => {
      let answer = state;
      // A source that knows nothing after a restart still serves what was stored, with its age.
      if (!state.reachable && state.applications.length === 0) {
        const before = (await previous())?.get(environment);
        const known =
          before?.applications.filter(a => a.source === source.id) ?? [];
        if (known.length > 0)
          answer = { ...state, asOf: before!.asOf, applications: known };
      }
      answers.set(environment, [...(answers.get(environment) ?? []), answer]);
    };
    for (const source of sources) {
      signal?.throwIfAborted();
      const deadline = AbortSignal.timeout(timeoutMs);
      const sourceSignal = signal
        ? AbortSignal.any([signal, deadline])
        : deadline;
      try {
        const answer = await untilAborted(
          source.read({ entity, environments, signal: sourceSignal }),
          sourceSignal,
        );
        for (const [environment, state] of answer) {
          if (environments.includes(environment))
            await add(source, environment, state);
        }
      } catch (error) {
        signal?.throwIfAborted();
        // A source answers "unreachable" rather than throwing; one that throws or hangs is taken at its word.
        const reason = deadline.aborted
          ? `did not answer within ${timeoutMs} ms`
          : `failed: ${error instanceof Error ? error.message : String(error)}`;
        logger.warn(
          `Live-state source ${source.id} ${reason} for ${stringifyEntityRef(
            entity,
          )}`,
        );
        for (const environment of environments) {
          await add(source, environment, {
            reachable: false,
            asOf: null,
            applications: [],
            error: `Live-state source ${source.id} ${reason}`,
          });
        }
      }
    }
    if (answers.size > 0) {
      const states = new Map(
        [...answers].map(([env, list]) => [env, merge(list)]),
      );
      await markOutOfSyncSince(states, previous);
      result.set(entityRef, states);
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
