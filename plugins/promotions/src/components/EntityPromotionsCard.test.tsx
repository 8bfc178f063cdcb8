import { Entity } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import { PromotionsApi, promotionsApiRef } from '../api';
import { EntityPromotionsCard } from './EntityPromotionsCard';
import { checkoutPromotions, mockPromotionsApi } from './fixtures';
import { absoluteTime } from './time';

const entity = (annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default', annotations },
  spec: {},
});
const annotated = entity({
  'gitops-promotions/repository': 'example-gitops',
  'gitops-promotions/path': 'checkout/envs/{env}',
});

function render(api: PromotionsApi, forEntity = annotated) {
  return renderInTestApp(
    <TestApiProvider apis={[[promotionsApiRef, api]]}>
      <EntityProvider entity={forEntity}>
        <EntityPromotionsCard />
      </EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

/** prod-us runs Argo CD applications, one degraded. */
const withLive: EntityPromotions = {
  ...checkoutPromotions,
  environments: checkoutPromotions.environments.map(environment =>
    environment.name === 'prod-us'
      ? {
          ...environment,
          live: {
            reachable: true,
            asOf: null,
            applications: [
              { healthStatus: 'Healthy' },
              { healthStatus: 'Degraded' },
            ] as any,
          },
        }
      : environment,
  ),
};

describe('EntityPromotionsCard', () => {
  it('shows one row per environment: version, each drift kind once and the worst live health', async () => {
    await render(
      mockPromotionsApi({
        getEntityPromotions: jest.fn().mockResolvedValue(withLive),
      }),
    );
    const rows = await screen.findAllByRole('listitem');
    expect(rows.map(row => row.getAttribute('aria-label'))).toEqual([
      'Environment qa',
      'Environment staging-us',
      'Environment staging-eu',
      'Environment prod-us',
      'Environment prod-eu',
    ]);
    const prodUs = within(
      screen.getByRole('listitem', { name: 'Environment prod-us' }),
    );
    expect(prodUs.getByText('2.9.0')).toBeInTheDocument();
    expect(prodUs.getByText('ahead')).toBeInTheDocument();
    expect(prodUs.getByText('out of sync')).toBeInTheDocument();
    expect(prodUs.getByText('live mismatch')).toBeInTheDocument();
    expect(prodUs.getByLabelText('Health Degraded')).toBeInTheDocument();
    const staging = within(
      screen.getByRole('listitem', { name: 'Environment staging-eu' }),
    );
    expect(staging.getByTitle(/behind qa/)).toHaveTextContent('behind');
    // Where no live-state source knows the environment, no health is claimed.
    expect(staging.queryByLabelText(/^Health/)).not.toBeInTheDocument();
  });

  it('links to the entity’s Promotions tab', async () => {
    await render(mockPromotionsApi());
    expect(
      await screen.findByRole('link', { name: /Open the Promotions tab/ }),
    ).toHaveAttribute('href', '/catalog/default/component/checkout/promotions');
  });

  it('shows the error when the state cannot be read', async () => {
    const response = new Response(
      JSON.stringify({
        error: { name: 'NotFoundError', message: 'no such entity' },
        response: { statusCode: 404 },
      }),
      { status: 404, headers: { 'content-type': 'application/json' } },
    );
    await render(
      mockPromotionsApi({
        getEntityPromotions: jest
          .fn()
          .mockRejectedValue(await ResponseError.fromResponse(response)),
      }),
    );
    expect(
      (await screen.findAllByText(/no such entity/)).length,
    ).toBeGreaterThan(0);
    expect(screen.queryByRole('list')).not.toBeInTheDocument();
  });

  it('says how old the state is, the exact time on hover', async () => {
    await render(
      mockPromotionsApi({
        getEntityPromotions: jest.fn().mockResolvedValue(checkoutPromotions),
      }),
    );
    const age = await screen.findByLabelText('Data age');
    expect(age).toHaveTextContent('Read 3 hours ago');
    expect(within(age).getByText('3 hours ago')).toHaveAttribute(
      'title',
      absoluteTime(checkoutPromotions.asOf!),
    );
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('says the rows are the last known state when the last refresh failed', async () => {
    const at = new Date(Date.now() - 5 * 60_000).toISOString();
    await render(
      mockPromotionsApi({
        getEntityPromotions: jest.fn().mockResolvedValue({
          ...checkoutPromotions,
          error: { message: 'Repository example-gitops is gone', at },
        }),
      }),
    );
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(
      'Showing the last known state, read 3 hours ago: the refresh 5 minutes ago failed.',
    );
    expect(alert).toHaveAttribute('title', 'Repository example-gitops is gone');
    expect(within(alert).getByText('5 minutes ago')).toHaveAttribute(
      'title',
      absoluteTime(at),
    );
    // The rows stay, and the age is said once.
    expect(screen.getAllByRole('listitem')).toHaveLength(5);
    expect(screen.queryByLabelText('Data age')).not.toBeInTheDocument();
  });

  it('shows progress while the state is read', async () => {
    await render(
      mockPromotionsApi({
        getEntityPromotions: jest.fn().mockReturnValue(new Promise(() => {})),
      }),
    );
    expect(await screen.findByTestId('progress')).toBeInTheDocument();
  });

  it('asks for the annotation, and nothing of the backend, on an entity without it', async () => {
    const api = mockPromotionsApi();
    await render(api, entity({ 'argocd/app-name': 'checkout' }));
    expect(
      (await screen.findAllByText(/gitops-promotions\/repository/)).length,
    ).toBeGreaterThan(0);
    expect(api.getEntityPromotions).not.toHaveBeenCalled();
  });
});
