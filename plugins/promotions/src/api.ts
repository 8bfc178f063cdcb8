import { CompoundEntityRef } from '@backstage/catalog-model';
import {
  createApiRef,
  DiscoveryApi,
  FetchApi,
} from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  DeliveryFigures,
  DeliveryFigureWindow,
  EntityPromotions,
  entityPromotionsPath,
  FleetDeliveryFigures,
  FleetPage,
  FleetQuery,
  Freeze,
  HistoryEntry,
  InboxPage,
  Promotion,
  PromotionGroup,
  PromotionGroupRequest,
  PromotionPreview,
  PROMOTIONS_API_ROUTES,
  SystemPromotions,
} from '@gitops-promotions/plugin-promotions-common';

/**
 * What someone asks for: a version for an environment, or a rollback to one it ran.
 *
 * @public
 */
export interface PromotionRequestInput {
  to: string;
  version?: string;
  from?: string;
  images?: 'service' | 'all';
  allowUnknownVersion?: boolean;
  kind?: 'promotion' | 'rollback';
  supersede?: boolean;
  /** The commit a preview was made on: the request is refused if the branch moved since. */
  baseCommit?: string;
}

/**
 * Which page of the approver inbox to read, and its filters.
 *
 * @public
 */
export interface InboxQuery {
  environment?: string;
  /** An owner's entity ref, such as `group:default/shop-team`. */
  owner?: string;
  /** The `nextCursor` of the page before; none for the first page. */
  cursor?: string;
  limit?: number;
}

/**
 * Reads the promotions state the backend keeps for each entity, and acts on its promotions.
 *
 * @public
 */
export interface PromotionsApi {
  getEntityPromotions(entity: CompoundEntityRef): Promise<EntityPromotions>;
  /** The entity's open promotions and its latest finished ones. */
  listPromotions(entity: CompoundEntityRef): Promise<Promotion[]>;
  preview(
    entity: CompoundEntityRef,
    request: Omit<PromotionRequestInput, 'supersede'>,
  ): Promise<PromotionPreview>;
  requestPromotion(
    entity: CompoundEntityRef,
    request: PromotionRequestInput,
  ): Promise<Promotion>;
  decide(
    id: string,
    decision: 'approve' | 'reject',
    comment?: string,
  ): Promise<Promotion>;
  merge(id: string, override?: { reason: string }): Promise<Promotion>;
  close(id: string, reason?: string): Promise<Promotion>;
  /** Queues a promotion held only by its change window to merge when the window opens. */
  queue(id: string): Promise<Promotion>;
  /** Takes a promotion off the merge queue. */
  unqueue(id: string): Promise<Promotion>;
  /** A page of the promotions waiting for the signed-in person, oldest first. */
  inbox(query: InboxQuery): Promise<InboxPage>;
  history(
    entity: CompoundEntityRef,
    options?: { environment?: string; before?: number; limit?: number },
  ): Promise<{ entries: HistoryEntry[]; next: number | null }>;
  /** The versions an environment ran, newest first, to roll back to. */
  versions(
    entity: CompoundEntityRef,
    environment: string,
  ): Promise<Array<{ version: string; commit: string; at: string }>>;
  freezes(entityRef: string): Promise<Freeze[]>;
  freeze(input: {
    entityRef: string;
    environment: string;
    reason: string;
  }): Promise<Freeze>;
  /** Lifts a freeze, saying why: the reason is kept in the environment's history. */
  liftFreeze(id: number, reason: string): Promise<Freeze>;
  /** One page of every service's environments the caller may see, for the fleet page. */
  fleet(query: FleetQuery): Promise<FleetPage>;
  /** The service's delivery figures over the last `days`. */
  figures(
    entity: CompoundEntityRef,
    days: DeliveryFigureWindow,
  ): Promise<DeliveryFigures>;
  /**
   * Each owner's delivery figures over the last `days`, pooled over the services the caller
   * may read; at most `FLEET_FIGURES_OWNER_LIMIT` owners, each any spelling of an entity ref.
   */
  ownerFigures(
    owners: string[],
    days: DeliveryFigureWindow,
  ): Promise<FleetDeliveryFigures>;
  /** A system's components with their environments' versions, and its grouped promotions. */
  systemPromotions(system: CompoundEntityRef): Promise<SystemPromotions>;
  /** Promotes several components of a system to one environment as one release. */
  requestPromotionGroup(
    system: CompoundEntityRef,
    request: PromotionGroupRequest,
  ): Promise<PromotionGroup>;
  /** Merges every member of a group, once every member's gates pass. */
  mergePromotionGroup(id: string): Promise<PromotionGroup>;
  /** Closes a group and its open members. */
  closePromotionGroup(id: string, reason?: string): Promise<PromotionGroup>;
}

