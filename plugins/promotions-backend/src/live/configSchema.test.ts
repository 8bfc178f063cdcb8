import path from 'node:path';
import { loadConfigSchema } from '@backstage/config-loader';

describe('the live-state configuration', () => {
  it('keeps Argo CD tokens and passwords out of what the browser is sent', async () => {
    const schema = await loadConfigSchema({
      dependencies: [],
      packagePaths: [path.resolve(__dirname, '../../package.json')],
    });
    const data = {
      app: { baseUrl: 'http://localhost:3000' },
      backend: {
        baseUrl: 'http://localhost:7007',
        listen: { port: 7007 },
        database: { client: 'better-sqlite3', connection: ':memory:' },
      },
      promotions: {
        repositories: [{ id: 'gitops', provider: 'git', url: '/srv/gitops' }],
        argocd: {
          instances: [
            {
              name: 'main',
              url: 'https://argocd.example.com',
              token: 'argocd-api-token',
            },
            {
              name: 'eu',
              url: 'https://argocd.eu.example.com',
              username: 'backstage',
              password: 'argocd-password',
            },
          ],
        },
      },
    };
    const everything = JSON.stringify(
      schema.process([{ data, context: 'app-config.yaml' }]),
    );
    expect(everything).toContain('argocd-api-token');
    const frontend = JSON.stringify(
      schema.process([{ data, context: 'app-config.yaml' }], {
        visibility: ['frontend'],
      }),
    );
    expect(frontend).not.toContain('argocd-api-token');
    expect(frontend).not.toContain('argocd-password');
    const secrets = JSON.stringify(
      schema.process([{ data, context: 'app-config.yaml' }], {
        visibility: ['secret'],
      }),
    );
    expect(secrets).toContain('argocd-api-token');
    expect(secrets).toContain('argocd-password');
    expect(secrets).not.toContain('https://argocd.example.com');
  });
});
