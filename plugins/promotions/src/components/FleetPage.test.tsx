import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { createTheme } from '@material-ui/core/styles';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import {
  FleetPage as FleetPageBody,
  FleetRow,
} from '@gitops-promotions/plugin-promotions-common';
import { PromotionsClient, promotionsApiRef } from '../api';
import { driftColor } from './DriftBadge';
import { FleetPage } from './FleetPage';
import { fleetFigures, mockPromotionsApi } from './fixtures';
import { absoluteTime } from './time';

const minutesAgo = (minutes: number) =>
  new Date(Date.now() - minutes * 60_000).toISOString();

const row = (
  name: string,
  owner: string,
  prod: FleetRow['environments'][string],
): FleetRow => ({
  entityRef: `component:default/${name}`,
  title: name,
  owner: `group:default/${owner}`,
  system: 'shop',
  lifecycle: 'production',
  environments: {
    dev: { version: '2.0.0', drift: [], health: null },
    prod,
  },
  asOf: minutesAgo(5),
});

const page: FleetPageBody = {
  rows: [
    row('cart', 'team-a', {
      version: '1.0.0',
      drift: ['behind', 'out-of-sync'],
      health: 'Degraded',
    }),
    row('checkout', 'team-b', {
      version: '1.1.0',
      drift: ['config'],
      health: null,
    }),
    row('search', 'team-b', { version: '2.0.0', drift: [], health: 'Healthy' }),
  ],
  total: 120,
  columns: [
    { environment: 'dev', services: 120, drift: {} },
    {
      environment: 'prod',
      services: 118,
      drift: { behind: 12, 'out-of-sync': 3 },
    },
  ],
  facets: {
    owners: ['group:default/team-a', 'group:default/team-b'],
    systems: ['shop'],
    lifecycles: ['production'],
  },
};

const DAY = 24 * 60 * 60 * 1000;

/** team-a ships to production twice a week; team-b has services and nothing happened. */
const figures = fleetFigures({
  'group:default/team-a': {
    services: 4,
    deployments: { count: 40, perWeek: 9.33 },
    productionDeployments: { count: 9, perWeek: 2.1 },
    leadTime: { medianMs: 2 * DAY, p90Ms: 5 * DAY, versions: 9 },
    changeFailure: { promotions: 20, rollbacks: 2, failed: 1, rate: 0.15 },
    restore: { medianMs: 3 * 60 * 60 * 1000, restored: 2, unrestored: 1 },
  },
  'group:default/team-b': { services: 2 },
});

