import { Entity } from '@backstage/catalog-model';
import { coreExtensionData } from '@backstage/frontend-plugin-api';
import { createExtensionTester } from '@backstage/frontend-test-utils';
import { EntityCardBlueprint } from '@backstage/plugin-catalog-react/alpha';
import promotionsPlugin from './alpha';

const entity = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default', annotations },
  spec: { type: 'service' },
});

describe('the Overview card and the fleet page in the new frontend system', () => {
  it('puts the card only on entities naming a GitOps repository', () => {
    const tester = createExtensionTester(
      promotionsPlugin.getExtension('entity-card:promotions/promotions'),
    );
    const filter = tester.get(EntityCardBlueprint.dataRefs.filterFunction)!;
    expect(
      filter(entity({ 'gitops-promotions/repository': 'example-gitops' })),
    ).toBe(true);
    expect(filter(entity({ 'argocd/app-name': 'checkout' }))).toBe(false);
  });

  it('serves the fleet page at /promotions/fleet, with its own route and a sidebar title', () => {
    const tester = createExtensionTester(
      promotionsPlugin.getExtension('page:promotions/fleet'),
    );
    expect(tester.get(coreExtensionData.routePath)).toBe('/promotions/fleet');
    expect(tester.get(coreExtensionData.title)).toBe('Fleet');
    expect(promotionsPlugin.routes.fleet).toBeDefined();
  });
});
