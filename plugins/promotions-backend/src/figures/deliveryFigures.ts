import {
  ChangeFailureRate,
  DELIVERY_FIGURE_WINDOWS,
  DeliveryFigures,
  DeploymentFrequency,
  EnvironmentDeliveryFigures,
  HistoryEntry,
  LeadTimeFigures,
  OwnerDeliveryFigures,
  TimeToRestore,
} from '@gitops-promotions/plugin-promotions-common';

/**
 * Delivery figures, computed from what is stored and nothing else: the pure part of the
 * figures, with no database, clock or catalog, so that each figure can be checked by hand.
 *
 * Two sources, as the README's "Delivery figures" section says:
 * - each environment's timeline (`state/timeline.ts`): the version the environment deployed
 *   after each commit that touched its inputs, so changes made outside the portal count too.
 *   A timeline keeps the latest changes only; where it is `complete` it reaches back to the
 *   environment's first commit.
 * - the workflow's history (`promotions_history`): requested, merged, failed... entries of the
 *   promotions and rollbacks made through the portal.
 * A portal merge the timeline shows (its commit, or the same version committed between the
 * promotion's request and its merge) is one deployment, not two.
 *
 * Every time is an instant (ISO 8601); entries whose time cannot be read are left out, as is a
 * commit without a resolvable version (it tells nothing about what ran).
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const WEEK_MS = 7 * DAY_MS;

/** One environment of the service's pipeline, in pipeline order. */
export interface FiguresEnvironment {
  name: string;
  /** `production: true` in the pipeline. */
  production: boolean;
  /** Its stored timeline, newest commit first; null when none was read yet. */
  timeline: {
    commits: Array<{ sha?: string; at: string; version: string | null }>;
    /** The timeline reaches the environment's first commit: nothing ran before it. */
    complete: boolean;
  } | null;
}

/** The history fields the figures read. */
export type FiguresHistoryEntry = Pick<
  HistoryEntry,
  'environment' | 'action' | 'at' | 'version' | 'kind' | 'promotionId'
> & {
  /** Of a merge: the commits that may stand for it on the branch, its promotion's own and the one that landed. */
  commits?: string[];
};

/** Everything the figures of one service are computed from. */
export interface FiguresInput {
  entityRef: string;
  environments: FiguresEnvironment[];
  /** The service's history entries, in any order; at least those since the window's start. */
  history: FiguresHistoryEntry[];
  /** The window's end. */
  now: Date;
  /** The window's length in days: 7, 30 or 90. */
  days: number;
}

/** A time an environment ran a version from. */
interface Run {
  at: number;
  version: string;
  /** The version changed then: a deployment. False for the oldest commit of a cut timeline. */
  change: boolean;
  /** The commit it was read at, when it comes from the timeline. */
  sha?: string;
}

/** A promotion or rollback the portal merged into an environment. */
interface PortalMerge {
  at: number;
  version: string;
  commits: string[];
  /** When it was asked for; its merge time when the request is not in the history read. */
  requestedAt: number;
}

/** How far a commit's time may stray from the portal's clock and still be its promotion's. */
export const CLOCK_SLACK_MS = 15 * 60 * 1000;

const time = (text: string | null | undefined): number | undefined => {
  if (typeof text !== 'string') return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? at : undefined;
};

/** The median: the middle value, or the mean of the two middle values; null when empty. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The 90th percentile by nearest rank: the smallest value at least 90% of values do not exceed. */
export function p90(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.9 * sorted.length) - 1];
}

/** The portal's merges into an environment, oldest first, with when each was asked for. */
function portalMerges(
  environment: string,
  history: FiguresHistoryEntry[],
): PortalMerge[] {
  const requested = new Map<string, number>();
  for (const entry of history) {
    const at = time(entry.at);
    if (entry.action !== 'requested' || !entry.promotionId || at === undefined)
      continue;
    requested.set(
      entry.promotionId,
      Math.min(requested.get(entry.promotionId) ?? at, at),
    );
  }
  const merges: PortalMerge[] = [];
  for (const entry of history) {
    const at = time(entry.at);
    if (
      entry.environment !== environment ||
      entry.action !== 'merged' ||
      typeof entry.version !== 'string' ||
      entry.version === '' ||
      at === undefined
    ) {
      continue;
    }
    const asked = entry.promotionId
      ? requested.get(entry.promotionId)
      : undefined;
    merges.push({
      at,
      version: entry.version,
      commits: (Array.isArray(entry.commits) ? entry.commits : []).filter(
        (sha): sha is string => typeof sha === 'string' && sha !== '',
      ),
      requestedAt: Math.min(asked ?? at, at),
    });
  }
  return merges.sort((a, b) => a.at - b.at);
}

