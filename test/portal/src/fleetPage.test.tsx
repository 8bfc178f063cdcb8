import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import {
  EntityPromotionsCard,
  promotionsApiRef,
  PromotionsFleetPage,
} from '@gitops-promotions/plugin-promotions';
import { Route, Routes } from 'react-router-dom';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fleetOf, startRealBackend } from './realBackend';

/** Sixty services: more than the fleet page's first page of fifty. */
const SERVICES = fleetOf(60);

/** An answer waits behind the backend's other work on a busy machine. */
const answered = { timeout: 15_000 };

jest.setTimeout(90_000);

let backend: Awaited<ReturnType<typeof startRealBackend>>;

beforeAll(async () => {
  backend = await startRealBackend(SERVICES);
}, 120_000);

async function renderFleet() {
  await renderInTestApp(
    <TestApiProvider apis={[[promotionsApiRef, backend.client]]}>
      <Routes>
        <Route path="/promotions/fleet" element={<PromotionsFleetPage />} />
      </Routes>
    </TestApiProvider>,
    {
      routeEntries: ['/promotions/fleet'],
      mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
    },
  );
  return screen.findByRole('table', { name: 'Fleet' }, { timeout: 15_000 });
}

/** The table, as shown now: it is drawn again after each answer. */
const fleetTable = () => screen.getByRole('table', { name: 'Fleet' });

/** The services the table shows, in order. */
const shown = () =>
  within(fleetTable())
    .getAllByRole('link')
    .map(link => link.textContent);

const names = (filter: (s: (typeof SERVICES)[number]) => boolean) =>
  SERVICES.filter(filter).map(s => s.name);

async function choose(label: string, option: string | RegExp) {
  fireEvent.mouseDown(screen.getByLabelText(label));
  fireEvent.click(
    within(await screen.findByRole('listbox')).getByRole('option', {
      name: option,
    }),
  );
}

describe('the fleet page against the real backend', () => {
  it('shows the first page of every service read from the repository, with counts over the whole fleet', async () => {
    await renderFleet();
    expect(shown()).toEqual(names(s => s.i < 50));
    // Services 0, 3, …, 57 run 0.9.0 in prod while staging runs their newer version.
    expect(screen.getByText('prod: 20 behind')).toBeInTheDocument();
    expect(screen.getByText('staging: no drift')).toBeInTheDocument();
    const behind = within(fleetTable()).getAllByRole('cell', {
      name: 'prod: 0.9.0, behind',
    });
    expect(behind).toHaveLength(17);
    for (const cell of behind) {
      expect(cell).toHaveAttribute('data-drift', 'behind');
    }
    expect(
      within(fleetTable()).getByRole('cell', { name: 'prod: 1.1.0' }),
    ).toHaveAttribute('data-drift', 'none');
    expect(screen.getByText('1-50 of 60')).toBeInTheDocument();
  });

  it('pages on the server', async () => {
    await renderFleet();
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(
      () => expect(shown()).toEqual(names(s => s.i >= 50)),
      answered,
    );
    expect(screen.getByText('51-60 of 60')).toBeInTheDocument();
  });

  it('filters by owner, lifecycle and drift, as the backend counts them', async () => {
    await renderFleet();
    // Whichever way the owner is spelt, it names the group team-b.
    await choose('Owner', /team-b$/);
    await waitFor(
      () => expect(shown()).toEqual(names(s => s.owner === 'team-b')),
      answered,
    );
    await choose('Lifecycle', 'production');
    await choose('Drift', 'behind');
    await waitFor(
      () =>
        expect(shown()).toEqual(
          // Odd, not a multiple of four (always true when odd), prod behind: 3, 9, 15, …
          names(s => s.owner === 'team-b' && s.i % 3 === 0),
        ),
      answered,
    );
    expect(screen.getByText('prod: 10 behind')).toBeInTheDocument();
  });

  it('sorts by name and by an environment’s version', async () => {
    await renderFleet();
    fireEvent.click(screen.getByRole('button', { name: 'Service' }));
    await waitFor(() => expect(shown()[0]).toBe('svc-59'), answered);
    // Ascending by prod's version: the ten behind on 0.9.0 first in the first page.
    fireEvent.click(
      within(fleetTable()).getAllByRole('button', { name: 'prod' })[0],
    );
    await waitFor(
      () =>
        expect(
          within(fleetTable())
            .getAllByRole('cell', { name: /^prod: / })
            .slice(0, 20)
            .every(cell => cell.getAttribute('aria-label')!.includes('0.9.0')),
        ).toBe(true),
      answered,
    );
  });
});

describe('the Overview card against the real backend', () => {
  it('shows each environment’s version and drift as the backend read them', async () => {
    const service = SERVICES[3];
    await renderInTestApp(
      <TestApiProvider apis={[[promotionsApiRef, backend.client]]}>
        <EntityProvider entity={service.entity}>
          <EntityPromotionsCard />
        </EntityProvider>
      </TestApiProvider>,
      { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
    );
    const prod = await screen.findByRole(
      'listitem',
      { name: 'Environment prod' },
      { timeout: 15_000 },
    );
    expect(prod).toHaveTextContent('0.9.0');
    expect(within(prod).getByText('behind')).toBeInTheDocument();
    expect(
      screen.getByRole('listitem', { name: 'Environment staging' }),
    ).toHaveTextContent('1.3.0');
  });
});
