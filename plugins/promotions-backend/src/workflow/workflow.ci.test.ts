import { authServiceFactory } from '@backstage/backend-defaults/auth';
import { httpAuthServiceFactory } from '@backstage/backend-defaults/httpAuth';
import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory } from '@internal/promotions-fixtures';
import request from 'supertest';
import {
  bareRepository,
  git,
  SHOP_PIPELINE,
  startWorkflowBackend,
} from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const TOKEN = 'ci-token-0123456789abcdef0123456789';

it('takes CI’s promotion with a Backstage external access token, as CI sends it after a build', async () => {
  const dir = bareRepository(shopHistory);
  const { server } = await startWorkflowBackend({
    databases,
    databaseId: 'SQLITE_3',
    repositories: [
      {
        id: 'gitops',
        provider: 'git',
        url: dir,
        paths: ['{entity.metadata.name}/**'],
      },
    ],
    pipeline: SHOP_PIPELINE.map(e =>
      e.name === 'dev' ? { ...e, services: ['ci'] } : e,
    ),
    features: [authServiceFactory, httpAuthServiceFactory],
    config: {
      backend: {
        baseUrl: 'http://localhost:7007',
        auth: {
          externalAccess: [
            {
              type: 'static',
              options: { token: TOKEN, subject: 'ci' },
              accessRestrictions: [
                {
                  plugin: 'promotions',
                  permission: [
                    'catalog.entity.read',
                    'promotions.entity.read',
                    'promotions.promote',
                    'promotions.merge',
                  ],
                },
              ],
            },
          ],
        },
      },
    },
  });
  const post = (token: string, body: object) =>
    request(server)
      .post('/api/promotions/v1/entities/component/default/shop/promotions')
      .set('authorization', `Bearer ${token}`)
      .send(body);

  expect(
    (
      await post('not-the-token-0123456789abcdef', {
        to: 'dev',
        version: '1.3.0',
      })
    ).status,
  ).toBe(401);
  const res = await post(TOKEN, { to: 'dev', version: '1.3.0', merge: true });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({
    requestedBy: 'ci',
    state: 'merged',
    version: '1.3.0',
  });
  expect(
    git(dir, 'show', 'main:shop/overlays/dev/kustomization.yaml'),
  ).toContain('newTag: "1.3.0"');
  // Its access restrictions hold: it may not approve, and its policy keeps it out of staging.
  const staging = await post(TOKEN, { to: 'staging', version: '1.3.0' });
  expect(staging.status).toBe(403);
  const approve = await request(server)
    .post(`/api/promotions/v1/promotions/${res.body.id}/approve`)
    .set('authorization', `Bearer ${TOKEN}`)
    .send({});
  expect(approve.status).toBe(403);
});
