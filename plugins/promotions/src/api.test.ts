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

  it('asks for several owners’ figures, each owner once in the query', async () => {
    const fetch = jest
      .fn()
      .mockResolvedValue(
        new Response(JSON.stringify({ owners: [] }), { status: 200 }),
      );
    const client = new PromotionsClient({ discoveryApi, fetchApi: { fetch } });
    await client.ownerFigures(['team-a', 'group:ops/a&b=c'], 90);
    expect(fetch).toHaveBeenCalledWith(
      'http://backend/api/promotions/v1/figures?owner=team-a&owner=group%3Aops%2Fa%26b%3Dc&days=90',
    );
  });

  it("reads and requests a system's grouped promotions by namespace and name", async () => {
    const fetch = jest
      .fn()
      .mockImplementation(
        async () => new Response(JSON.stringify({ id: 'g' }), { status: 200 }),
      );
    const client = new PromotionsClient({ discoveryApi, fetchApi: { fetch } });
    const system = { kind: 'System', namespace: 'default', name: 'a b' };
    await client.systemPromotions(system);
    expect(fetch).toHaveBeenLastCalledWith(
      'http://backend/api/promotions/v1/systems/default/a%20b/promotions',
    );
    const request = {
      to: 'staging',
      members: [{ entityRef: 'component:default/shop', version: '1.2.0' }],
    };
    await client.requestPromotionGroup(system, request);
    expect(fetch).toHaveBeenLastCalledWith(
      'http://backend/api/promotions/v1/systems/default/a%20b/promotions',
      expect.objectContaining({
        method: 'POST',
        body: JSON.stringify(request),
      }),
    );
    await client.mergePromotionGroup('g/1');
    expect(fetch).toHaveBeenLastCalledWith(
      'http://backend/api/promotions/v1/promotion-groups/g%2F1/merge',
      expect.objectContaining({ method: 'POST', body: '{}' }),
    );
    await client.closePromotionGroup('g', 'later');
    expect(fetch).toHaveBeenLastCalledWith(
      'http://backend/api/promotions/v1/promotion-groups/g/close',
      expect.objectContaining({ body: JSON.stringify({ reason: 'later' }) }),
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
