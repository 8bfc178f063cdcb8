import {
  Drift,
  EntityPromotions,
  EnvironmentSource,
  EnvironmentState,
  LastChange,
  LiveState,
} from '@gitops-promotions/plugin-promotions-common';
import { liveDrift } from '../live/liveDrift';
import { configDrift, versionDrift } from './drift';
import { EntityTarget, notPromotableReason } from './entityTarget';
import { resolutionNotes } from './notes';
import { EnvironmentResolution } from './resolution';
import { VersionTimeline } from './timeline';

/** One environment of an entity, as a refresh found it. */
export interface EnvironmentInput {
  name: string;
  path: string;
  resolution: EnvironmentResolution;
  lastChange: LastChange | null;
  /** Where it is read from, when not the entity's repository at its branch. */
  source?: EnvironmentSource;
}

/**
 * Computes what the Promotions tab shows of one entity from its resolved environments: each
 * environment's desired state and its drift from every upstream. Timelines are asked for only
 * where versions differ, since reading one costs history.
 */
export async function computeEntityPromotions(input: {
  target: EntityTarget;
  revision: string;
  environments: EnvironmentInput[];
  timelineOf: (environment: string) => Promise<VersionTimeline>;
  expectedKeys: string[];
  /** What the live-state sources said of each environment; absent where none knows it. */
  live?: Map<string, LiveState>;
}): Promise<EntityPromotions> {
  const { target, environments, timelineOf } = input;
  const byName = new Map(environments.map(env => [env.name, env]));
  const states: EnvironmentState[] = [];
  for (const env of target.pipeline) {
    const mine = byName.get(env.name)!;
    const result = mine.resolution;
    const drift: Drift[] = [];
    if (result.ok) {
      for (const upstream of env.requires) {
        const theirs = byName.get(upstream)!.resolution;
        if (!theirs.ok) continue;
        if (result.version !== theirs.version) {
          const version = versionDrift({
            version: result.version,
            timeline: await timelineOf(env.name),
            upstream,
            upstreamVersion: theirs.version,
            upstreamTimeline: await timelineOf(upstream),
          });
          if (version) drift.push(version);
        }
        const config = configDrift({
          environment: env.name,
          comparable: result.comparable,
          upstream,
          upstreamComparable: theirs.comparable,
          expectedKeys: input.expectedKeys,
        });
        if (config) drift.push(config);
      }
    }
    const live = input.live?.get(env.name) ?? null;
    drift.push(
      ...(await liveDrift({
        live,
        desired: result.ok ? result.images : [],
        lastChange: mine.lastChange,
        head: mine.source?.revision ?? input.revision,
        history: async () => (await timelineOf(env.name)).commits,
      })),
    );
    // Resolutions stored before warnings were kept have none.
    const notes = result.ok ? resolutionNotes(result.warnings ?? []) : [];
    const notPromotable = notPromotableReason(target, env.name);
    states.push({
      name: env.name,
      requires: env.requires,
      desired: {
        version: result.ok ? result.version : null,
        ...(result.ok && result.versionSource
          ? { versionSource: result.versionSource }
          : {}),
        images: result.ok ? result.images : [],
        path: mine.path,
        lastChange: mine.lastChange,
        ...(mine.source ? { source: mine.source } : {}),
      },
      live,
      drift,
      ...(result.ok ? {} : { error: result.error }),
      ...(notes.length > 0 ? { notes } : {}),
      ...(notPromotable ? { notPromotable } : {}),
    });
  }
  return {
    entityRef: target.entityRef,
    asOf: null,
    repository: { id: target.repository.id, revision: input.revision },
    pipeline: target.pipelineName,
    environments: states,
  };
}
