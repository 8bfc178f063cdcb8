import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  DeliveryFigures,
  FleetDeliveryFigures,
  HistoryEntry,
  ownerEntityRef,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsConfig } from '@gitops-promotions/plugin-promotions-node';
import { Knex } from 'knex';
import { EntityVisibility } from '../service/EntityVisibility';
import { readEntityTarget } from '../state/entityTarget';
import { PromotionsStore, StoredEnvironment } from '../state/PromotionsStore';
import { TIMELINE_DEPTH } from '../state/timeline';
import {
  computeDeliveryFigures,
  computeOwnerFigures,
  FiguresHistoryEntry,
} from './deliveryFigures';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How far before the window a version's first run in an earlier environment is looked for. */
export const LEAD_TIME_LOOKBACK_DAYS = 90;
/** Services one fleet answer reads at most, over every owner asked for. */
export const FLEET_SERVICE_LIMIT = 1000;
/** The history table the workflow keeps (`workflow/WorkflowStore.ts`). */
const HISTORY = 'promotions_history';
/** The workflow's promotions, for the commits a merge may be seen by in a timeline. */
const PROMOTIONS = 'promotions_requests';
/** Only these entries make figures. */
const FIGURE_ACTIONS: Array<HistoryEntry['action']> = [
  'requested',
  'merged',
  'failed',
];

/**
 * Delivery figures of what the caller may see: one service's, read from the stored timelines
 * (the refresh keeps one for every environment it resolves) and the workflow's history, or
 * pooled per owner over their services.
 */
export class FiguresService {
  constructor(
    private readonly deps: {
      config: PromotionsConfig;
      store: PromotionsStore;
      visibility: EntityVisibility;
      catalog: CatalogService;
      now?: () => Date;
    },
  ) {}

  /** A service's figures over `days`; refused as its promotions would be. */
  async entityFigures(
    ref: { kind: string; namespace: string; name: string },
    credentials: BackstageCredentials,
    days: number,
  ): Promise<DeliveryFigures> {
    const entityRef = stringifyEntityRef(ref);
    const stored = await this.deps.store.get(entityRef);
    const access = await this.deps.visibility.check(
      entityRef,
      stored?.entity ?? undefined,
      credentials,
    );
    if (access.kind === 'not-found') {
      throw new NotFoundError(`No entity ${entityRef} in the catalog`);
    }
    if (access.kind === 'forbidden') {
      throw new NotAllowedError(
        `You may not read the promotions of ${entityRef}`,
      );
    }
    const [figures] = await this.compute([access.entity], days);
    return figures;
  }

  /**
   * Each owner's figures, pooled over the services they own that the caller may see and
   * whose promotions they may read; at most {@link FLEET_SERVICE_LIMIT} services in all.
   */
  async ownerFigures(
    owners: string[],
    credentials: BackstageCredentials,
    days: number,
  ): Promise<FleetDeliveryFigures> {
    const now = this.now();
    const window = {
      days,
      from: new Date(now.getTime() - days * DAY_MS).toISOString(),
      to: now.toISOString(),
    };
    // The catalog answers with what the caller may see, and only owned entities.
    const page = await this.deps.catalog.queryEntities(
      {
        filter: { 'relations.ownedBy': owners },
        limit: FLEET_SERVICE_LIMIT + 1,
      },
      { credentials },
    );
    const truncated = page.items.length > FLEET_SERVICE_LIMIT;
    const visible: Entity[] = [];
    for (const entity of page.items.slice(0, FLEET_SERVICE_LIMIT)) {
      const access = await this.deps.visibility.check(
        stringifyEntityRef(entity),
        entity,
        credentials,
      );
      if (access.kind === 'allowed') visible.push(access.entity);
    }
    const figures = await this.compute(visible, days, now);
    const byRef = new Map(figures.map(f => [f.entityRef, f]));
    return {
      window,
      owners: owners.map(owner =>
        computeOwnerFigures(
          owner,
          visible
            .filter(entity => ownersOf(entity).includes(owner))
            .flatMap(entity => byRef.get(stringifyEntityRef(entity)) ?? []),
        ),
      ),
      truncated,
    };
  }

  /** Figures of entities the promotions are kept for; others are left out. */
  private async compute(
    entities: Entity[],
    days: number,
    now = this.now(),
  ): Promise<DeliveryFigures[]> {
    const targets = entities.flatMap(entity => {
      try {
        return [readEntityTarget(entity, this.deps.config)];
      } catch {
        // Wrong or missing annotations: no promotions, so no figures.
        return [];
      }
    });
    const refs = targets.map(t => t.entityRef);
    const environments = new Map<string, StoredEnvironment[]>();
    for (const environment of await this.deps.store.environments(refs)) {
      const list = environments.get(environment.entityRef) ?? [];
      list.push(environment);
      environments.set(environment.entityRef, list);
    }
    const history = await this.historyOf(
      refs,
      new Date(now.getTime() - (days + LEAD_TIME_LOOKBACK_DAYS) * DAY_MS),
    );
    return targets.map(target => {
      const stored = environments.get(target.entityRef) ?? [];
      return computeDeliveryFigures({
        entityRef: target.entityRef,
        now,
        days,
        environments: target.pipeline.map(environment => {
          const timeline = stored.find(
            s => s.environment === environment.name,
          )?.timeline;
          return {
            name: environment.name,
            production: Boolean(environment.policy.production),
            timeline: timeline
              ? {
                  commits: timeline.commits.map(c => ({
                    sha: c.sha,
                    at: c.at,
                    version: c.version,
                  })),
                  // A timeline shorter than its depth reached the environment's first commit.
                  complete: timeline.commits.length < TIMELINE_DEPTH,
                }
              : null,
          };
        }),
        history: history.get(target.entityRef) ?? [],
      });
    });
  }

  /** The history entries figures are made of, of some services, since a time. */
  private async historyOf(
    entityRefs: string[],
    since: Date,
  ): Promise<Map<string, FiguresHistoryEntry[]>> {
    const db: Knex = this.deps.store.client;
    const result = new Map<string, FiguresHistoryEntry[]>();
    for (let i = 0; i < entityRefs.length; i += 500) {
      const rows = await db(`${HISTORY} as h`)
        .leftJoin(`${PROMOTIONS} as p`, 'p.id', 'h.request_id')
        .whereIn('h.entity_ref', entityRefs.slice(i, i + 500))
        .whereIn('h.action', FIGURE_ACTIONS)
        .where('h.at', '>=', since)
        .select(
          'h.entity_ref',
          'h.environment',
          'h.action',
          'h.at',
          'h.version',
          'h.kind',
          'h.request_id',
          'p.head_commit',
          'p.merged_commit',
        );
      for (const row of rows) {
        const list = result.get(row.entity_ref) ?? [];
        list.push({
          environment: row.environment,
          action: row.action,
          at: new Date(row.at).toISOString(),
          version: row.version,
          kind: row.kind,
          promotionId: row.request_id,
          ...(row.action === 'merged'
            ? {
                commits: [row.head_commit, row.merged_commit].filter(
                  (sha): sha is string => typeof sha === 'string' && sha !== '',
                ),
              }
            : {}),
        });
        result.set(row.entity_ref, list);
      }
    }
    return result;
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/** The owners an entity names: its `ownedBy` relations, spelled as the fleet spells owners. */
function ownersOf(entity: Entity): string[] {
  return (entity.relations ?? [])
    .filter(r => r.type === 'ownedBy')
    .flatMap(r => ownerEntityRef(r.targetRef) ?? []);
}
