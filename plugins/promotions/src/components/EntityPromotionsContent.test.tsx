import { Entity } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { act, screen, waitFor } from '@testing-library/react';
import { PromotionsApi, promotionsApiRef } from '../api';
import { EntityPromotionsContent } from './EntityPromotionsContent';
import { checkoutPromotions } from './fixtures';

const entity = (annotations: Record<string, string> = { 'gitops-promotions/repository': 'example-gitops' }): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default', annotations },
  spec: {},
});

async function render(api: PromotionsApi, forEntity = entity()) {
  return renderInTestApp(
    <TestApiProvider apis={[[promotionsApiRef, api]]}>
      <EntityProvider entity={forEntity}>
        <EntityPromotionsContent />
      </EntityProvider>
    </TestApiProvider>,
  );
}

describe('EntityPromotionsContent', () => {
  it('shows the pipeline of the entity with the age of the data', async () => {
    const api = { getEntityPromotions: jest.fn().mockResolvedValue(checkoutPromotions) };
    await render(api);
    expect(await screen.findByRole('region', { name: 'Environment prod-eu' })).toBeInTheDocument();
    expect(api.getEntityPromotions).toHaveBeenCalledWith({ kind: 'Component', namespace: 'default', name: 'checkout' });
    expect(screen.getByLabelText('Data age')).toHaveTextContent(/Read from example-gitops at fedcba9.*pipeline regional/);
  });

  it('shows the missing-annotation state for an entity without the repository annotation', async () => {
    const api = { getEntityPromotions: jest.fn() };
    await render(api, entity({}));
    expect(await screen.findByText(/Missing Annotation/i)).toBeInTheDocument();
    expect(screen.getAllByText(/gitops-promotions\/repository/).length).toBeGreaterThan(0);
    expect(api.getEntityPromotions).not.toHaveBeenCalled();
  });

  it('shows the error panel when the repository cannot be read', async () => {
    const response = new Response(
      JSON.stringify({
        error: { name: 'ServiceUnavailableError', message: 'Could not read repository example-gitops: gone' },
        response: { statusCode: 503 },
      }),
      { status: 503, statusText: 'Service Unavailable', headers: { 'Content-Type': 'application/json' } },
    );
    const error = await ResponseError.fromResponse(response as any);
    await render({ getEntityPromotions: jest.fn().mockRejectedValue(error) });
    expect((await screen.findAllByText(/Could not read repository example-gitops: gone/)).length).toBeGreaterThan(0);
    expect(screen.queryByRole('region')).not.toBeInTheDocument();
  });

  it('warns that the state is the last known one when the last refresh failed', async () => {
    await render({
      getEntityPromotions: jest.fn().mockResolvedValue({
        ...checkoutPromotions,
        error: { message: 'Could not read repository example-gitops: timeout', at: '2026-11-25T08:05:00.000Z' },
      }),
    });
    expect(await screen.findByText(/the last refresh failed/)).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Environment qa' })).toBeInTheDocument();
  });

  it('says the repository is being read, and asks again until it has been', async () => {
    jest.useFakeTimers({ advanceTimers: true });
    const pending = { ...checkoutPromotions, asOf: null, environments: [] };
    const api = {
      getEntityPromotions: jest.fn().mockResolvedValueOnce(pending).mockResolvedValue(checkoutPromotions),
    };
    await render(api);
    expect(await screen.findByRole('status')).toHaveTextContent('Reading the GitOps repository example-gitops');
    act(() => {
      jest.advanceTimersByTime(5000);
    });
    await waitFor(() => expect(screen.getByRole('region', { name: 'Environment qa' })).toBeInTheDocument());
    expect(api.getEntityPromotions).toHaveBeenCalledTimes(2);
    jest.useRealTimers();
  });
});
