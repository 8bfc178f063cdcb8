import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  PromotionGroup,
  SystemPromotions,
} from '@gitops-promotions/plugin-promotions-common';
import { SWRConfig } from 'swr';
import { PromotionsApi, promotionsApiRef } from '../api';
import { mockPromotionsApi } from './fixtures';
import { absoluteTime } from './time';
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
    {
      id: 'p1',
      entityRef: 'component:default/shop',
      environment: 'staging',
      version: '1.2.0',
      state: 'open',
      pullRequest: {
        number: 41,
        url: 'https://github.example/acme/gitops/pull/41',
      },
    },
    {
      id: 'p2',
      entityRef: 'component:default/cart',
      environment: 'staging',
      version: '1.2.0',
      state: 'open',
      pullRequest: null,
    },
  ] as any,
  hiddenMembers: 0,
  blocking: [],
  history: [],
  ...overrides,
});

const minutesAgo = (minutes: number) =>
  new Date(Date.now() - minutes * 60_000).toISOString();

const data = (groups: PromotionGroup[] = []): SystemPromotions => ({
  systemRef: 'system:default/checkout',
  components: [
    {
      entityRef: 'component:default/cart',
      title: null,
      hidden: false,
      environments: envs('1.2.0', '1.1.0', '1.0.0'),
      asOf: minutesAgo(5),
    },
    {
      entityRef: 'component:default/shop',
      title: 'Shop',
      hidden: false,
      environments: envs('1.3.0', '1.2.0', null as any),
      asOf: minutesAgo(5),
    },
  ],
  groups,
});

