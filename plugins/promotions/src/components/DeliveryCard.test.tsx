import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { DeliveryFigures } from '@gitops-promotions/plugin-promotions-common';
import { promotionsApiRef } from '../api';
import { DeliveryCard, formatDuration } from './DeliveryCard';
import { EntityPromotionsContent } from './EntityPromotionsContent';
import { mockPromotionsApi } from './fixtures';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default' },
  spec: {},
};

const weeks = (counts: number[]) =>
  counts.map((count, i) => ({
    start: new Date(Date.UTC(2026, 2, 1 + 7 * i)).toISOString(),
    count,
  }));

const noFailures = {
  promotions: 0,
  rollbacks: 0,
  failed: 0,
  rate: null,
};

/** 30 days of checkout: prod changed 5 times, 4 of 7 promotions to it went wrong. */
const figures: DeliveryFigures = {
  entityRef: 'component:default/checkout',
  window: {
    days: 30,
    from: '2026-03-01T00:00:00.000Z',
    to: '2026-03-31T00:00:00.000Z',
  },
  environments: [
    {
      environment: 'staging',
      production: false,
      deployments: { count: 3, perWeek: 0.7, weeks: weeks([1, 0, 1, 1, 0]) },
      changeFailure: noFailures,
      restore: { medianMs: null, rollbacks: [] },
    },
    {
      environment: 'prod',
      production: true,
      deployments: { count: 5, perWeek: 1.17, weeks: weeks([1, 0, 2, 2, 0]) },
      changeFailure: { promotions: 7, rollbacks: 3, failed: 1, rate: 4 / 7 },
      restore: {
        medianMs: 3 * HOUR,
        rollbacks: [
          {
            promotionId: 'r1',
            version: 'v2',
            requestedAt: '2026-03-16T10:00:00.000Z',
            mergedAt: '2026-03-16T12:00:00.000Z',
            ms: 2 * HOUR,
          },
          {
            promotionId: 'r3',
            version: 'v3',
            requestedAt: '2026-03-27T12:00:00.000Z',
            mergedAt: '2026-03-27T16:00:00.000Z',
            ms: 4 * HOUR,
          },
          {
            promotionId: 'r2',
            version: 'v3',
            requestedAt: '2026-03-29T12:00:00.000Z',
            mergedAt: null,
            ms: null,
          },
        ],
      },
    },
  ],
  leadTime: [
    {
      environment: 'prod',
      medianMs: 4.5 * DAY,
      p90Ms: 5 * DAY,
      direct: 1,
      unknownStart: 0,
      versions: [
        {
          version: 'v2',
          firstEnvironment: 'staging',
          firstAt: '2026-03-02T12:00:00.000Z',
          productionAt: '2026-03-06T12:00:00.000Z',
          ms: 4 * DAY,
        },
        {
          version: 'v3',
          firstEnvironment: 'staging',
          firstAt: '2026-03-10T12:00:00.000Z',
          productionAt: '2026-03-15T12:00:00.000Z',
          ms: 5 * DAY,
        },
        {
          version: 'v4',
          firstEnvironment: 'staging',
          firstAt: '2026-03-20T00:00:00.000Z',
          productionAt: '2026-03-24T12:00:00.000Z',
          ms: 4.5 * DAY,
        },
      ],
    },
  ],
};

/** The same service over 7 days: nothing happened. */
const quietWeek: DeliveryFigures = {
  ...figures,
  window: { ...figures.window, days: 7, from: '2026-03-24T00:00:00.000Z' },
  environments: figures.environments.map(e => ({
    ...e,
    deployments: { count: 0, perWeek: 0, weeks: weeks([0]) },
    changeFailure: noFailures,
    restore: { medianMs: null, rollbacks: [] },
  })),
  leadTime: [
    {
      ...figures.leadTime[0],
      medianMs: null,
      p90Ms: null,
      versions: [],
      direct: 0,
      unknownStart: 0,
    },
  ],
};

async function render(api: ReturnType<typeof mockPromotionsApi>) {
  return renderInTestApp(
    <TestApiProvider apis={[[promotionsApiRef, api]]}>
      <EntityProvider entity={entity}>
        <DeliveryCard />
      </EntityProvider>
    </TestApiProvider>,
  );
}

const figure = (name: string) => screen.getByRole('region', { name });

