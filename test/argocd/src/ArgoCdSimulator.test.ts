import { ApplicationSeed } from './applications';
import { ArgoCdSimulator } from './ArgoCdSimulator';

const SEEDS: ApplicationSeed[] = [
  {
    name: 'payment-dev',
    labels: { 'app.kubernetes.io/name': 'payment', env: 'dev', tier: '1' },
    images: ['ghcr.io/acme/payment:1.5.0'],
  },
  {
    name: 'payment-prod',
    project: 'production',
    labels: { 'app.kubernetes.io/name': 'payment', env: 'prod', tier: '3' },
    source: {
      repoURL: 'https://github.com/acme/gitops',
      path: 'payment/overlays/prod',
      targetRevision: 'main',
    },
    revision: 'a'.repeat(40),
    desiredRevision: 'b'.repeat(40),
  },
  {
    name: 'checkout-dev',
    namespace: 'team-checkout',
    labels: { 'app.kubernetes.io/name': 'checkout', env: 'dev' },
  },
  { name: 'unlabelled' },
];

async function login(
  simulator: ArgoCdSimulator,
  username = 'admin',
  password = 'password',
) {
  const response = await fetch(`${simulator.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return { status: response.status, body: await response.json() };
}

async function get(
  simulator: ArgoCdSimulator,
  path: string,
  token?: string,
  init: RequestInit = {},
) {
  const response = await fetch(`${simulator.url}${path}`, {
    ...init,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await response.text();
  return {
    status: response.status,
    body:
      text && response.headers.get('content-type') === 'application/json'
        ? JSON.parse(text)
        : text,
  };
}

describe('ArgoCdSimulator', () => {
  let simulator: ArgoCdSimulator;
  let token: string;

  beforeEach(async () => {
    simulator = await ArgoCdSimulator.start({ applications: SEEDS });
    token = (await login(simulator)).body.token;
  });

  afterEach(() => simulator.stop());

  const names = async (query: string) => {
    const { status, body } = await get(
      simulator,
      `/api/v1/applications${query}`,
      token,
    );
    expect(status).toBe(200);
    return body.items.map(
      (a: { metadata: { name: string } }) => a.metadata.name,
    );
  };

  it('logs in with an account and answers requests bearing its token', async () => {
    expect(token.split('.')).toHaveLength(3);
    expect(await get(simulator, '/api/v1/session/userinfo', token)).toEqual({
      status: 200,
      body: { loggedIn: true, username: 'admin', iss: 'argocd' },
    });
    const list = await get(simulator, '/api/v1/applications', token);
    expect(list.status).toBe(200);
    expect(list.body.metadata.resourceVersion).toBe('4');
    expect(list.body.items).toHaveLength(4);
    expect(simulator.count('SessionService_Create', 200)).toBe(1);
    expect(simulator.problems).toEqual([]);
  });

  it('accepts API tokens, its own and those it was given', async () => {
    const other = await ArgoCdSimulator.start();
    const given = other.createApiToken();
    await other.stop();
    const withGiven = await ArgoCdSimulator.start({ apiTokens: [given] });
    try {
      expect((await get(withGiven, '/api/v1/applications', given)).status).toBe(
        200,
      );
      const own = withGiven.createApiToken('ci');
      expect(
        await get(withGiven, '/api/v1/session/userinfo', own),
      ).toMatchObject({
        body: { username: 'ci' },
      });
      expect(withGiven.problems).toEqual([]);
    } finally {
      await withGiven.stop();
    }
    await expect(
      ArgoCdSimulator.start({ apiTokens: ['not-a-jwt'] }),
    ).rejects.toThrow('only JWTs');
  });

  it('refuses requests without a valid token with 401, in Argo CD words', async () => {
    expect(await get(simulator, '/api/v1/applications')).toEqual({
      status: 401,
      body: {
        error: 'no session information',
        code: 16,
        message: 'no session information',
      },
    });
    const foreign = await ArgoCdSimulator.start();
    const foreignToken = (await login(foreign)).body.token;
    await foreign.stop();
    expect(
      await get(simulator, '/api/v1/applications/payment-dev', foreignToken),
    ).toMatchObject({
      status: 401,
      body: {
        code: 16,
        message:
          'invalid session: token signature is invalid: signature is invalid',
      },
    });
    expect(await login(simulator, 'admin', 'wrong')).toEqual({
      status: 401,
      body: {
        error: 'Invalid username or password',
        code: 16,
        message: 'Invalid username or password',
      },
    });
    simulator.rejectAuth(true);
    expect(
      (await get(simulator, '/api/v1/applications', token)).body.message,
    ).toBe('invalid session: token has invalid claims: token is expired');
    expect((await login(simulator)).status).toBe(401);
    simulator.rejectAuth(false);
    expect((await get(simulator, '/api/v1/applications', token)).status).toBe(
      200,
    );
    expect(simulator.count(undefined, 401)).toBe(5);
    expect(simulator.problems).toEqual([]);
  });

  it('lists applications by label selector, in every form Kubernetes reads', async () => {
    expect(await names('')).toEqual([
      'checkout-dev',
      'payment-dev',
      'payment-prod',
      'unlabelled',
    ]);
    const sel = (selector: string) =>
      names(`?selector=${encodeURIComponent(selector)}`);
    expect(await sel('app.kubernetes.io/name=payment')).toEqual([
      'payment-dev',
      'payment-prod',
    ]);
    expect(await sel('app.kubernetes.io/name==checkout')).toEqual([
      'checkout-dev',
    ]);
    expect(await sel('env!=dev')).toEqual(['payment-prod', 'unlabelled']);
    expect(await sel('env in (prod, staging)')).toEqual(['payment-prod']);
    expect(await sel('env notin (prod)')).toEqual([
      'checkout-dev',
      'payment-dev',
      'unlabelled',
    ]);
    expect(await sel('env')).toEqual([
      'checkout-dev',
      'payment-dev',
      'payment-prod',
    ]);
    expect(await sel('!env')).toEqual(['unlabelled']);
    expect(await sel('app.kubernetes.io/name=payment,tier>2')).toEqual([
      'payment-prod',
    ]);
    expect(simulator.problems).toEqual([]);
  });

  it('answers a selector Argo CD cannot parse with its 500, and records it', async () => {
    const { status, body } = await get(
      simulator,
      `/api/v1/applications?selector=${encodeURIComponent('env in prod')}`,
      token,
    );
    expect(status).toBe(500);
    expect(body).toMatchObject({
      code: 2,
      message: "error parsing the selector: found 'prod', expected: '('",
    });
    expect(simulator.problems).toEqual([
      expect.stringContaining('a selector Argo CD cannot parse'),
    ]);
  });

  it('filters by name, namespace, project and repository', async () => {
    expect(await names('?name=payment-dev')).toEqual(['payment-dev']);
    expect(await names('?appNamespace=team-checkout')).toEqual([
      'checkout-dev',
    ]);
    expect(await names('?projects=production')).toEqual(['payment-prod']);
    expect(await names('?project=default&project=production')).toHaveLength(4);
    expect(
      await names(
        `?repo=${encodeURIComponent('https://github.com/acme/gitops')}`,
      ),
    ).toEqual(['payment-prod']);
    expect(simulator.problems).toEqual([]);
  });

  it('selects list fields as Argo CD does', async () => {
    const { body } = await get(
      simulator,
      '/api/v1/applications?name=payment-dev&fields=items.metadata.name,items.status.sync.status',
      token,
    );
    expect(body).toEqual({
      metadata: { resourceVersion: '4' },
      items: [
        {
          metadata: { name: 'payment-dev' },
          status: { sync: { status: 'Synced' } },
        },
      ],
    });
    expect(simulator.problems).toEqual([]);
  });

  it('gets one application; an absent one is denied, or not found when a project is named', async () => {
    const { status, body } = await get(
      simulator,
      '/api/v1/applications/payment-prod',
      token,
    );
    expect(status).toBe(200);
    expect(body.spec.project).toBe('production');
    expect(body.status.sync).toMatchObject({
      status: 'OutOfSync',
      revision: 'b'.repeat(40),
    });
    expect(body.status.history.at(-1)).toMatchObject({
      id: 0,
      revision: 'a'.repeat(40),
    });
    expect(await get(simulator, '/api/v1/applications/nope', token)).toEqual({
      status: 403,
      body: {
        error: 'permission denied',
        code: 7,
        message: 'permission denied',
      },
    });
    expect(
      await get(simulator, '/api/v1/applications/nope?project=default', token),
    ).toMatchObject({
      status: 404,
      body: { code: 5, message: 'applications.argoproj.io "nope" not found' },
    });
    expect(
      (
        await get(
          simulator,
          '/api/v1/applications/payment-prod?project=default',
          token,
        )
      ).status,
    ).toBe(404);
    expect(
      (await get(simulator, '/api/v1/applications/checkout-dev', token)).status,
    ).toBe(403);
    expect(
      (
        await get(
          simulator,
          '/api/v1/applications/checkout-dev?appNamespace=team-checkout',
          token,
        )
      ).body.metadata.namespace,
    ).toBe('team-checkout');
    expect(simulator.problems).toEqual([]);
  });

  it('serves a multi-source application valid against the description', async () => {
    simulator.setApplication({
      name: 'catalog-api-prod',
      sources: [
        {
          repoURL: 'https://charts.acme.example',
          chart: 'catalog-api',
          targetRevision: '0.4.0',
          helm: {
            valueFiles: ['$values/charts/catalog-api/values-prod.yaml'],
            parameters: [{ name: 'image.tag', value: '3.1.0' }],
            valuesObject: { replicaCount: 3 },
          },
        },
        {
          repoURL: 'https://github.com/acme/gitops',
          targetRevision: 'main',
          ref: 'values',
        },
      ],
      revisions: ['0.4.0', 'c'.repeat(40)],
      images: ['ghcr.io/acme/catalog-api:3.1.0'],
    });
    const { body } = await get(
      simulator,
      '/api/v1/applications/catalog-api-prod',
      token,
    );
    expect(body.spec.source).toBeUndefined();
    expect(body.status.sync.revisions).toEqual(['0.4.0', 'c'.repeat(40)]);
    expect(body.status.sourceTypes).toEqual(['Helm', 'Directory']);
    expect(body.status.history[0].sources).toHaveLength(2);
    expect(body.status.summary.images).toEqual([
      'ghcr.io/acme/catalog-api:3.1.0',
    ]);
    expect(simulator.problems).toEqual([]);
  });

  it('serves the resource tree and live manifest of an Argo Rollout', async () => {
    simulator.setApplication({
      name: 'payment-canary',
      rollout: {
        stableImage: 'ghcr.io/acme/payment:1.4.1',
        canaryImage: 'ghcr.io/acme/payment:1.4.2',
        step: 1,
      },
    });
    const tree = await get(
      simulator,
      '/api/v1/applications/payment-canary/resource-tree',
      token,
    );
    expect(tree.status).toBe(200);
    const nodes: Array<Record<string, any>> = tree.body.nodes;
    const rollout = nodes.find(n => n.kind === 'Rollout')!;
    expect(rollout).toMatchObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      name: 'payment-canary',
      health: { status: 'Suspended', message: 'CanaryPauseStep' },
    });
    const podImages = nodes
      .filter(n => n.kind === 'Pod')
      .map(n => n.images[0])
      .sort();
    expect(podImages).toEqual([
      ...Array(4).fill('ghcr.io/acme/payment:1.4.1'),
      'ghcr.io/acme/payment:1.4.2',
    ]);
    expect(nodes.filter(n => n.kind === 'ReplicaSet')).toHaveLength(2);

    const query = new URLSearchParams({
      namespace: rollout.namespace,
      resourceName: 'payment-canary',
      group: 'argoproj.io',
      version: 'v1alpha1',
      kind: 'Rollout',
    });
    const resource = await get(
      simulator,
      `/api/v1/applications/payment-canary/resource?${query}`,
      token,
    );
    const live = JSON.parse(resource.body.manifest);
    expect(live.status).toMatchObject({
      currentStepIndex: 1,
      phase: 'Paused',
      pauseConditions: [{ reason: 'CanaryPauseStep' }],
      canary: { weights: { canary: { weight: 20 }, stable: { weight: 80 } } },
    });
    expect(live.status.stableRS).not.toBe(live.status.currentPodHash);
    expect(live.spec.template.spec.containers[0].image).toBe(
      'ghcr.io/acme/payment:1.4.2',
    );

    simulator.setRollout('payment-canary', { aborted: true });
    const app = await get(
      simulator,
      '/api/v1/applications/payment-canary',
      token,
    );
    expect(app.body.status.health.status).toBe('Degraded');
    const after = JSON.parse(
      (
        await get(
          simulator,
          `/api/v1/applications/payment-canary/resource?${query}`,
          token,
        )
      ).body.manifest,
    );
    expect(after.status).toMatchObject({ abort: true, phase: 'Degraded' });

    query.set('resourceName', 'nope');
    expect(
      await get(
        simulator,
        `/api/v1/applications/payment-canary/resource?${query}`,
        token,
      ),
    ).toMatchObject({
      status: 400,
      body: {
        code: 3,
        message:
          'Rollout argoproj.io nope not found as part of application payment-canary',
      },
    });
    expect(simulator.problems).toEqual([]);
  });

  it('answers with a server error when told to, then recovers', async () => {
    simulator.failNext(1, 500);
    simulator.failNext(1, 503, 'ApplicationService_Get');
    expect(await get(simulator, '/api/v1/applications', token)).toMatchObject({
      status: 500,
      body: { code: 2 },
    });
    expect((await get(simulator, '/api/v1/applications', token)).status).toBe(
      200,
    );
    expect(
      await get(simulator, '/api/v1/applications/payment-dev', token),
    ).toMatchObject({ status: 503, body: { code: 14 } });
    expect(
      (await get(simulator, '/api/v1/applications/payment-dev', token)).status,
    ).toBe(200);
    expect(simulator.problems).toEqual([]);
  });

  it('leaves requests unanswered when told to, until the client gives up', async () => {
    simulator.hangNext(1, 'ApplicationService_List');
    const started = Date.now();
    await expect(
      get(simulator, '/api/v1/applications', token, {
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow(/timeout|aborted/i);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(simulator.requests.at(-1)?.operationId).toBe(
      'ApplicationService_List',
    );
    expect(simulator.requests.at(-1)?.status).toBeUndefined();
    expect((await get(simulator, '/api/v1/applications', token)).status).toBe(
      200,
    );

    simulator.hangAll(true);
    await expect(
      get(simulator, '/api/version', undefined, {
        signal: AbortSignal.timeout(100),
      }),
    ).rejects.toThrow();
    simulator.hangAll(false);
    expect(await get(simulator, '/api/version')).toEqual({
      status: 200,
      body: { Version: 'v3.6.0+simulated' },
    });
    expect(simulator.problems).toEqual([]);
  });

  it('records requests Argo CD would not understand', async () => {
    expect(
      (
        await get(
          simulator,
          '/api/v1/applications?labelSelector=env%3Ddev',
          token,
        )
      ).status,
    ).toBe(200);
    expect((await get(simulator, '/api/v1/apps', token)).status).toBe(404);
    const login415 = await fetch(`${simulator.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ username: 'admin', password: 'password' }),
    });
    expect(login415.status).toBe(415);
    expect(simulator.problems).toEqual([
      expect.stringContaining(
        'has no query parameter "labelSelector"; Argo CD would ignore it',
      ),
      expect.stringContaining('no operation of Argo CD'),
      expect.stringContaining(
        'Argo CD answers anything but application/json with 415',
      ),
    ]);
  });

  it('keeps several instances apart', async () => {
    const other = await ArgoCdSimulator.start({
      accounts: { reader: 'secret' },
      applications: [{ name: 'elsewhere' }],
    });
    try {
      const otherToken = (await login(other, 'reader', 'secret')).body.token;
      expect(other.url).not.toBe(simulator.url);
      expect((await get(other, '/api/v1/applications', token)).status).toBe(
        401,
      );
      expect(
        (await get(other, '/api/v1/applications', otherToken)).body.items,
      ).toHaveLength(1);
      expect((await login(other)).status).toBe(401);
      expect(simulator.count('ApplicationService_List')).toBe(0);
      expect(other.problems).toEqual([]);
    } finally {
      await other.stop();
    }
    expect(simulator.problems).toEqual([]);
  });
});