/**
 * When an environment ran which version, oldest first: each change of version in its timeline
 * (a commit whose version differs from the last resolvable one before it), the oldest commit too
 * when the timeline is complete (it created the environment), and the versions the portal merged
 * into it that the timeline does not show: before its oldest commit when it is cut, and after its
 * newest one (merged since the timeline was read). A merge the timeline shows is the same
 * deployment: matched by its commit, or else by its version committed between its request and
 * its merge, and dated when it landed. Between the timeline's oldest and newest commits, a merge
 * the timeline does not show changed nothing: the repository's history is the word there.
 */
function runsOf(
  environment: FiguresEnvironment,
  history: FiguresHistoryEntry[],
): Run[] {
  const complete = Boolean(environment.timeline?.complete);
  const runs: Run[] = [];
  const commits = (environment.timeline?.commits ?? [])
    .map(c => ({
      at: time(c.at),
      version: c.version,
      sha: typeof c.sha === 'string' && c.sha !== '' ? c.sha : undefined,
    }))
    .filter(
      (c): c is { at: number; version: string; sha: string | undefined } =>
        c.at !== undefined && typeof c.version === 'string' && c.version !== '',
    )
    .sort((a, b) => a.at - b.at);
  let last: string | undefined;
  for (const commit of commits) {
    if (last === undefined) {
      runs.push({ ...commit, change: complete });
    } else if (commit.version !== last) {
      runs.push({ ...commit, change: true });
    }
    last = commit.version;
  }
  const oldest = commits.length > 0 ? commits[0].at : Infinity;
  const newest =
    commits.length > 0 ? commits[commits.length - 1].at : -Infinity;
  const shown = [...runs];
  const matched = new Set<Run>();
  const later: PortalMerge[] = [];
  for (const merge of portalMerges(environment.name, history)) {
    const run =
      shown.find(
        r =>
          !matched.has(r) &&
          r.sha !== undefined &&
          merge.commits.includes(r.sha),
      ) ??
      shown.find(
        r =>
          !matched.has(r) &&
          r.version === merge.version &&
          r.at >= merge.requestedAt - CLOCK_SLACK_MS &&
          r.at <= merge.at + CLOCK_SLACK_MS,
      );
    if (run) {
      // A promotion's commit is dated when it was asked for; it ran once merged.
      matched.add(run);
      run.change = true;
      run.at = Math.max(run.at, merge.at);
    } else if (!complete && merge.at < oldest) {
      runs.push({ at: merge.at, version: merge.version, change: true });
    } else if (merge.at > newest) {
      later.push(merge);
    }
  }
  let current = last;
  for (const merge of later) {
    if (merge.version !== current) {
      runs.push({ at: merge.at, version: merge.version, change: true });
    }
    current = merge.version;
  }
  return runs.sort((a, b) => a.at - b.at);
}

function deploymentFrequency(
  runs: Run[],
  from: number,
  to: number,
  days: number,
): DeploymentFrequency {
  const changes = runs.filter(r => r.change && r.at >= from && r.at <= to);
  const weeks: DeploymentFrequency['weeks'] = [];
  for (let start = from; start < to; start += WEEK_MS) {
    const end = Math.min(start + WEEK_MS, to);
    weeks.push({
      start: new Date(start).toISOString(),
      count: changes.filter(
        c => c.at >= start && (c.at < end || (end === to && c.at === to)),
      ).length,
    });
  }
  return {
    count: changes.length,
    perWeek: Math.round((changes.length / (days / 7)) * 100) / 100,
    weeks,
  };
}

