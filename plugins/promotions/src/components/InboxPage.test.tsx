import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  InboxItem,
  InboxPage as InboxPageBody,
  Promotion,
} from '@gitops-promotions/plugin-promotions-common';
import { promotionsApiRef } from '../api';
import { mockPromotionsApi } from './fixtures';
import { InboxPage } from './InboxPage';

const promotion = (id: string, environment: string): Promotion => ({
  id,
  entityRef: 'component:default/checkout',
  environment,
  from: ['qa'],
  version: '2.8.0',
  previousVersion: '2.7.1',
  kind: 'promotion',
  state: 'open',
  requestedBy: 'user:default/ana',
  requestedAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  unknownVersion: false,
  branch: `promotions/checkout/${environment}/${id}`,
  headCommit: 'a'.repeat(40),
  pullRequest: null,
  decisions: [],
  gates: [
    { gate: 'requires', state: 'passed', summary: 'qa runs 2.8.0' },
    { gate: 'approvals', state: 'pending', summary: '0 of 1 approval' },
    { gate: 'checks', state: 'failed', summary: 'CI failed' },
  ],
  mergedCommit: null,
  reason: null,
});

const item = (id: string, environment: string): InboxItem => ({
  promotion: promotion(id, environment),
  actions: ['approve', 'merge'],
  owners: ['group:default/checkout-team'],
});

async function render(pages: InboxPageBody[]) {
  const inbox = jest.fn();
  for (const page of pages) inbox.mockResolvedValueOnce(page);
  inbox.mockResolvedValue(pages[pages.length - 1]);
  const api = mockPromotionsApi({ inbox });
  await renderInTestApp(
    <TestApiProvider apis={[[promotionsApiRef, api]]}>
      <InboxPage />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
  return inbox;
}

describe('InboxPage', () => {
  it('lists what waits for the reader with its gates, and links to each Promotions tab', async () => {
    const inbox = await render([
      { items: [item('p1', 'prod'), item('p2', 'staging')], nextCursor: null },
    ]);
    const table = await screen.findByRole('table', {
      name: 'Promotions waiting for you',
    });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(
      within(rows[0]).getByRole('link', {
        name: 'component:default/checkout',
      }),
    ).toHaveAttribute('href', '/catalog/default/component/checkout/promotions');
    expect(within(rows[0]).getByLabelText('Approvals: pending')).toBeVisible();
    expect(within(rows[0]).getByLabelText('Checks: failed')).toBeVisible();
    expect(within(rows[0]).getByLabelText('Upstream: passed')).toBeVisible();
    expect(within(rows[0]).getByText('approve, merge')).toBeVisible();
    expect(inbox).toHaveBeenCalledWith({ limit: 25 });
  });

  it('says the promotions are as stored when the page was read', async () => {
    const before = Date.now();
    await render([{ items: [item('p1', 'prod')], nextCursor: null }]);
    await screen.findByRole('table');
    const age = screen.getByLabelText('Data age');
    expect(age).toHaveTextContent(
      /^As of .+, when the page was read: each promotion and its gates as last stored$/,
    );
    const readAt = Date.parse(age.querySelector('time')!.dateTime);
    expect(readAt).toBeGreaterThanOrEqual(before);
    expect(readAt).toBeLessThanOrEqual(Date.now());
  });

  it('asks the backend for filtered pages, and pages forward and back by cursor', async () => {
    const inbox = await render([
      { items: [item('p1', 'prod')], nextCursor: 'cursor-2' },
    ]);
    await screen.findByRole('table');
    const previous = screen.getByRole('button', { name: 'Previous' });
    expect(previous).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() =>
      expect(inbox).toHaveBeenLastCalledWith({
        cursor: 'cursor-2',
        limit: 25,
      }),
    );
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Previous' })).toBeEnabled(),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Previous' }));
    await waitFor(() => expect(inbox).toHaveBeenLastCalledWith({ limit: 25 }));
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Next' })).toBeEnabled(),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() =>
      expect(inbox).toHaveBeenLastCalledWith({
        cursor: 'cursor-2',
        limit: 25,
      }),
    );

    // A filter starts again from the first page: no cursor is sent with it.
    await userEvent.type(
      screen.getByRole('textbox', { name: 'Environment' }),
      'Prod',
    );
    await waitFor(() =>
      expect(inbox).toHaveBeenLastCalledWith({
        environment: 'prod',
        limit: 25,
      }),
    );
    await userEvent.type(
      screen.getByRole('textbox', { name: 'Owner' }),
      'group:default/checkout-team',
    );
    await waitFor(() =>
      expect(inbox).toHaveBeenLastCalledWith({
        environment: 'prod',
        owner: 'group:default/checkout-team',
        limit: 25,
      }),
    );
    expect(
      inbox.mock.calls.filter(([query]) => query.cursor && query.environment),
    ).toEqual([]);
  });

  it('says when nothing waits', async () => {
    await render([{ items: [], nextCursor: null }]);
    expect(
      await screen.findByText('Nothing waits for you'),
    ).toBeInTheDocument();
  });
});
