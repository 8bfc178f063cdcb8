import { LoggerService } from '@backstage/backend-plugin-api';
import { MetricsService } from '@backstage/backend-plugin-api/alpha';
import {
  DriftKind,
  GateEvaluation,
} from '@gitops-promotions/plugin-promotions-common';
import { RepositoryRequestRecord } from '@gitops-promotions/plugin-promotions-node';
import { Knex } from 'knex';
import { RefreshSummary } from './state/RepositoryRefresher';
import { OPEN_STATES, WorkflowStore } from './workflow/WorkflowStore';

/**
 * The instruments' OpenTelemetry names. Prometheus shows them with dots as underscores, the unit
 * appended (`_seconds`) and counters ending in `_total`.
 */
export const PROMOTIONS_METRICS = {
  /** Gauge: environments by drift kind (`drift_kind`, `none` for those without drift). */
  environments: 'promotions.environments',
  /** Gauge, s: how long ago the oldest drift of each kind began (0 when there is none). */
  driftAge: 'promotions.drift.age',
  /** Gauge: promotions by `state` and `environment`. */
  promotions: 'promotions.requests',
  /** Counter: judgements that turned a `gate` failed. */
  gateFailures: 'promotions.gate.failures',
  /** Histogram, s: how long a refresh of a `repository` took. */
  refreshDuration: 'promotions.refresh.duration',
  /** Counter: refreshes of a `repository` that failed as a whole. */
  refreshErrors: 'promotions.refresh.errors',
  /** Counter: entities of a `repository` a refresh could not read. */
  refreshEntityErrors: 'promotions.refresh.entity_errors',
  /** Counter: requests to a repository host's API (GitHub) by `repository` and `status_class`. */
  repositoryRequests: 'promotions.repository.requests',
  /** Gauge: requests left in the host's rate-limit window, as its last answer for a `repository` said. */
  rateLimitRemaining: 'promotions.repository.rate_limit.remaining',
} as const;

const DRIFT_KINDS: readonly DriftKind[] = [
  'behind',
  'ahead',
  'differs',
  'config',
  'out-of-sync',
  'live-mismatch',
  'waiting-for-sync',
  'stale-promotion',
];
const NO_DRIFT = 'none';

/** The drift of one repository's stored environments, as of its last refresh. */
interface RepositoryDrift {
  refreshedAt: string;
  environments: Map<string, number>;
  /** The earliest start of each drift kind, in ms since the epoch. */
  since: Map<string, number>;
  /** The environments without drift, as `entityRef` and name in JSON, when the entity is known. */
  undrifted: Set<string>;
}

/** The environments with an open promotion past its limit, which no stored body holds. */
interface StaleDrift {
  /** `entityRef` and environment in JSON. */
  environments: Set<string>;
  /** When the first of them was told about, in ms since the epoch. */
  since?: number;
}

const environmentKey = (entityRef: string, environment: string) =>
  JSON.stringify([entityRef, environment]);

/** A timestamp as the database returns it (a Date, ms since the epoch, or text), in ms. */
function timeOf(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  return Date.parse(String(value));
}

/** `2xx`…`5xx`, or `none` when no answer came. */
function statusClass(status: number | undefined): string {
  if (status === undefined || !Number.isInteger(status)) return 'none';
  if (status < 100 || status > 599) return 'other';
  return `${Math.floor(status / 100)}xx`;
}

/**
 * Counts the environments of stored bodies by drift kind; what is not a known kind is left out.
 * `entityRefs[i]`, when given, is the entity of `bodies[i]`.
 */
export function countDrift(
  bodies: Iterable<string>,
  entityRefs: readonly string[] = [],
): Omit<RepositoryDrift, 'refreshedAt'> {
  const environments = new Map<string, number>();
  const since = new Map<string, number>();
  const undrifted = new Set<string>();
  let index = -1;
  for (const text of bodies) {
    index += 1;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      continue;
    }
    const states = (body as { environments?: unknown })?.environments;
    if (!Array.isArray(states)) continue;
    for (const state of states) {
      const drift = (state as { drift?: unknown })?.drift;
      const kinds = new Set<string>();
      for (const item of Array.isArray(drift) ? drift : []) {
        const { kind, since: start } = (item ?? {}) as {
          kind?: unknown;
          since?: unknown;
        };
        if (!DRIFT_KINDS.includes(kind as DriftKind)) continue;
        kinds.add(kind as string);
        const at = typeof start === 'string' ? Date.parse(start) : NaN;
        if (!Number.isNaN(at)) {
          since.set(
            kind as string,
            Math.min(since.get(kind as string) ?? at, at),
          );
        }
      }
      if (kinds.size === 0) {
        kinds.add(NO_DRIFT);
        const entityRef = entityRefs[index];
        const name = (state as { name?: unknown })?.name;
        if (entityRef !== undefined && typeof name === 'string') {
          undrifted.add(environmentKey(entityRef, name));
        }
      }
      for (const kind of kinds) {
        environments.set(kind, (environments.get(kind) ?? 0) + 1);
      }
    }
  }
  return { environments, since, undrifted };
}