/** The entries of each promotion to one environment requested in the window, by promotion. */
function promotionsRequested(
  environment: string,
  history: FiguresHistoryEntry[],
  from: number,
  to: number,
) {
  const byPromotion = new Map<string, FiguresHistoryEntry[]>();
  for (const entry of history) {
    if (entry.environment !== environment || !entry.promotionId) continue;
    const list = byPromotion.get(entry.promotionId) ?? [];
    list.push(entry);
    byPromotion.set(entry.promotionId, list);
  }
  const result: Array<{
    id: string;
    requested: FiguresHistoryEntry & { time: number };
    entries: FiguresHistoryEntry[];
  }> = [];
  for (const [id, entries] of byPromotion) {
    const requested = entries
      .filter(e => e.action === 'requested')
      .map(e => ({ ...e, time: time(e.at) }))
      .filter((e): e is typeof e & { time: number } => e.time !== undefined)
      .sort((a, b) => a.time - b.time)[0];
    if (requested && requested.time >= from && requested.time <= to) {
      result.push({ id, requested, entries });
    }
  }
  return result.sort((a, b) => a.requested.time - b.requested.time);
}

function changeFailureRate(
  requested: ReturnType<typeof promotionsRequested>,
): ChangeFailureRate {
  let rollbacks = 0;
  let failed = 0;
  for (const { requested: entry, entries } of requested) {
    if (entry.kind === 'rollback') rollbacks++;
    else if (entries.some(e => e.action === 'failed')) failed++;
  }
  return {
    promotions: requested.length,
    rollbacks,
    failed,
    rate:
      requested.length === 0 ? null : (rollbacks + failed) / requested.length,
  };
}

function timeToRestore(
  requested: ReturnType<typeof promotionsRequested>,
): TimeToRestore {
  const rollbacks = requested
    .filter(p => p.requested.kind === 'rollback')
    .map(({ id, requested: entry, entries }) => {
      const merged = entries
        .filter(e => e.action === 'merged')
        .map(e => time(e.at))
        .filter((at): at is number => at !== undefined && at >= entry.time)
        .sort((a, b) => a - b)[0];
      return {
        promotionId: id,
        version: entry.version,
        requestedAt: new Date(entry.time).toISOString(),
        mergedAt: merged === undefined ? null : new Date(merged).toISOString(),
        ms: merged === undefined ? null : merged - entry.time,
      };
    });
  return {
    medianMs: median(rollbacks.flatMap(r => (r.ms === null ? [] : [r.ms]))),
    rollbacks,
  };
}

/** When each version first ran in an environment. */
function firstRuns(runs: Run[]): Map<string, Run> {
  const first = new Map<string, Run>();
  for (const run of runs)
    if (!first.has(run.version)) first.set(run.version, run);
  return first;
}

function leadTime(
  production: FiguresEnvironment,
  runs: Map<string, Run[]>,
  environments: FiguresEnvironment[],
  from: number,
  to: number,
): LeadTimeFigures {
  const upstream = environments
    .filter(e => !e.production)
    .map(e => ({ name: e.name, first: firstRuns(runs.get(e.name) ?? []) }));
  const versions: LeadTimeFigures['versions'] = [];
  let direct = 0;
  let unknownStart = 0;
  for (const [version, arrived] of firstRuns(runs.get(production.name) ?? [])) {
    // Only a version seen arriving counts: the oldest commit of a cut timeline may be older.
    if (!arrived.change || arrived.at < from || arrived.at > to) continue;
    let first: { name: string; at: number; change: boolean } | undefined;
    for (const environment of upstream) {
      const run = environment.first.get(version);
      if (run && run.at <= arrived.at && (!first || run.at < first.at)) {
        first = { name: environment.name, at: run.at, change: run.change };
      }
    }
    if (!first) {
      direct++;
      continue;
    }
    // Already running at the oldest commit read: it started earlier, by an unknown time.
    if (!first.change) {
      unknownStart++;
      continue;
    }
    versions.push({
      version,
      firstEnvironment: first.name,
      firstAt: new Date(first.at).toISOString(),
      productionAt: new Date(arrived.at).toISOString(),
      ms: arrived.at - first.at,
    });
  }
  const sample = versions.map(v => v.ms);
  return {
    environment: production.name,
    medianMs: median(sample),
    p90Ms: p90(sample),
    versions,
    direct,
    unknownStart,
  };
}

