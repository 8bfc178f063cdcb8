import { Entity } from '@backstage/catalog-model';
import {
  EntityPromotionsContent,
  isPromotionsAvailable,
  promotionsPlugin,
} from './plugin';

const withAnnotations = (annotations?: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', annotations },
});

describe('the Promotions plugin for the legacy frontend system', () => {
  it('is the promotions plugin, with its API and the tab content', () => {
    expect(promotionsPlugin.getId()).toBe('promotions');
    expect(
      [...promotionsPlugin.getApis()].map(factory => factory.api.id),
    ).toEqual(['plugin.promotions.service']);
    expect(EntityPromotionsContent).toBeDefined();
  });

  it('is available for entities that name a GitOps repository', () => {
    expect(
      isPromotionsAvailable(
        withAnnotations({ 'gitops-promotions/repository': 'shop' }),
      ),
    ).toBe(true);
    expect(
      isPromotionsAvailable(
        withAnnotations({ 'gitops-promotions/repository': '' }),
      ),
    ).toBe(false);
    expect(
      isPromotionsAvailable(withAnnotations({ 'argocd/app-name': 'checkout' })),
    ).toBe(false);
    expect(isPromotionsAvailable(withAnnotations())).toBe(false);
  });
});
