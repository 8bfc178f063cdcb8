import { FluxKubernetesSimulator } from './FluxKubernetesSimulator';

const TOKEN = 'cluster-service-account-token';

describe('FluxKubernetesSimulator', () => {
  let cluster: FluxKubernetesSimulator;

  beforeEach(async () => {
    cluster = await FluxKubernetesSimulator.start({
      token: TOKEN,
      kustomizations: [
        {
          name: 'payment-dev',
          labels: { 'app.kubernetes.io/name': 'payment', env: 'dev' },
          path: './payment/overlays/dev',
          lastAppliedRevision: `main@sha1:${'a'.repeat(40)}`,
        },
        {
          name: 'payment-prod',
          namespace: 'payment',
          labels: { 'app.kubernetes.io/name': 'payment', env: 'prod' },
          ready: 'False',
          lastAppliedRevision: `main@sha1:${'a'.repeat(40)}`,
          lastAttemptedRevision: `main@sha1:${'b'.repeat(40)}`,
        },
        {
          name: 'checkout-dev',
          labels: { 'app.kubernetes.io/name': 'checkout' },
          ready: 'Unknown',
        },
      ],
      helmReleases: [
        {
          name: 'catalog-api',
          namespace: 'catalog',
          labels: { 'app.kubernetes.io/name': 'catalog-api' },
          chart: 'catalog-api',
          version: '0.4.x',
          chartVersion: '0.4.0',
          appVersion: '3.1.0',
          releaseRevision: 3,
          values: { image: { tag: '3.1.0' } },
        },
      ],
    });
  });

  afterEach(() => cluster.stop());

  const get = async (path: string, token = TOKEN) => {
    const response = await fetch(`${cluster.url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.status, body: await response.json() };
  };
  const KUSTOMIZATIONS = '/apis/kustomize.toolkit.fluxcd.io/v1';
  const names = (list: { items: Array<{ metadata: { name: string } }> }) =>
    list.items.map(i => i.metadata.name);

  it('lists Kustomizations as a Kubernetes list, in all namespaces or one', async () => {
    const all = await get(`${KUSTOMIZATIONS}/kustomizations`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'KustomizationList',
      metadata: { resourceVersion: '4' },
    });
    expect(names(all.body)).toEqual([
      'checkout-dev',
      'payment-dev',
      'payment-prod',
    ]);
    expect(all.body.items[1]).toMatchObject({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { namespace: 'flux-system' },
      spec: { path: './payment/overlays/dev' },
      status: {
        lastAppliedRevision: `main@sha1:${'a'.repeat(40)}`,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'ReconciliationSucceeded',
            message: `Applied revision: main@sha1:${'a'.repeat(40)}`,
          },
        ],
      },
    });
    const one = await get(
      `${KUSTOMIZATIONS}/namespaces/payment/kustomizations`,
    );
    expect(names(one.body)).toEqual(['payment-prod']);
    expect(one.body.items[0].status).toMatchObject({
      lastAttemptedRevision: `main@sha1:${'b'.repeat(40)}`,
      conditions: [
        { type: 'Ready', status: 'False', reason: 'HealthCheckFailed' },
      ],
    });
    expect(cluster.problems).toEqual([]);
  });

  it('filters by label selector and field selector, and pages', async () => {
    const select = async (query: string) =>
      names((await get(`${KUSTOMIZATIONS}/kustomizations?${query}`)).body);
    const label = (selector: string) =>
      select(`labelSelector=${encodeURIComponent(selector)}`);
    expect(await label('app.kubernetes.io/name=payment')).toEqual([
      'payment-dev',
      'payment-prod',
    ]);
    expect(await label('env in (prod),app.kubernetes.io/name')).toEqual([
      'payment-prod',
    ]);
    expect(await label('!env')).toEqual(['checkout-dev']);
    expect(await select('fieldSelector=metadata.name%3Dpayment-dev')).toEqual([
      'payment-dev',
    ]);
    const first = await get(`${KUSTOMIZATIONS}/kustomizations?limit=2`);
    expect(names(first.body)).toEqual(['checkout-dev', 'payment-dev']);
    const rest = await get(
      `${KUSTOMIZATIONS}/kustomizations?limit=2&continue=${first.body.metadata.continue}`,
    );
    expect(names(rest.body)).toEqual(['payment-prod']);
    expect(rest.body.metadata.continue).toBeUndefined();
    expect(cluster.problems).toEqual([]);
  });

  it('serves HelmReleases with their release history', async () => {
    const list = await get('/apis/helm.toolkit.fluxcd.io/v2/helmreleases');
    expect(list.body.kind).toBe('HelmReleaseList');
    const one = await get(
      '/apis/helm.toolkit.fluxcd.io/v2/namespaces/catalog/helmreleases/catalog-api',
    );
    expect(one.status).toBe(200);
    expect(one.body.status).toMatchObject({
      lastAttemptedRevision: '0.4.0',
      lastReleaseRevision: 3,
      history: [
        {
          chartName: 'catalog-api',
          chartVersion: '0.4.0',
          appVersion: '3.1.0',
          status: 'deployed',
          version: 3,
        },
      ],
      conditions: [
        { type: 'Ready', status: 'True', reason: 'UpgradeSucceeded' },
        { type: 'Released', status: 'True' },
      ],
    });
    expect(cluster.problems).toEqual([]);
  });

  it('answers absent objects and unknown paths with a Kubernetes Status', async () => {
    expect(
      await get(`${KUSTOMIZATIONS}/namespaces/flux-system/kustomizations/nope`),
    ).toEqual({
      status: 404,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'kustomizations.kustomize.toolkit.fluxcd.io "nope" not found',
        reason: 'NotFound',
        details: {
          name: 'nope',
          group: 'kustomize.toolkit.fluxcd.io',
          kind: 'kustomizations',
        },
        code: 404,
      },
    });
    expect(cluster.problems).toEqual([]);
    expect(
      (await get('/apis/kustomize.toolkit.fluxcd.io/v1beta2/kustomizations'))
        .status,
    ).toBe(404);
    expect(cluster.problems).toEqual([
      expect.stringContaining('does not serve'),
    ]);
  });

  it('refuses requests without the token, and fails when told to', async () => {
    const refused = await get(`${KUSTOMIZATIONS}/kustomizations`, 'wrong');
    expect(refused).toEqual({
      status: 401,
      body: expect.objectContaining({
        kind: 'Status',
        reason: 'Unauthorized',
        code: 401,
      }),
    });
    cluster.rejectAuth(true);
    expect((await get(`${KUSTOMIZATIONS}/kustomizations`)).status).toBe(401);
    cluster.rejectAuth(false);
    cluster.failNext(1, 503);
    expect(await get(`${KUSTOMIZATIONS}/kustomizations`)).toMatchObject({
      status: 503,
      body: { reason: 'ServiceUnavailable' },
    });
    expect((await get(`${KUSTOMIZATIONS}/kustomizations`)).status).toBe(200);
    expect(cluster.count('list kustomizations', 200)).toBe(1);
    expect(cluster.problems).toEqual([]);
  });

  it('records an invalid Flux object, and parameters Kubernetes would ignore', async () => {
    cluster.setKustomization({
      name: 'broken',
      overrides: {
        status: {
          observedGeneration: 'two',
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      },
    });
    expect(cluster.problems).toEqual([
      'Kustomization flux-system/broken is invalid: data/status/conditions/0 must have required property lastTransitionTime',
      'Kustomization flux-system/broken is invalid: data/status/conditions/0 must have required property reason',
      'Kustomization flux-system/broken is invalid: data/status/conditions/0 must have required property message',
      'Kustomization flux-system/broken is invalid: data/status/observedGeneration must be integer',
    ]);
    cluster.problems.length = 0;
    await get(`${KUSTOMIZATIONS}/kustomizations?selector=a%3Db`);
    const [ignored, ...served] = cluster.problems;
    expect(ignored).toContain(
      'list kustomizations has no query parameter "selector"; Kubernetes would ignore it',
    );
    // The list served holds the broken object: it is recorded again.
    expect(served).toHaveLength(4);
    expect(served[0]).toContain(
      'KustomizationList is invalid: data/items/0/status',
    );
  });
});
