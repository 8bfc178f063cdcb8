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
import { mockPromotionsApi } from './fixtures';

const row = (
  name: string,
  owner: string,
  prod: FleetRow['environments'][string],
): FleetRow => ({
  entityRef: `component:default/${name}`,
  title: name,
  owner,
  system: 'shop',
  lifecycle: 'production',
  environments: {
    dev: { version: '2.0.0', drift: [], health: null },
    prod,
  },
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
    owners: ['team-a', 'team-b'],
    systems: ['shop'],
    lifecycles: ['production'],
  },
};

async function render() {
  const fleet = jest.fn().mockResolvedValue(page);
  const api = mockPromotionsApi({ fleet });
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
        expect.objectContaining({ owner: 'team-a', offset: 0 }),
      ),
    );
    await choose('System', 'shop');
    await choose('Lifecycle', 'production');
    await choose('Drift', 'out of sync');
    await choose('Drift in', 'prod');
    await waitFor(() =>
      expect(lastQuery(fleet)).toEqual({
        owner: 'team-a',
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
