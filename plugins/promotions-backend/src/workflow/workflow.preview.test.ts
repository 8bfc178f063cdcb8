import { TestDatabases } from '@backstage/backend-test-utils';
import { shopHistory, shopOverlay } from '@internal/promotions-fixtures';
import {
  bareRepository,
  shopEntity,
  startWorkflowBackend,
} from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/** The staging overlay with secret-looking values beside and below its version line. */
const stagingWithSecrets = `${shopOverlay('staging', '1.1.0')}commonAnnotations:
  db-password: hunter2
  deploy.token: tok-4f2a
  db-url: postgres://shop:s3cret@db/shop
secretGenerator:
  - name: shop-db
    literals:
      - password=hunter3
`;

describe.each(databases.eachSupportedId())(
  'the promotion preview on %s',
  databaseId => {
    it('shows the version lines of the file diff, and no secret-looking value around them', async () => {
      const dir = bareRepository([
        ...shopHistory,
        {
          author: 'Ana Lima',
          date: '2026-11-20T09:00:00Z',
          message: 'Annotate staging',
          files: {
            'shop/overlays/staging/kustomization.yaml': stagingWithSecrets,
          },
        },
      ]);
      const backend = await startWorkflowBackend({
        databases,
        databaseId,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: dir,
            paths: ['{entity.metadata.name}/**'],
          },
        ],
        entities: [shopEntity()],
      });
      await backend.ready();
      const preview = await backend
        .as('ana')
        .post(`${backend.entityPath}/promotions/preview`, { to: 'staging' });
      expect(preview.status).toBe(200);
      const diff: string = preview.body.fileDiff;
      expect(diff.split('\n').filter(l => /^[-+][^-+]/.test(l))).toEqual([
        '-    newTag: "1.1.0"',
        '+    newTag: "1.2.0"',
      ]);
      for (const secret of ['hunter2', 'tok-4f2a', 's3cret', 'hunter3']) {
        expect(diff).not.toContain(secret);
      }
      expect(diff).toContain(' commonAnnotations:');
      expect(diff).toContain('   db-password: ••••••');
      expect(diff).toContain('   deploy.token: ••••••');
    });
  },
);