/**
 * The promotions backend's metrics, through Backstage's metrics service (OpenTelemetry). The
 * gauges over stored state read one small table at each collection and the stored environments
 * of a repository only after it was refreshed again (by any replica), so a scrape stays cheap
 * with thousands of entities. No attribute names an entity or a version.
 */
export class PromotionsMetrics {
  private readonly refreshDuration;
  private readonly refreshErrors;
  private readonly refreshEntityErrors;
  private readonly gateFailures;
  private readonly requests;
  private readonly rateLimits = new Map<string, number>();
  private readonly drift = new Map<string, RepositoryDrift>();
  private driftRead?: Promise<Map<string, RepositoryDrift>>;
  /** Every state and environment counted once: shown as 0 once none is left. */
  private readonly promotionSeries = new Set<string>();

  constructor(
    private readonly deps: {
      metrics: MetricsService;
      db: Knex;
      logger: LoggerService;
      now?: () => number;
    },
  ) {
    const { metrics } = deps;
    this.refreshDuration = metrics.createHistogram(
      PROMOTIONS_METRICS.refreshDuration,
      { description: 'How long a refresh of a repository took', unit: 's' },
    );
    this.refreshErrors = metrics.createCounter(
      PROMOTIONS_METRICS.refreshErrors,
      { description: 'Refreshes of a repository that failed as a whole' },
    );
    this.refreshEntityErrors = metrics.createCounter(
      PROMOTIONS_METRICS.refreshEntityErrors,
      { description: 'Entities a refresh of their repository could not read' },
    );
    this.gateFailures = metrics.createCounter(PROMOTIONS_METRICS.gateFailures, {
      description: 'Judgements of a promotion that turned a gate failed',
    });
    this.requests = metrics.createCounter(
      PROMOTIONS_METRICS.repositoryRequests,
      {
        description:
          "Requests sent to a repository host's API (GitHub), by status class",
      },
    );
    metrics
      .createObservableGauge(PROMOTIONS_METRICS.rateLimitRemaining, {
        description:
          "Requests left in the host's rate-limit window, as its last answer said",
      })
      .addCallback(result => {
        for (const [repository, remaining] of this.rateLimits) {
          result.observe(remaining, { repository });
        }
      });
    metrics
      .createObservableGauge(PROMOTIONS_METRICS.environments, {
        description: 'Environments by drift kind (none: without drift)',
      })
      .addCallback(async result => {
        const drift = await this.readDrift();
        if (!drift) return;
        const stale = await this.readStale();
        for (const kind of [NO_DRIFT, ...DRIFT_KINDS]) {
          let count = 0;
          for (const repository of drift.values()) {
            count += repository.environments.get(kind) ?? 0;
          }
          if (stale && kind === 'stale-promotion') {
            count += stale.environments.size;
          }
          if (stale && kind === NO_DRIFT) {
            // An environment whose only drift is its stale promotion is no longer without drift.
            for (const key of stale.environments) {
              for (const repository of drift.values()) {
                if (repository.undrifted.has(key)) count -= 1;
              }
            }
          }
          result.observe(count, { drift_kind: kind });
        }
      });
    metrics
      .createObservableGauge(PROMOTIONS_METRICS.driftAge, {
        description: 'How long ago the oldest drift of each kind began',
        unit: 's',
      })
      .addCallback(async result => {
        const drift = await this.readDrift();
        if (!drift) return;
        const stale = await this.readStale();
        const now = this.deps.now?.() ?? Date.now();
        for (const kind of DRIFT_KINDS) {
          let oldest = now;
          for (const repository of drift.values()) {
            oldest = Math.min(oldest, repository.since.get(kind) ?? now);
          }
          if (kind === 'stale-promotion' && stale?.since !== undefined) {
            oldest = Math.min(oldest, stale.since);
          }
          result.observe((now - oldest) / 1000, { drift_kind: kind });
        }
      });
    metrics
      .createObservableGauge(PROMOTIONS_METRICS.promotions, {
        description: 'Promotions by state and environment',
      })
      .addCallback(async result => {
        let rows: Array<{ state: string; environment: string; n: unknown }>;
        try {
          rows = await this.deps
            .db('promotions_requests')
            .select('state', 'environment')
            .count({ n: '*' })
            .groupBy('state', 'environment');
        } catch (error) {
          this.deps.logger.warn(`Could not count promotions: ${error}`);
          return;
        }
        const counted = new Map<string, number>();
        for (const row of rows) {
          const key = JSON.stringify([row.state, row.environment]);
          counted.set(key, Number(row.n));
          this.promotionSeries.add(key);
        }
        for (const key of this.promotionSeries) {
          const [state, environment] = JSON.parse(key) as [string, string];
          result.observe(counted.get(key) ?? 0, { state, environment });
        }
      });
  }