/**
 * A service's delivery figures over the `days` before `now`, per environment:
 * - deployment frequency: changes of the environment's version in the window (see `runsOf`),
 *   and per 7 days;
 * - change failure rate: of the promotions to the environment requested in the window
 *   (rollbacks included), the share that were rollbacks or ended failed;
 * - time to restore: of the rollbacks requested in the window, the median time from request
 *   to merge; rollbacks not merged are listed without a time and left out of the median;
 * and per production environment the lead time: for each version that first ran there within
 * the window, the time since any non-production environment of the pipeline first ran it
 * (normally the first environment; a version that skipped it counts from the first one it
 * reached); a version no other environment ran before production counts as `direct`, one
 * already running elsewhere at the oldest commit read as `unknownStart`; neither is in the median.
 */
export function computeDeliveryFigures(input: FiguresInput): DeliveryFigures {
  if (!(DELIVERY_FIGURE_WINDOWS as readonly number[]).includes(input.days)) {
    throw new RangeError(
      `The window is 7, 30 or 90 days, not ${String(input.days)}`,
    );
  }
  const to = input.now.getTime();
  const from = to - input.days * DAY_MS;
  const runs = new Map(
    input.environments.map(e => [e.name, runsOf(e, input.history)]),
  );
  const environments: EnvironmentDeliveryFigures[] = input.environments.map(
    environment => {
      const requested = promotionsRequested(
        environment.name,
        input.history,
        from,
        to,
      );
      return {
        environment: environment.name,
        production: environment.production,
        deployments: deploymentFrequency(
          runs.get(environment.name)!,
          from,
          to,
          input.days,
        ),
        changeFailure: changeFailureRate(requested),
        restore: timeToRestore(requested),
      };
    },
  );
  return {
    entityRef: input.entityRef,
    window: {
      days: input.days,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    },
    environments,
    leadTime: input.environments
      .filter(e => e.production)
      .map(e => leadTime(e, runs, input.environments, from, to)),
  };
}

/**
 * The figures of many services of one owner, pooled as if they were one service: counts are
 * summed, medians and the 90th percentile are taken over every service's values together (never
 * a median of medians), and the change failure rate is the summed failures over the summed
 * promotions. Every service's figures must be of the same window.
 */
export function computeOwnerFigures(
  owner: string,
  services: DeliveryFigures[],
): OwnerDeliveryFigures {
  const days = services[0]?.window.days ?? 0;
  const perWeek = (count: number) =>
    days ? Math.round((count / (days / 7)) * 100) / 100 : 0;
  const all = services.flatMap(s => s.environments);
  const count = all.reduce((sum, e) => sum + e.deployments.count, 0);
  const productionCount = all
    .filter(e => e.production)
    .reduce((sum, e) => sum + e.deployments.count, 0);
  const leadTimes = services.flatMap(s =>
    s.leadTime.flatMap(l => l.versions.map(v => v.ms)),
  );
  const promotions = all.reduce((s, e) => s + e.changeFailure.promotions, 0);
  const rollbacks = all.reduce((s, e) => s + e.changeFailure.rollbacks, 0);
  const failed = all.reduce((s, e) => s + e.changeFailure.failed, 0);
  const restores = all.flatMap(e => e.restore.rollbacks);
  const restored = restores.flatMap(r => (r.ms === null ? [] : [r.ms]));
  return {
    owner,
    services: services.length,
    deployments: { count, perWeek: perWeek(count) },
    productionDeployments: {
      count: productionCount,
      perWeek: perWeek(productionCount),
    },
    leadTime: {
      medianMs: median(leadTimes),
      p90Ms: p90(leadTimes),
      versions: leadTimes.length,
    },
    changeFailure: {
      promotions,
      rollbacks,
      failed,
      rate: promotions === 0 ? null : (rollbacks + failed) / promotions,
    },
    restore: {
      medianMs: median(restored),
      restored: restored.length,
      unrestored: restores.length - restored.length,
    },
  };
}
