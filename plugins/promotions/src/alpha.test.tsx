import { Entity } from '@backstage/catalog-model';
import { coreExtensionData } from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  renderTestApp,
} from '@backstage/frontend-test-utils';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { createTestEntityPage } from '@backstage/plugin-catalog-react/testUtils';
import { screen } from '@testing-library/react';
import { promotionsApiRef } from './api';
import promotionsPlugin from './alpha';
import { checkoutPromotions } from './components/fixtures';

const entity = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default', annotations },
  spec: { type: 'service' },
});

describe('the Promotions plugin in the new frontend system', () => {
  it('adds the Promotions tab to an entity that names a GitOps repository', async () => {
    const getEntityPromotions = jest.fn().mockResolvedValue(checkoutPromotions);
    renderTestApp({
      features: [promotionsPlugin],
      extensions: [
        createTestEntityPage({
          entity: entity({
            'gitops-promotions/repository': 'example-gitops',
            'gitops-promotions/path': 'checkout/envs/{env}',
          }),
        }),
      ],
      apis: [[promotionsApiRef, { getEntityPromotions }]],
    });
    expect(
      // The tab loads lazily beside the Overview card: give it time on a busy machine.
      await screen.findByRole(
        'region',
        { name: 'Environment prod-eu' },
        { timeout: 15_000 },
      ),
    ).toBeInTheDocument();
    expect(getEntityPromotions).toHaveBeenCalledWith({
      kind: 'Component',
      namespace: 'default',
      name: 'checkout',
    });
  });

  it('offers the tab at promotions, titled Promotions, only to entities naming a repository', () => {
    const tester = createExtensionTester(
      promotionsPlugin.getExtension('entity-content:promotions/promotions'),
    );
    expect(tester.get(coreExtensionData.routePath)).toBe('promotions');
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe(
      'Promotions',
    );
    const filter = tester.get(EntityContentBlueprint.dataRefs.filterFunction)!;
    expect(
      filter(entity({ 'gitops-promotions/repository': 'example-gitops' })),
    ).toBe(true);
    expect(filter(entity({ 'argocd/app-name': 'checkout' }))).toBe(false);
  });

  it('serves the approver inbox at /promotions, from the backend', async () => {
    const inbox = jest.fn().mockResolvedValue({ items: [], nextCursor: null });
    renderTestApp({
      features: [promotionsPlugin],
      initialRouteEntries: ['/promotions'],
      apis: [[promotionsApiRef, { inbox }]],
    });
    expect(
      // The page loads lazily: give it time on a busy machine.
      await screen.findByText('Nothing waits for you', {}, { timeout: 15_000 }),
    ).toBeInTheDocument();
    expect(inbox).toHaveBeenCalledWith({ limit: 25 });
  });
});