  /** Records a finished refresh. */
  refreshed(summary: RefreshSummary) {
    const attributes = { repository: summary.repositoryId };
    this.refreshDuration.record(summary.durationMs / 1000, attributes);
    if (summary.failed > 0) {
      this.refreshEntityErrors.add(summary.failed, attributes);
    }
  }

  /** Records a refresh that failed as a whole. */
  refreshFailed(repositoryId: string) {
    this.refreshErrors.add(1, { repository: repositoryId });
  }

  /** Records a request a provider sent for a repository. */
  requested(repositoryId: string, request: RepositoryRequestRecord) {
    this.requests.add(1, {
      repository: repositoryId,
      status_class: statusClass(request.status),
    });
    if (request.rateLimitRemaining !== undefined) {
      this.rateLimits.set(repositoryId, request.rateLimitRemaining);
    }
  }

  /** Records a judgement of a promotion's gates: each gate it turned failed counts once. */
  judged(before: GateEvaluation[], after: GateEvaluation[]) {
    const failedBefore = new Set(
      before.filter(g => g.state === 'failed').map(g => g.gate),
    );
    for (const gate of after) {
      if (gate.state === 'failed' && !failedBefore.has(gate.gate)) {
        this.gateFailures.add(1, { gate: gate.gate });
      }
    }
  }

  /** The drift of every repository, read again only for those refreshed since; one read at a time. */
  private readDrift(): Promise<Map<string, RepositoryDrift> | undefined> {
    this.driftRead ??= this.readDriftNow().finally(() => {
      this.driftRead = undefined;
    });
    return this.driftRead.catch(error => {
      this.deps.logger.warn(`Could not count environments by drift: ${error}`);
      return undefined;
    });
  }

  /**
   * The environments with an open promotion the stale check told about, as the entity page adds
   * them (`PromotionNotifier.staleDrift`), in one grouped read.
   */
  private async readStale(): Promise<StaleDrift | undefined> {
    let rows: Array<{
      entity_ref: string;
      environment: string;
      since: unknown;
    }>;
    try {
      rows = await this.deps
        .db('promotions_notifications')
        .join(
          'promotions_requests',
          'promotions_requests.id',
          'promotions_notifications.promotion_id',
        )
        .where('promotions_notifications.event', 'stale')
        .whereIn('promotions_requests.state', OPEN_STATES)
        .select(
          'promotions_notifications.entity_ref as entity_ref',
          'promotions_notifications.environment as environment',
        )
        .min({ since: 'promotions_notifications.sent_at' })
        .groupBy(
          'promotions_notifications.entity_ref',
          'promotions_notifications.environment',
        );
    } catch (error) {
      this.deps.logger.warn(`Could not count stale promotions: ${error}`);
      return undefined;
    }
    const stale: StaleDrift = { environments: new Set() };
    for (const row of rows) {
      stale.environments.add(environmentKey(row.entity_ref, row.environment));
      const at = timeOf(row.since);
      if (!Number.isNaN(at)) stale.since = Math.min(stale.since ?? at, at);
    }
    return stale;
  }

  private async readDriftNow() {
    const { db } = this.deps;
    const repositories = await db('promotions_repository_state').select(
      'repository_id',
      'refreshed_at',
    );
    const present = new Set<string>();
    for (const row of repositories) {
      const repositoryId = String(row.repository_id);
      present.add(repositoryId);
      const refreshedAt = String(row.refreshed_at);
      if (this.drift.get(repositoryId)?.refreshedAt === refreshedAt) continue;
      const rows: Array<{ entity_ref: string; body: string }> = await db(
        'promotions_entity_state',
      )
        .where({ repository_id: repositoryId })
        .whereNotNull('body')
        .select('entity_ref', 'body');
      this.drift.set(repositoryId, {
        refreshedAt,
        ...countDrift(
          rows.map(entity => entity.body),
          rows.map(entity => entity.entity_ref),
        ),
      });
    }
    for (const repositoryId of this.drift.keys()) {
      if (!present.has(repositoryId)) this.drift.delete(repositoryId);
    }
    return this.drift;
  }
}

/**
 * Has `store` count the gates each judgement it stores turned failed, whatever else the store
 * does on a change (signals, notifications).
 */
export function countGateFailures<T extends WorkflowStore>(
  store: T,
  metrics: PromotionsMetrics,
): T {
  const transition = store.transition.bind(store);
  store.transition = async (...args) => {
    const [id, , change] = args;
    if (!change.gates) return transition(...args);
    const before = await store.get(id).catch(() => undefined);
    const done = await transition(...args);
    if (done) metrics.judged(before?.gates ?? [], change.gates);
    return done;
  };
  return store;
}