describe('DeliveryCard', () => {
  it('shows each figure with its unit and a chart', async () => {
    const api = mockPromotionsApi({
      figures: jest.fn().mockResolvedValue(figures),
    });
    await render(api);
    expect(api.figures).toHaveBeenCalledWith(
      { kind: 'Component', namespace: 'default', name: 'checkout' },
      30,
    );
    const deployments = await screen.findByRole('region', {
      name: 'Deployment frequency',
    });
    // Production's frequency, as the pipeline has a production environment.
    expect(within(deployments).getByText('1.17 per week')).toBeInTheDocument();
    expect(
      within(deployments).getByText('prod: 5 in 30 days'),
    ).toBeInTheDocument();
    expect(
      within(figure('Lead time to production')).getByText('median 4.5 days'),
    ).toBeInTheDocument();
    expect(
      within(figure('Lead time to production')).getByText(
        'p90 5 days · 3 versions to prod · 1 straight to production',
      ),
    ).toBeInTheDocument();
    expect(
      within(figure('Change failure rate')).getByText('57%'),
    ).toBeInTheDocument();
    expect(
      within(figure('Change failure rate')).getByText(
        '4 rollbacks or failures of 7 promotions',
      ),
    ).toBeInTheDocument();
    expect(
      within(figure('Time to restore')).getByText('median 3 h'),
    ).toBeInTheDocument();
    expect(
      within(figure('Time to restore')).getByText('2 of 3 rollbacks merged'),
    ).toBeInTheDocument();
    // Each figure draws its chart.
    for (const name of [
      'Deployment frequency',
      'Lead time to production',
      'Change failure rate',
      'Time to restore',
    ]) {
      expect(
        figure(name).querySelector('.recharts-wrapper svg'),
      ).not.toBeNull();
    }
  });

  it('asks again for the window chosen, and says when nothing happened in it', async () => {
    const api = mockPromotionsApi({
      figures: jest
        .fn()
        .mockImplementation(async (_ref, days) =>
          days === 7 ? quietWeek : figures,
        ),
    });
    await render(api);
    await screen.findByText('1.17 per week');
    await userEvent.click(screen.getByRole('button', { name: '7 days' }));
    await waitFor(() =>
      expect(api.figures).toHaveBeenLastCalledWith(expect.anything(), 7),
    );
    expect(
      await screen.findByText(
        'Nothing was deployed or promoted in the last 7 days.',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByText('1.17 per week')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: '7 days' })).toHaveAttribute(
      'aria-pressed',
      'true',
    );
    await userEvent.click(screen.getByRole('button', { name: '90 days' }));
    await waitFor(() =>
      expect(api.figures).toHaveBeenLastCalledWith(expect.anything(), 90),
    );
  });

  it('says a pipeline without production has no lead time', async () => {
    const api = mockPromotionsApi({
      figures: jest.fn().mockResolvedValue({
        ...figures,
        environments: figures.environments.map(e => ({
          ...e,
          production: false,
        })),
        leadTime: [],
      }),
    });
    await render(api);
    expect(
      await screen.findByText('No production environment'),
    ).toBeInTheDocument();
    // Without production, every environment's changes make the frequency: 0.7 + 1.17.
    expect(screen.getByText('1.87 per week')).toBeInTheDocument();
  });

  it('shows an error from the backend in the card', async () => {
    const api = mockPromotionsApi({
      figures: jest.fn().mockRejectedValue(new Error('the store is down')),
    });
    await render(api);
    expect(
      await screen.findByText('Error: the store is down'),
    ).toBeInTheDocument();
  });
});

describe('the Promotions tab', () => {
  it('ends with the Delivery card of the service', async () => {
    const api = mockPromotionsApi({
      figures: jest.fn().mockResolvedValue(figures),
    });
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [promotionsApiRef, api],
          [permissionApiRef, mockApis.permission()],
        ]}
      >
        <EntityProvider
          entity={{
            ...entity,
            metadata: {
              ...entity.metadata,
              annotations: {
                'gitops-promotions/repository': 'example-gitops',
                'gitops-promotions/path': 'checkout/envs/{env}',
              },
            },
          }}
        >
          <EntityPromotionsContent />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(await screen.findByText('Delivery')).toBeInTheDocument();
    expect(await screen.findByText('1.17 per week')).toBeInTheDocument();
  });

  it('keeps the tab when the API has no figures, saying so in the card', async () => {
    const api = mockPromotionsApi({ figures: undefined as any });
    delete (api as Partial<typeof api>).figures;
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [promotionsApiRef, api],
          [permissionApiRef, mockApis.permission()],
        ]}
      >
        <EntityProvider
          entity={{
            ...entity,
            metadata: {
              ...entity.metadata,
              annotations: {
                'gitops-promotions/repository': 'example-gitops',
                'gitops-promotions/path': 'checkout/envs/{env}',
              },
            },
          }}
        >
          <EntityPromotionsContent />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(
      await screen.findAllByText(/api\.figures is not a function/),
    ).not.toHaveLength(0);
    expect(
      screen.getByRole('region', { name: 'Environment prod-eu' }),
    ).toBeInTheDocument();
  });
});

describe('formatDuration', () => {
  it('says minutes, hours under two days, and days', () => {
    expect(formatDuration(20 * 60 * 1000)).toBe('20 min');
    expect(formatDuration(3 * HOUR)).toBe('3 h');
    expect(formatDuration(36 * HOUR)).toBe('36 h');
    expect(formatDuration(4.5 * DAY)).toBe('4.5 days');
  });
});
