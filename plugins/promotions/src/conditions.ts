import { Entity } from '@backstage/catalog-model';
import { ANNOTATION_REPOSITORY } from '@gitops-promotions/plugin-promotions-common';

/**
 * Whether an entity has a Promotions tab: it names the GitOps repository it is deployed from.
 *
 * @public
 */
export const isPromotionsAvailable = (entity: Entity): boolean =>
  Boolean(entity.metadata.annotations?.[ANNOTATION_REPOSITORY]);

/**
 * Whether an entity is a Backstage `System`: it has a Promotions tab to promote its components
 * together.
 *
 * @public
 */
export const isSystem = (entity: Entity): boolean =>
  entity.kind.toLocaleLowerCase('en-US') === 'system';