/** @public */
export const promotionsApiRef = createApiRef<PromotionsApi>({
  id: 'plugin.promotions.service',
});

/**
 * The PromotionsApi over the backend's REST API.
 *
 * @public
 */
export class PromotionsClient implements PromotionsApi {
  constructor(
    private readonly deps: { discoveryApi: DiscoveryApi; fetchApi: FetchApi },
  ) {}

  private async call<T>(
    path: string,
    init?: { method: 'POST'; body?: object },
  ): Promise<T> {
    const baseUrl = await this.deps.discoveryApi.getBaseUrl('promotions');
    const url = `${baseUrl}${path}`;
    const response = await (init
      ? this.deps.fetchApi.fetch(url, {
          method: init.method,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(init.body ?? {}),
        })
      : this.deps.fetchApi.fetch(url));
    if (!response.ok) throw await ResponseError.fromResponse(response);
    return (await response.json()) as T;
  }

  async getEntityPromotions(
    entity: CompoundEntityRef,
  ): Promise<EntityPromotions> {
    return this.call(entityPromotionsPath(entity));
  }

  async listPromotions(entity: CompoundEntityRef): Promise<Promotion[]> {
    const body = await this.call<{ promotions: Promotion[] }>(
      `${entityPromotionsPath(entity)}/promotions`,
    );
    return body.promotions;
  }

  async preview(
    entity: CompoundEntityRef,
    request: Omit<PromotionRequestInput, 'supersede'>,
  ): Promise<PromotionPreview> {
    return this.call(`${entityPromotionsPath(entity)}/promotions/preview`, {
      method: 'POST',
      body: request,
    });
  }

  async requestPromotion(
    entity: CompoundEntityRef,
    request: PromotionRequestInput,
  ): Promise<Promotion> {
    return this.call(`${entityPromotionsPath(entity)}/promotions`, {
      method: 'POST',
      body: request,
    });
  }

  async decide(
    id: string,
    decision: 'approve' | 'reject',
    comment?: string,
  ): Promise<Promotion> {
    return this.call(`/v1/promotions/${encodeURIComponent(id)}/${decision}`, {
      method: 'POST',
      body: comment ? { comment } : {},
    });
  }

  async merge(id: string, override?: { reason: string }): Promise<Promotion> {
    return this.call(`/v1/promotions/${encodeURIComponent(id)}/merge`, {
      method: 'POST',
      body: override ? { override } : {},
    });
  }

  private static systemPath(system: CompoundEntityRef): string {
    return `/v1/systems/${encodeURIComponent(
      system.namespace,
    )}/${encodeURIComponent(system.name)}/promotions`;
  }

  async systemPromotions(system: CompoundEntityRef): Promise<SystemPromotions> {
    return this.call(PromotionsClient.systemPath(system));
  }

  async requestPromotionGroup(
    system: CompoundEntityRef,
    request: PromotionGroupRequest,
  ): Promise<PromotionGroup> {
    return this.call(PromotionsClient.systemPath(system), {
      method: 'POST',
      body: request,
    });
  }

