import { mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { createGitFixture, shopHistory } from '@internal/promotions-fixtures';
import { component, startPromotionsBackend } from './__testUtils__';

const paths = ['{entity.metadata.name}/**'];

async function start(
  features = [] as Parameters<typeof startPromotionsBackend>[0]['features'],
) {
  const backend = await startPromotionsBackend({
    entities: [
      component('shop', {
        'gitops-promotions/repository': 'gitops',
        'gitops-promotions/path': 'shop/overlays/{env}',
      }),
      component('gone', {
        'gitops-promotions/repository': 'gone',
        'gitops-promotions/path': 'gone/overlays/{env}',
      }),
    ],
    features,
    config: {
      promotions: {
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: createGitFixture(shopHistory),
            paths,
          },
          { id: 'gone', provider: 'git', url: '/nonexistent/gitops', paths },
        ],
      },
    },
  });
  await backend.refresh('gitops');
  await backend.refresh('gone');
  return backend;
}

/** The metrics of a `Server-Timing` header, in order, each with its duration. */
function serverTiming(header: string | undefined) {
  return (header ?? '').split(', ').map(metric => {
    const [name, duration] = metric.split(';dur=');
    return { name, duration: Number(duration) };
  });
}

describe('the entity route', () => {
  it('tells in Server-Timing what each answer spent its time on, errors included', async () => {
    const { get } = await start();
    const cases: Array<[string, number, string[]]> = [
      ['shop', 200, ['store', 'catalog', 'total']],
      ['nope', 404, ['store', 'catalog', 'total']],
      ['gone', 503, ['store', 'catalog', 'total']],
      // Refused before anything ran: only the total.
      ['x'.repeat(300), 400, ['total']],
    ];
    for (const [name, status, metrics] of cases) {
      const res = await get(name);
      expect(res.status).toBe(status);
      const timing = serverTiming(res.headers['server-timing']);
      expect(timing.map(m => m.name)).toEqual(metrics);
      for (const { duration } of timing) {
        expect(duration).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('tells it on a refusal too', async () => {
    const permissions = mockServices.permissions.mock({
      authorizeConditional: async requests =>
        requests.map(r => ({
          result:
            r.permission.name === 'promotions.entity.read'
              ? AuthorizeResult.DENY
              : AuthorizeResult.ALLOW,
        })) as any,
    });
    const { get } = await start([permissions.factory]);
    const res = await get('shop');
    expect(res.status).toBe(403);
    expect(serverTiming(res.headers['server-timing']).map(m => m.name)).toEqual(
      ['store', 'catalog', 'total'],
    );
  });
});