async function render(
  options: { ownerFigures?: jest.Mock; body?: FleetPageBody } = {},
) {
  const fleet = jest.fn().mockResolvedValue(options.body ?? page);
  const api = mockPromotionsApi({
    fleet,
    ownerFigures: options.ownerFigures ?? jest.fn(figures),
  });
  await renderInTestApp(
    <TestApiProvider apis={[[promotionsApiRef, api]]}>
      <FleetPage />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
  await screen.findByRole('table', { name: 'Fleet' });
  return fleet;
}

/** The test app's palette is Material UI's: warning amber, error red. */
const theme = createTheme();

const lastQuery = (fleet: jest.Mock) => fleet.mock.calls.at(-1)![0];

async function choose(label: string, option: string) {
  fireEvent.mouseDown(screen.getByLabelText(label));
  fireEvent.click(
    within(await screen.findByRole('listbox')).getByRole('option', {
      name: option,
    }),
  );
}

describe('FleetPage', () => {
  it('shows each service’s versions per environment with the counts of every page', async () => {
    const fleet = await render();
    expect(lastQuery(fleet)).toEqual({
      sort: { by: 'name' },
      order: 'asc',
      offset: 0,
      limit: 50,
    });
    expect(
      screen.getByText('prod: 12 behind, 3 out of sync'),
    ).toBeInTheDocument();
    expect(screen.getByText('dev: no drift')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'cart' })).toHaveAttribute(
      'href',
      '/catalog/default/component/cart/promotions',
    );
    expect(
      screen.getByText('Counts include only the services you may see.'),
    ).toBeInTheDocument();
    expect(screen.getByText(/of 120/)).toBeInTheDocument();
  });

  it('says how old the rows are, and marks a service whose last refresh failed', async () => {
    const failedAt = minutesAgo(10);
    const readAt = minutesAgo(180);
    const [cart, ...others] = page.rows;
    await render({
      body: {
        ...page,
        rows: [
          {
            ...cart,
            asOf: readAt,
            refreshError: {
              message: 'Repository gitops is gone',
              at: failedAt,
            },
          },
          ...others,
        ],
      },
    });
    const age = screen.getByLabelText('Data age');
    expect(age).toHaveTextContent(
      'Read between 3 hours ago and 5 minutes ago · 1 service shows its last known state: the last refresh failed',
    );
    expect(within(age).getByText('3 hours ago')).toHaveAttribute(
      'title',
      absoluteTime(readAt),
    );
    const [cartRow, checkoutRow] = within(
      screen.getByRole('table', { name: 'Fleet' }),
    )
      .getAllByRole('row')
      .slice(1);
    const marker = within(cartRow).getByRole('img', {
      name: 'Last known state, read 3 hours ago: the refresh 10 minutes ago failed',
    });
    fireEvent.mouseOver(marker);
    expect(await screen.findByRole('tooltip')).toHaveTextContent(
      /failed .*: Repository gitops is gone$/,
    );
    // Its versions stay.
    expect(within(cartRow).getByText('1.0.0')).toBeInTheDocument();
    expect(
      within(checkoutRow).queryByRole('img', { name: /Last known state/ }),
    ).not.toBeInTheDocument();
  });

  it('says the age once when every row was read alike', async () => {
    await render();
    expect(screen.getByLabelText('Data age')).toHaveTextContent(
      /^Read 5 minutes ago$/,
    );
    expect(
      screen.queryByRole('img', { name: /Last known state/ }),
    ).not.toBeInTheDocument();
  });

  it('colours each cell by the drift that needs someone first', async () => {
    await render();
    const cell = (label: string) => screen.getByRole('cell', { name: label });
    const cart = cell('prod: 1.0.0, behind, out of sync, Degraded');
    expect(cart).toHaveAttribute('data-drift', 'out-of-sync');
    expect(cart).toHaveStyle({
      borderLeft: `4px solid ${driftColor(theme, 'out-of-sync')}`,
    });
    const checkout = cell('prod: 1.1.0, config');
    expect(checkout).toHaveAttribute('data-drift', 'config');
    expect(checkout).toHaveStyle({
      borderLeft: `4px solid ${driftColor(theme, 'config')}`,
    });
    expect(cell('prod: 2.0.0, Healthy')).toHaveAttribute('data-drift', 'none');
    const chip = (label: string) =>
      within(cart).getByText(label).closest('[class*="MuiChip-root"]')!;
    for (const [label, kind] of [
      ['behind', 'behind'],
      ['out of sync', 'out-of-sync'],
    ] as const) {
      expect(chip(label)).toHaveStyle({
        backgroundColor: driftColor(theme, kind),
      });
    }
    expect(
      within(checkout).getByText('config').closest('[class*="MuiChip-root"]'),
    ).toHaveStyle({ backgroundColor: driftColor(theme, 'config') });
  });

  it('asks the backend for the filters chosen, from the first page', async () => {
    const fleet = await render();
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => expect(lastQuery(fleet).offset).toBe(50));
    await choose('Owner', 'team-a');
    await waitFor(() =>
      expect(lastQuery(fleet)).toEqual(
        expect.objectContaining({
          owner: 'group:default/team-a',
          offset: 0,
        }),
      ),
    );
    await choose('System', 'shop');
    await choose('Lifecycle', 'production');
    await choose('Drift', 'out of sync');
    await choose('Drift in', 'prod');
    await waitFor(() =>
      expect(lastQuery(fleet)).toEqual({
        owner: 'group:default/team-a',
        system: 'shop',
        lifecycle: 'production',
        drift: 'out-of-sync',
        driftEnvironment: 'prod',
        sort: { by: 'name' },
        order: 'asc',
        offset: 0,
        limit: 50,
      }),
    );
  });

  it('sorts by owner, and by an environment’s version or drift, each way', async () => {
    const fleet = await render();
    fireEvent.click(
      screen.getByText('Owner', {
        selector: '[class*="MuiTableSortLabel-root"]',
      }),
    );
    await waitFor(() =>
      expect(lastQuery(fleet)).toEqual(
        expect.objectContaining({ sort: { by: 'owner' }, order: 'asc' }),
      ),
    );
    fireEvent.click(screen.getByRole('button', { name: 'prod' }));
    await waitFor(() =>
      expect(lastQuery(fleet)).toEqual(
        expect.objectContaining({
          sort: { by: 'version', environment: 'prod' },
          order: 'asc',
        }),
      ),
    );
    fireEvent.click(screen.getByRole('button', { name: 'prod' }));
    await waitFor(() => expect(lastQuery(fleet).order).toBe('desc'));
    fireEvent.click(screen.getAllByRole('button', { name: 'drift' })[1]);
    await waitFor(() =>
      expect(lastQuery(fleet)).toEqual(
        expect.objectContaining({
          sort: { by: 'drift', environment: 'prod' },
          order: 'desc',
        }),
      ),
    );
  });
});