  async mergePromotionGroup(id: string): Promise<PromotionGroup> {
    return this.call(`/v1/promotion-groups/${encodeURIComponent(id)}/merge`, {
      method: 'POST',
    });
  }

  async closePromotionGroup(
    id: string,
    reason?: string,
  ): Promise<PromotionGroup> {
    return this.call(`/v1/promotion-groups/${encodeURIComponent(id)}/close`, {
      method: 'POST',
      body: reason ? { reason } : {},
    });
  }

  async close(id: string, reason?: string): Promise<Promotion> {
    return this.call(`/v1/promotions/${encodeURIComponent(id)}/close`, {
      method: 'POST',
      body: reason ? { reason } : {},
    });
  }

  async history(
    entity: CompoundEntityRef,
    options: { environment?: string; before?: number; limit?: number } = {},
  ): Promise<{ entries: HistoryEntry[]; next: number | null }> {
    const query = new URLSearchParams();
    if (options.environment) query.set('environment', options.environment);
    if (options.before) query.set('before', String(options.before));
    if (options.limit) query.set('limit', String(options.limit));
    const text = query.toString();
    return this.call(
      `${entityPromotionsPath(entity)}/history${text ? `?${text}` : ''}`,
    );
  }

  async versions(
    entity: CompoundEntityRef,
    environment: string,
  ): Promise<Array<{ version: string; commit: string; at: string }>> {
    const body = await this.call<{
      versions: Array<{ version: string; commit: string; at: string }>;
    }>(
      `${entityPromotionsPath(entity)}/environments/${encodeURIComponent(
        environment,
      )}/versions`,
    );
    return body.versions;
  }

  async freezes(entityRef: string): Promise<Freeze[]> {
    const body = await this.call<{ items: Freeze[] }>(
      `/v1/freezes?entityRef=${encodeURIComponent(entityRef)}`,
    );
    return body.items;
  }

  async freeze(input: {
    entityRef: string;
    environment: string;
    reason: string;
  }): Promise<Freeze> {
    return this.call('/v1/freezes', { method: 'POST', body: input });
  }

  async fleet(query: FleetQuery): Promise<FleetPage> {
    const params = new URLSearchParams();
    const { sort, ...rest } = query;
    for (const [name, value] of Object.entries(rest)) {
      if (value !== undefined && value !== '') params.set(name, String(value));
    }
    if (sort) {
      params.set(
        'sort',
        'environment' in sort ? `${sort.by}:${sort.environment}` : sort.by,
      );
    }
    const search = params.toString();
    return this.call(`/v1/fleet${search ? `?${search}` : ''}`);
  }

  async queue(id: string): Promise<Promotion> {
    return this.call(`/v1/promotions/${encodeURIComponent(id)}/queue`, {
      method: 'POST',
    });
  }

  async unqueue(id: string): Promise<Promotion> {
    return this.call(`/v1/promotions/${encodeURIComponent(id)}/unqueue`, {
      method: 'POST',
    });
  }

  async inbox(query: InboxQuery): Promise<InboxPage> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') params.set(name, String(value));
    }
    const search = params.toString();
    return this.call(`/v1/inbox${search ? `?${search}` : ''}`);
  }

  async liftFreeze(id: number, reason: string): Promise<Freeze> {
    return this.call(`/v1/freezes/${id}/lift`, {
      method: 'POST',
      body: { reason },
    });
  }

  async figures(
    entity: CompoundEntityRef,
    days: DeliveryFigureWindow,
  ): Promise<DeliveryFigures> {
    return this.call(
      `${entityPromotionsPath(entity)}/figures?days=${encodeURIComponent(
        String(days),
      )}`,
    );
  }

  async ownerFigures(
    owners: string[],
    days: DeliveryFigureWindow,
  ): Promise<FleetDeliveryFigures> {
    const params = new URLSearchParams();
    for (const owner of owners) params.append('owner', owner);
    params.set('days', String(days));
    return this.call(`${PROMOTIONS_API_ROUTES.fleetFigures}?${params}`);
  }
}
