import { PromotionsClient } from './api';

describe('PromotionsClient', () => {
  const discoveryApi = {
    getBaseUrl: async () => 'http://backend/api/promotions',
  };

  it('asks the backend for the entity by kind, namespace and name', async () => {
    const fetch = jest
      .fn()
      .mockResolvedValue(
        new Response(JSON.stringify({ entityRef: 'x' }), { status: 200 }),
      );
    const client = new PromotionsClient({ discoveryApi, fetchApi: { fetch } });
    await expect(
      client.getEntityPromotions({
        kind: 'Component',
        namespace: 'default',
        name: 'a b',
      }),
    ).resolves.toEqual({ entityRef: 'x' });
    expect(fetch).toHaveBeenCalledWith(
      'http://backend/api/promotions/v1/entities/Component/default/a%20b',
    );
  });

  it('asks for the delivery figures of an entity over a window', async () => {
    const fetch = jest
      .fn()
      .mockResolvedValue(
        new Response(JSON.stringify({ entityRef: 'x' }), { status: 200 }),
      );
    const client = new PromotionsClient({ discoveryApi, fetchApi: { fetch } });
    await client.figures(
      { kind: 'Component', namespace: 'default', name: 'a b' },
      7,
    );
    expect(fetch).toHaveBeenCalledWith(
      'http://backend/api/promotions/v1/entities/Component/default/a%20b/figures?days=7',
    );
  });

  it('throws a ResponseError with the backend message on a non-2xx answer', async () => {
    const body = JSON.stringify({
      error: { name: 'InputError', message: 'bad path' },
      response: { statusCode: 400 },
    });
    const fetch = jest.fn().mockResolvedValue(
      new Response(body, {
        status: 400,
        statusText: 'Bad Request',
        headers: { 'Content-Type': 'application/json' },
      }),
    );
    const client = new PromotionsClient({ discoveryApi, fetchApi: { fetch } });
    await expect(
      client.getEntityPromotions({ kind: 'c', namespace: 'd', name: 'e' }),
    ).rejects.toMatchObject({
      name: 'ResponseError',
      statusCode: 400,
      body: { error: { message: 'bad path' } },
    });
  });
});