/** Every permission, unless the test names the ones allowed. */
function render(api: PromotionsApi, allowed?: string[]) {
  return renderInTestApp(
    // Each render decides its permissions afresh, not from an earlier test's cache.
    <SWRConfig value={{ provider: () => new Map() }}>
      <TestApiProvider
        apis={[
          [promotionsApiRef, api],
          [
            permissionApiRef,
            mockApis.permission({
              authorize: request =>
                !allowed || allowed.includes(request.permission.name)
                  ? AuthorizeResult.ALLOW
                  : AuthorizeResult.DENY,
            }),
          ],
        ]}
      >
        <EntityProvider entity={system}>
          <SystemPromotionsContent />
        </EntityProvider>
      </TestApiProvider>
    </SWRConfig>,
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
      'cart1.2.01.1.01.0.0',
      'Shop1.3.01.2.0—',
    ]);
    expect(systemPromotions).toHaveBeenCalledWith({
      kind: 'System',
      namespace: 'default',
      name: 'checkout',
    });
    expect(screen.getByText('No grouped promotions yet.')).toBeInTheDocument();
  });

  it('says how old each component’s versions are, and marks one whose last refresh failed', async () => {
    const [cart, shop] = data().components;
    const readAt = minutesAgo(180);
    const systemPromotions = jest.fn().mockResolvedValue({
      ...data(),
      components: [
        cart,
        {
          ...shop,
          asOf: readAt,
          refreshError: {
            message: 'Repository gitops is gone',
            at: minutesAgo(10),
          },
        },
      ],
    });
    await render(mockPromotionsApi({ systemPromotions }));
    const table = await screen.findByRole('table', {
      name: 'Versions per environment',
    });
    const [, cartRow, shopRow] = within(table).getAllByRole('row');
    // The last known versions stay.
    expect(shopRow).toHaveTextContent('Shop1.3.01.2.0—');
    expect(within(shopRow).getByText('Shop')).toHaveAttribute(
      'title',
      `Read 3 hours ago, ${absoluteTime(readAt)}`,
    );
    expect(
      within(shopRow).getByRole('img', {
        name: 'Last known state, read 3 hours ago: the refresh 10 minutes ago failed',
      }),
    ).toBeInTheDocument();
    expect(
      within(cartRow).queryByRole('img', { name: /Last known state/ }),
    ).not.toBeInTheDocument();
    expect(screen.getByLabelText('Data age')).toHaveTextContent(
      'Read between 3 hours ago and 5 minutes ago',
    );
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
    fireEvent.click(within(dialog).getByLabelText('cart'));
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
    ).toHaveTextContent('shop 1.2.0 (open)');
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
      'Waiting for cart: approvals pending: 0 of 1 approval',
    );
    expect(
      within(item).getByRole('button', { name: 'Merge all' }),
    ).toBeDisabled();
  });

  it('shows a group being merged as such, with neither Merge all nor Close', async () => {
    const [shop, cart] = group().members;
    const merging = group({
      state: 'merging',
      members: [{ ...shop, state: 'merged' }, cart],
    });
    await render(
      mockPromotionsApi({
        systemPromotions: jest.fn().mockResolvedValue(data([merging])),
      }),
    );
    const item = await screen.findByRole('listitem', {
      name: 'Group to staging',
    });
    expect(item).toHaveTextContent('To staging being merged requested by');
    expect(within(item).queryByRole('button')).not.toBeInTheDocument();
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

  it('shows each group’s history and each member’s pull request', async () => {
    const merged = group({
      state: 'merged',
      history: [
        {
          at: '2026-12-07T10:00:00Z',
          action: 'requested',
          actor: 'user:default/ana',
          reason: null,
        },
        {
          at: '2026-12-07T11:00:00Z',
          action: 'member-merged',
          actor: 'user:default/rita',
          reason: 'component:default/shop',
        },
        {
          at: '2026-12-07T11:01:00Z',
          action: 'merged',
          actor: 'user:default/rita',
          reason: null,
        },
      ],
    });
    await render(
      mockPromotionsApi({
        systemPromotions: jest.fn().mockResolvedValue(data([merged])),
      }),
    );
    const item = await screen.findByRole('listitem', {
      name: 'Group to staging',
    });
    const history = within(item).getByRole('list', { name: 'History' });
    expect(
      within(history)
        .getAllByRole('listitem')
        .map(li => li.textContent?.replace(/^.*? ago /, '')),
    ).toEqual([
      'requested by user:default/ana',
      'member-merged by user:default/rita: component:default/shop',
      'merged by user:default/rita',
    ]);
    const members = within(item).getByRole('list', { name: 'Members' });
    expect(
      within(members).getByRole('link', { name: 'pull request #41' }),
    ).toHaveAttribute('href', 'https://github.example/acme/gitops/pull/41');
    expect(within(members).getAllByRole('link')).toHaveLength(1);
  });

  it('shows what the user may not read as hidden, and offers no action on such a group', async () => {
    const [shop] = group().members;
    const partly = group({
      members: [shop],
      hiddenMembers: 1,
      blocking: [
        { entityRef: '', promotionId: '', reason: 'a member you may not read' },
      ],
    });
    const withHidden: SystemPromotions = {
      ...data([partly]),
      components: [
        {
          entityRef: 'component:default/cart',
          title: null,
          hidden: true,
          environments: envs(null as any, null as any, null as any),
          asOf: null,
        },
        data().components[1],
      ],
    };
    await render(
      mockPromotionsApi({
        systemPromotions: jest.fn().mockResolvedValue(withHidden),
      }),
    );
    const table = await screen.findByRole('table', {
      name: 'Versions per environment',
    });
    expect(within(table).getAllByRole('row')[1]).toHaveTextContent(
      'cartYou may not read this component’s promotions',
    );
    const item = screen.getByRole('listitem', { name: 'Group to staging' });
    expect(item).toHaveTextContent('1 member you may not read');
    expect(item).toHaveTextContent('Waiting for a member you may not read');
    expect(within(item).queryByRole('button')).not.toBeInTheDocument();

    // The hidden component cannot be picked to promote.
    fireEvent.click(
      await screen.findByRole('button', { name: 'Promote together' }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByLabelText('Shop')).toBeInTheDocument();
    expect(within(dialog).queryByLabelText('cart')).not.toBeInTheDocument();
  });

  it('offers Promote together, Merge all and Close only to a user allowed to', async () => {
    const systemPromotions = jest.fn().mockResolvedValue(data([group()]));
    const { unmount } = await render(mockPromotionsApi({ systemPromotions }), [
      'promotions.entity.read',
    ]);
    const item = await screen.findByRole('listitem', {
      name: 'Group to staging',
    });
    expect(within(item).queryByRole('button')).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Promote together' }),
    ).not.toBeInTheDocument();
    unmount();

    // Whoever may promote, and not merge, may ask and take back, not merge.
    await render(mockPromotionsApi({ systemPromotions }), [
      'promotions.promote',
    ]);
    const mine = await screen.findByRole('listitem', {
      name: 'Group to staging',
    });
    expect(
      await within(mine).findByRole('button', { name: 'Close' }),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Promote together' }),
    ).toBeInTheDocument();
    expect(
      within(mine).queryByRole('button', { name: 'Merge all' }),
    ).not.toBeInTheDocument();
  });
});
