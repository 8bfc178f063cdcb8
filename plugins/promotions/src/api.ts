import { CompoundEntityRef } from '@backstage/catalog-model';
import {
  createApiRef,
  DiscoveryApi,
  FetchApi,
} from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  EntityPromotions,
  entityPromotionsPath,
} from '@gitops-promotions/plugin-promotions-common';

/**
 * Reads the promotions state the backend keeps for each entity.
 *
 * @public
 */
export interface PromotionsApi {
  getEntityPromotions(entity: CompoundEntityRef): Promise<EntityPromotions>;
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

  async getEntityPromotions(
    entity: CompoundEntityRef,
  ): Promise<EntityPromotions> {
    const baseUrl = await this.deps.discoveryApi.getBaseUrl('promotions');
    const response = await this.deps.fetchApi.fetch(
      `${baseUrl}${entityPromotionsPath(entity)}`,
    );
    if (!response.ok) throw await ResponseError.fromResponse(response);
    return (await response.json()) as EntityPromotions;
  }
}
