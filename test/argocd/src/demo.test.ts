import { startDemoArgoCd } from './demo';

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
});