describe('FleetPage delivery figures', () => {
  const table = () => screen.findByRole('table', { name: 'Delivery by owner' });

  it('lists every owner’s four figures over the window, and filters the fleet by one chosen', async () => {
    const ownerFigures = jest.fn(figures);
    const fleet = await render({ ownerFigures });
    const rows = within(await table()).getAllByRole('row');
    expect(ownerFigures).toHaveBeenCalledWith(
      ['group:default/team-a', 'group:default/team-b'],
      30,
    );
    expect(
      within(rows[1])
        .getAllByRole('cell')
        .map(c => c.textContent),
    ).toEqual(['team-a', '4', '2.1 to production', '2 days', '15%', '3 h']);
    expect(
      within(rows[2])
        .getAllByRole('cell')
        .map(c => c.textContent),
    ).toEqual(['team-b', '2', '0', '–', '–', '–']);

    fireEvent.click(within(rows[1]).getByRole('button', { name: 'team-a' }));
    await waitFor(() =>
      expect(lastQuery(fleet)).toEqual(
        expect.objectContaining({ owner: 'group:default/team-a' }),
      ),
    );
    const panel = await screen.findByText('Delivery of team-a');
    expect(panel).toBeInTheDocument();
    expect(ownerFigures).toHaveBeenLastCalledWith(['group:default/team-a'], 30);
    const figure = (title: string) =>
      screen.getByRole('region', { name: title });
    expect(
      within(figure('Deployment frequency')).getByText(
        '2.1 per week to production',
      ),
    ).toBeInTheDocument();
    expect(
      within(figure('Deployment frequency')).getByText(
        '9 to production, 40 in every environment, of 4 services in 30 days',
      ),
    ).toBeInTheDocument();
    expect(
      within(figure('Lead time to production')).getByText('median 2 days'),
    ).toBeInTheDocument();
    expect(
      within(figure('Lead time to production')).getByText(
        'p90 5 days · 9 versions to production',
      ),
    ).toBeInTheDocument();
    expect(
      within(figure('Change failure rate')).getByText(
        '3 rollbacks or failures of 20 promotions',
      ),
    ).toBeInTheDocument();
    expect(
      within(figure('Time to restore')).getByText('2 of 3 rollbacks merged'),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('table', { name: 'Delivery by owner' }),
    ).not.toBeInTheDocument();
  });

  it('asks again over the window chosen, and says when an owner has nothing to show', async () => {
    const ownerFigures = jest.fn(figures);
    await render({ ownerFigures });
    await table();
    fireEvent.click(screen.getByRole('button', { name: '90 days' }));
    await waitFor(() =>
      expect(ownerFigures).toHaveBeenLastCalledWith(
        ['group:default/team-a', 'group:default/team-b'],
        90,
      ),
    );
    await choose('Owner', 'team-b');
    expect(await screen.findByText('Delivery of team-b')).toBeInTheDocument();
    expect(ownerFigures).toHaveBeenLastCalledWith(['group:default/team-b'], 90);
    expect(
      await screen.findByText(
        'Nothing was deployed or promoted in the last 90 days.',
      ),
    ).toBeInTheDocument();
  });

  it('asks for one page of owners at a time', async () => {
    const owners = Array.from(
      { length: 23 },
      (_, i) => `group:default/team-${String(i).padStart(2, '0')}`,
    );
    const ownerFigures = jest.fn(figures);
    const fleet = jest
      .fn()
      .mockResolvedValue({ ...page, facets: { ...page.facets, owners } });
    await renderInTestApp(
      <TestApiProvider
        apis={[[promotionsApiRef, mockPromotionsApi({ fleet, ownerFigures })]]}
      >
        <FleetPage />
      </TestApiProvider>,
      { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
    );
    await table();
    expect(ownerFigures).toHaveBeenLastCalledWith(owners.slice(0, 10), 30);
    const next = screen.getAllByRole('button', { name: 'Next page' })[0];
    fireEvent.click(next);
    await waitFor(() =>
      expect(ownerFigures).toHaveBeenLastCalledWith(owners.slice(10, 20), 30),
    );
    expect(
      within(await table()).getByRole('button', { name: 'team-10' }),
    ).toBeInTheDocument();
    expect(ownerFigures.mock.calls.every(([asked]) => asked.length <= 20)).toBe(
      true,
    );
  });

  it('shows why the owners’ figures failed without hiding the fleet', async () => {
    await render({
      ownerFigures: jest.fn().mockRejectedValue(new Error('figures are down')),
    });
    expect(
      await screen.findByText('Error: figures are down'),
    ).toBeInTheDocument();
    expect(screen.getByRole('table', { name: 'Fleet' })).toBeInTheDocument();
  });
});

describe('PromotionsClient.fleet', () => {
  it('puts the query in the address, the sort as by:environment', async () => {
    const fetch = jest
      .fn()
      .mockResolvedValue(new Response(JSON.stringify(page), { status: 200 }));
    const client = new PromotionsClient({
      discoveryApi: { getBaseUrl: async () => 'http://backend/api/promotions' },
      fetchApi: { fetch },
    });
    await client.fleet({
      owner: 'team a&b',
      drift: 'behind',
      sort: { by: 'version', environment: 'prod' },
      order: 'desc',
      offset: 50,
      limit: 50,
    });
    const url = new URL(fetch.mock.calls[0][0]);
    expect(url.pathname).toBe('/api/promotions/v1/fleet');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      owner: 'team a&b',
      drift: 'behind',
      sort: 'version:prod',
      order: 'desc',
      offset: '50',
      limit: '50',
    });
  });
});
