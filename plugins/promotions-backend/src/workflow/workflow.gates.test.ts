import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { shopHistory, shopOverlay } from '@internal/promotions-fixtures';
import {
  bareRepository,
  git,
  shopEntity,
  startWorkflowBackend,
} from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Has another replica hold the repository's refresh lease (or, with null, give it back), so
 * that no refresh of this backend stores what changes meanwhile.
 */
const holdRepository = (knex: Knex, owner: string | null = 'another-replica') =>
  knex('promotions_repository_state')
    .where({ repository_id: 'gitops' })
    .update({
      lease_owner: owner,
      lease_until: owner ? new Date(Date.now() + 3600_000) : null,
    });

/** Commits a file on main from a clone and pushes it, as someone outside the portal would. */
function pushToMain(
  dir: string,
  file: string,
  content: string,
  message: string,
) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-outside-'));
  git(work, 'clone', '-q', '--branch', 'main', dir, '.');
  fs.writeFileSync(path.join(work, file), content);
  git(
    work,
    '-c',
    'user.name=Ben',
    '-c',
    'user.email=ben@acme.example',
    'commit',
    '-qam',
    message,
  );
  git(work, 'push', '-q', 'origin', 'main');
}

describe.each(databases.eachSupportedId())(
  'the gates of the promotion workflow on %s',
  databaseId => {
    async function start(pipeline: any[]) {
      const dir = bareRepository(shopHistory);
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
        pipeline,
        entities: [shopEntity()],
      });
      await backend.ready();
      const { as, entityPath, refresh } = backend;
      /** Refreshes until the stored state shows the environment at the version. */
      const stored = async (environment: string, version: string) => {
        for (let i = 0; i < 200; i++) {
          await refresh();
          const res = await as('ana').get(entityPath);
          const env = res.body.environments?.find(
            (e: any) => e.name === environment,
          );
          if (env?.desired?.version === version) return;
          await sleep(50);
        }
        throw new Error(`${environment} was never stored at ${version}`);
      };
      /** Asks, has approved by ben and merges a promotion or rollback, as ana. */
      const land = async (request: object) => {
        const created = await as('ana').promote(request);
        expect(created.status).toBe(201);
        expect((await as('ben').act(created.body.id, 'approve')).status).toBe(
          200,
        );
        const merged = await as('ana').act(created.body.id, 'merge');
        expect(merged.body).toMatchObject({ state: 'merged' });
      };
      return { ...backend, dir, stored, land };
    }

    const pipeline = (prod: object) => [
      { name: 'dev', requires: [] },
      { name: 'staging', requires: ['dev'], approvals: 1 },
      { name: 'prod', requires: ['staging'], approvals: 1, ...prod },
    ];

    it('refuses a merge whose upstream was rolled back by the portal since its last refresh', async () => {
      const { as, knex, stored, land } = await start(
        pipeline({ soak: { milliseconds: 1 } }),
      );
      await land({ to: 'staging' });
      await stored('staging', '1.2.0');
      const toProd = await as('ana').promote({ to: 'prod' });
      expect(toProd.body.version).toBe('1.2.0');
      await as('ben').act(toProd.body.id, 'approve');
      const ready = await as('ana').get(`/promotions/${toProd.body.id}`);
      expect(ready.body.gates).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ gate: 'requires', state: 'passed' }),
          expect.objectContaining({ gate: 'soak', state: 'passed' }),
        ]),
      );

      // Another replica holds the repository, so no refresh stores the rollback for now.
      await holdRepository(knex);
      await land({ to: 'staging', kind: 'rollback', version: '1.1.0' });

      const refused = await as('ana').act(toProd.body.id, 'merge');
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toContain(
        'requires: staging runs 1.1.0, not 1.2.0',
      );
      expect(refused.body.error.message).toMatch(
        /soak: staging runs 1\.1\.0, not 1\.2\.0: the soak of .* starts once it runs 1\.2\.0/,
      );
    });

    it('counts the soak from the upstream’s current run, not from a run it was rolled back from', async () => {
      const { as, dir, knex, entityPath, stored, land } = await start(
        pipeline({ soak: { seconds: 1 } }),
      );
      await land({ to: 'staging' });
      await stored('staging', '1.2.0');
      await land({ to: 'staging', kind: 'rollback', version: '1.1.0' });
      await stored('staging', '1.1.0');
      // Put back outside the portal, and not read since: another replica holds the repository.
      await holdRepository(knex);
      pushToMain(
        dir,
        'shop/overlays/staging/kustomization.yaml',
        shopOverlay('staging', '1.2.0'),
        'Put shop 1.2.0 back on staging',
      );
      await sleep(1100);
      const soakOf = async () =>
        (
          await as('ana').post(`${entityPath}/promotions/preview`, {
            to: 'prod',
          })
        ).body.gates.find((g: any) => g.gate === 'soak');
      // The portal's merge of 1.2.0 before the rollback is no start of this run.
      expect(await soakOf()).toEqual({
        gate: 'soak',
        state: 'pending',
        summary:
          'staging runs 1.2.0, since a moment not known yet: the soak of 0 min is counted once a refresh of the repository tells',
      });
      await holdRepository(knex, null);
      await stored('staging', '1.2.0');
      await sleep(1100);
      expect(await soakOf()).toMatchObject({ state: 'passed' });
    });

    it('overrides a change window only with the override permission and a reason, and says so in history', async () => {
      const { as, dir, entityPath } = await start([
        { name: 'dev', requires: [] },
        {
          name: 'staging',
          requires: ['dev'],
          approvals: 1,
          // Open three days from today only: never now.
          windows: [
            {
              days: [
                ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][
                  (new Date().getUTCDay() + 3) % 7
                ],
              ],
              hours: '00:00-24:00',
            },
          ],
        },
        { name: 'prod', requires: ['staging'] },
      ]);
      const created = await as('ana').promote({ to: 'staging' });
      await as('rita').act(created.body.id, 'approve');

      const blocked = await as('ben').act(created.body.id, 'merge');
      expect(blocked.status).toBe(409);
      expect(blocked.body.error.message).toMatch(
        /windows: Outside the change windows/,
      );
      // An owner may not override; a release manager may, with a reason.
      const notAllowed = await as('ben').act(created.body.id, 'merge', {
        override: { reason: 'hotfix' },
      });
      expect(notAllowed.status).toBe(403);
      for (const reason of ['', '   ']) {
        const noReason = await as('rita').act(created.body.id, 'merge', {
          override: { reason },
        });
        expect(noReason.status).toBe(400);
        expect(noReason.body.error.message).toContain('reason');
      }
      expect(
        git(dir, 'show', 'main:shop/overlays/staging/kustomization.yaml'),
      ).toContain('newTag: "1.1.0"');

      const overridden = await as('rita').act(created.body.id, 'merge', {
        override: { reason: 'Checkout outage fix' },
      });
      expect(overridden.status).toBe(200);
      expect(overridden.body.state).toBe('merged');
      expect(
        git(dir, 'show', 'main:shop/overlays/staging/kustomization.yaml'),
      ).toContain('newTag: "1.2.0"');
      const history = await as('ana').get(
        `${entityPath}/history?environment=staging`,
      );
      expect(
        history.body.entries
          .slice(0, 2)
          .map((e: any) => [e.action, e.actor, e.comment]),
      ).toEqual([
        [
          'merged',
          'user:default/rita',
          expect.stringMatching(/^Merged in [0-9a-f]{12}$/),
        ],
        [
          'overridden',
          'user:default/rita',
          'windows overridden: Checkout outage fix',
        ],
      ]);
    });

    it('lists in the preview the config values the target and its upstream differ in', async () => {
      const { as, entityPath } = await start(pipeline({}));
      const preview = await as('ana').post(`${entityPath}/promotions/preview`, {
        to: 'prod',
      });
      expect(preview.status).toBe(200);
      expect(preview.body).toMatchObject({
        from: ['staging'],
        version: '1.1.0',
      });
      // prod patches its cache size; staging keeps the base's.
      expect(preview.body.configDifferences).toEqual([
        {
          key: 'Deployment/shop containers[shop].env.CACHE_SIZE',
          value: '1024kb',
          upstreamValue: '512kb',
        },
      ]);
    });
  },
);
