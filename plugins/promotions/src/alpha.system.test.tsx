import { Entity } from '@backstage/catalog-model';
import { coreExtensionData } from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  renderTestApp,
} from '@backstage/frontend-test-utils';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { createTestEntityPage } from '@backstage/plugin-catalog-react/testUtils';
import { screen } from '@testing-library/react';
import { ANNOTATION_REPOSITORY } from '@gitops-promotions/plugin-promotions-common';
import { promotionsApiRef } from './api';
import promotionsPlugin from './alpha';

const entity = (kind: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name: 'checkout', namespace: 'default' },
  spec: {},
});

describe('the system Promotions tab in the new frontend system', () => {
  it('shows a system its components × environments, from the backend', async () => {
    const systemPromotions = jest.fn().mockResolvedValue({
      systemRef: 'system:default/checkout',
      components: [
        {
          entityRef: 'component:default/shop',
          title: null,
          hidden: false,
          environments: [{ name: 'dev', version: '1.2.0' }],
        },
      ],
      groups: [],
    });
    renderTestApp({
      features: [promotionsPlugin],
      extensions: [createTestEntityPage({ entity: entity('System') })],
      apis: [[promotionsApiRef, { systemPromotions }]],
    });
    expect(
      await screen.findByRole(
        'table',
        { name: 'Versions per environment' },
        { timeout: 15_000 },
      ),
    ).toHaveTextContent('shop1.2.0');
    expect(systemPromotions).toHaveBeenCalledWith({
      kind: 'System',
      namespace: 'default',
      name: 'checkout',
    });
  });

  it('offers the tab at promotions, titled Promotions, to systems only', () => {
    const tester = createExtensionTester(
      promotionsPlugin.getExtension(
        'entity-content:promotions/system-promotions',
      ),
    );
    expect(tester.get(coreExtensionData.routePath)).toBe('promotions');
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe(
      'Promotions',
    );
    const filter = tester.get(EntityContentBlueprint.dataRefs.filterFunction)!;
    expect(filter(entity('System'))).toBe(true);
    expect(filter(entity('Component'))).toBe(false);
  });

  it('gives a system that names a GitOps repository exactly one Promotions tab, its own', () => {
    const annotated = (kind: string): Entity => ({
      ...entity(kind),
      metadata: {
        ...entity(kind).metadata,
        annotations: { [ANNOTATION_REPOSITORY]: 'gitops' },
      },
    });
    const tabs = (['promotions', 'system-promotions'] as const).map(name => {
      const tester = createExtensionTester(
        promotionsPlugin.getExtension(`entity-content:promotions/${name}`),
      );
      return {
        name,
        path: tester.get(coreExtensionData.routePath),
        filter: tester.get(EntityContentBlueprint.dataRefs.filterFunction)!,
      };
    });
    const shown = (e: Entity) =>
      tabs.filter(t => t.path === 'promotions' && t.filter(e)).map(t => t.name);
    expect(shown(annotated('System'))).toEqual(['system-promotions']);
    expect(shown(annotated('Component'))).toEqual(['promotions']);
  });
});
