import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  PromotionGroup,
  SystemPromotions,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsApi, promotionsApiRef } from '../api';
import { mockPromotionsApi } from './fixtures';
import { SystemPromotionsContent } from './SystemPromotionsContent';

const system: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'System',
  metadata: { name: 'checkout', namespace: 'default' },
  spec: { owner: 'group:default/shop-team' },
};

const envs = (dev: string, staging: string, prod: string) => [
  { name: 'dev', version: dev },
  { name: 'staging', version: staging },
  { name: 'prod', version: prod },
];

const group = (overrides: Partial<PromotionGroup> = {}): PromotionGroup => ({
  id: 'g1',
  systemRef: 'system:default/checkout',
  environment: 'staging',
  requestedBy: 'user:default/ana',
  requestedAt: '2026-12-07T10:00:00Z',
  updatedAt: '2026-12-07T10:00:00Z',
  state: 'open',
  reason: null,
  members: [
    { entityRef: 'component:default/shop', version: '1.2.0', state: 'open' },
    { entityRef: 'component:default/cart', version: '1.2.0', state: 'open' },
  ] as any,
  blocking: [],
  history: [],
  ...overrides,
});

const data = (groups: PromotionGroup[] = []): SystemPromotions => ({
  systemRef: 'system:default/checkout',
  components: [
    {
      entityRef: 'component:default/cart',
      title: null,
      environments: envs('1.2.0', '1.1.0', '1.0.0'),
    },
    {
      entityRef: 'component:default/shop',
      title: 'Shop',
      environments: envs('1.3.0', '1.2.0', null as any),
    },
  ],
  groups,
});

function render(api: PromotionsApi) {
  return renderInTestApp(
    <TestApiProvider apis={[[promotionsApiRef, api]]}>
      <EntityProvider entity={system}>
        <SystemPromotionsContent />
      </EntityProvider>
    </TestApiProvider>,
  );
}

describe('SystemPromotionsContent', () => {
  it('lists the components × environments with the version each runs', async () => {
    const systemPromotions = jest.fn().mockResolvedValue(data());
    await render(mockPromotionsApi({ systemPromotions }));
    const table = await screen.findByRole('table', {
      name: 'Versions per environment',
    });
    const rows = within(table).getAllByRole('row');
    expect(rows.map(r => r.textContent)).toEqual([
      'Componentdevstagingprod',
      'component:default/cart1.2.01.1.01.0.0',
      'Shop1.3.01.2.0—',
    ]);
    expect(systemPromotions).toHaveBeenCalledWith({
      kind: 'System',
      namespace: 'default',
      name: 'checkout',
    });
    expect(screen.getByText('No grouped promotions yet.')).toBeInTheDocument();
  });

  it('requests the components picked, to the environment picked, and shows each member’s refusal', async () => {
    const requestPromotionGroup = jest
      .fn()
      .mockRejectedValueOnce(
        new Error(
          'The group promotion was not opened: component:default/cart: no upstream runs 9.9.9',
        ),
      )
      .mockResolvedValueOnce(group());
    const systemPromotions = jest
      .fn()
      .mockResolvedValueOnce(data())
      .mockResolvedValue(data([group()]));
    await render(
      mockPromotionsApi({ systemPromotions, requestPromotionGroup }),
    );
    fireEvent.click(
      await screen.findByRole('button', { name: 'Promote together' }),
    );
    const dialog = await screen.findByRole('dialog');
    const request = within(dialog).getByRole('button', { name: 'Request' });
    expect(request).toBeDisabled();
    fireEvent.click(within(dialog).getByLabelText('Shop'));
    fireEvent.click(within(dialog).getByLabelText('component:default/cart'));
    fireEvent.click(request);
    expect(
      await within(dialog).findByText(
        /component:default\/cart: no upstream runs 9\.9\.9/,
      ),
    ).toBeInTheDocument();
    expect(requestPromotionGroup).toHaveBeenLastCalledWith(
      { kind: 'System', namespace: 'default', name: 'checkout' },
      {
        to: 'staging',
        members: [
          { entityRef: 'component:default/shop' },
          { entityRef: 'component:default/cart' },
        ],
      },
    );
    fireEvent.click(request);
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
    expect(
      await screen.findByRole('listitem', { name: 'Group to staging' }),
    ).toHaveTextContent('component:default/shop 1.2.0 (open)');
  });

  it('holds Merge all while a member waits, naming it', async () => {
    const waiting = group({
      blocking: [
        {
          entityRef: 'component:default/cart',
          promotionId: 'p2',
          reason: 'approvals pending: 0 of 1 approval',
        },
      ],
    });
    await render(
      mockPromotionsApi({
        systemPromotions: jest.fn().mockResolvedValue(data([waiting])),
      }),
    );
    const item = await screen.findByRole('listitem', {
      name: 'Group to staging',
    });
    expect(item).toHaveTextContent(
      'Waiting for component:default/cart: approvals pending: 0 of 1 approval',
    );
    expect(
      within(item).getByRole('button', { name: 'Merge all' }),
    ).toBeDisabled();
  });

  it('merges a ready group and shows the refusal when a member fails to merge', async () => {
    const mergePromotionGroup = jest
      .fn()
      .mockRejectedValueOnce(
        new Error(
          'component:default/cart could not be merged: the branch moved',
        ),
      )
      .mockResolvedValue(group({ state: 'merged' }));
    const systemPromotions = jest
      .fn()
      .mockResolvedValueOnce(data([group()]))
      .mockResolvedValue(data([group({ state: 'merged' })]));
    await render(mockPromotionsApi({ systemPromotions, mergePromotionGroup }));
    const merge = await screen.findByRole('button', { name: 'Merge all' });
    fireEvent.click(merge);
    expect(
      await screen.findByText(/cart could not be merged: the branch moved/),
    ).toBeInTheDocument();
    expect(mergePromotionGroup).toHaveBeenCalledWith('g1');
    fireEvent.click(screen.getByRole('button', { name: 'Merge all' }));
    await waitFor(() =>
      expect(
        screen.queryByRole('button', { name: 'Merge all' }),
      ).not.toBeInTheDocument(),
    );
    expect(
      screen.getByRole('listitem', { name: 'Group to staging' }),
    ).toHaveTextContent('merged');
  });
});
