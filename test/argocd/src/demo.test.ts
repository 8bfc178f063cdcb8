import { DEMO_WAITING_FOR_SYNC, startDemoArgoCd } from './demo';

describe('startDemoArgoCd', () => {
  it('serves the example services, says it is simulated, and stays within the description', async () => {
    const demo = await startDemoArgoCd({ port: 0 });
    try {
      const login = await fetch(`${demo.url}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'password' }),
      });
      const { token } = await login.json();
      const headers = { authorization: `Bearer ${token}` };
      const list = await (
        await fetch(
          `${demo.url}/api/v1/applications?selector=${encodeURIComponent(
            'app.kubernetes.io/name=payment',
          )}`,
          { headers },
        )
      ).json();
      expect(
        list.items.map((a: any) => [a.metadata.name, a.status.health.status]),
      ).toEqual([
        ['payment-dev', 'Healthy'],
        ['payment-prod', 'Suspended'],
        ['payment-staging', 'Healthy'],
      ]);
      // Mid-canary: paused after its first step, the stable image beside the canary.
      expect(list.items[1].status.summary.images).toEqual(
        expect.arrayContaining([
          'ghcr.io/acme/payment:1.4.1',
          'ghcr.io/acme/payment:1.4.2',
        ]),
      );
      expect(list.items[0].metadata.annotations).toEqual({
        'gitops-promotions/simulated': 'true',
      });
      const version = await (
        await fetch(`${demo.url}/api/version`, { headers })
      ).json();
      expect(version.ExtraBuildInfo).toMatch(/simulator.*not a real Argo CD/);
      expect(demo.problems).toEqual([]);
    } finally {
      await demo.stop();
    }
  });

  it('seeds one environment out of sync, one running another image, and one synced to a commit before its last change', async () => {
    const demo = await startDemoArgoCd({
      port: 0,
      history: path => [`${path}@newest`, `${path}@before`],
    });
    try {
      const revisionOf = (name: string) =>
        demo.application(name)!.status.history!.slice(-1)[0].revision;
      expect(revisionOf('payment-staging')).toBe(
        'payment/overlays/staging@before',
      );
      expect(revisionOf('payment-dev')).toBe('payment/overlays/dev@newest');
      expect(demo.application('orders-staging')!.status.sync.status).toBe(
        'OutOfSync',
      );
      expect(
        demo.application('catalog-api-prod')!.status.summary!.images,
      ).toEqual(['ghcr.io/acme/catalog-api:3.1.1-hotfix']);
      expect(DEMO_WAITING_FOR_SYNC).toEqual(['payment-staging']);
      expect(demo.problems).toEqual([]);
    } finally {
      await demo.stop();
    }
  });
});
