import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestDatabases } from '@backstage/backend-test-utils';
import {
  appendCommit,
  FixtureCommit,
  shopOverlay,
} from '@internal/promotions-fixtures';
import { bareRepository, git, startWorkflowBackend } from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const DAY = 24 * 60 * 60 * 1000;

/** dev, staging, and prod in production; no approvals, so that one release manager ships alone. */
const PIPELINE = [
  { name: 'dev', requires: [] },
  { name: 'staging', requires: ['dev'] },
  { name: 'prod', requires: ['staging'], production: true },
];

/** Pushes commits to main from a clone, as someone outside the portal would. */
function pushCommits(dir: string, commits: FixtureCommit[]) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-push-'));
  execFileSync('git', ['clone', '-q', '--branch', 'main', dir, work]);
  for (const commit of commits) appendCommit(work, commit);
  git(work, 'push', '-q', 'origin', 'main');
}

describe.each(databases.eachSupportedId())(
  'delivery figures of changes made outside the portal, with the git provider, on %s',
  databaseId => {
    const start = Date.now();
    /** Whole seconds ago, as git keeps them. */
    const at = (days: number) =>
      new Date(Math.floor((start - days * DAY) / 1000) * 1000);
    const iso = (days: number) => at(days).toISOString();
    /** A commit that sets the version of one environment, pushed by Ben. */
    const setVersion = (
      days: number,
      env: string,
      tag: string,
    ): FixtureCommit => ({
      author: 'Ben Okafor',
      date: iso(days),
      message: `Set shop ${env} to ${tag}`,
      files: {
        [`shop/overlays/${env}/kustomization.yaml`]: shopOverlay(env, tag),
      },
    });
    const layout: FixtureCommit = {
      author: 'Ana Lima',
      date: iso(40),
      message: 'Lay out shop',
      files: {
        'shop/base/deployment.yaml':
          'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          image: ghcr.io/acme/shop:0.0.1\n',
        'shop/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
        'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '1.0.0'),
        'shop/overlays/staging/kustomization.yaml': shopOverlay(
          'staging',
          '1.0.0',
        ),
        'shop/overlays/prod/kustomization.yaml': shopOverlay('prod', '1.0.0'),
      },
    };

    async function backend(history: FixtureCommit[]) {
      const dir = bareRepository(history);
      const started = await startWorkflowBackend({
        databases,
        databaseId,
        pipeline: PIPELINE,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: dir,
            paths: ['{entity.metadata.name}/**'],
          },
        ],
      });
      await started.ready();
      const figures = async (days: number) => {
        const res = await started
          .as('ana')
          .get(`${started.entityPath}/figures?days=${days}`);
        expect(res.status).toBe(200);
        const env = (name: string) =>
          res.body.environments.find((e: any) => e.environment === name);
        return { body: res.body, env };
      };
      /** Each stored timeline, as [version, when] newest first. */
      const timelines = async () => {
        const rows = await started
          .knex('promotions_environment_state')
          .where({ entity_ref: 'component:default/shop' })
          .select('environment', 'timeline');
        return Object.fromEntries(
          rows.map(row => [
            row.environment,
            row.timeline === null
              ? null
              : JSON.parse(row.timeline).commits.map((c: any) => [
                  c.version,
                  c.at,
                ]),
          ]),
        );
      };
      /** Waits until the stored state is of the branch's head: a merge asks for a refresh too. */
      const refreshed = async () => {
        await started.refresh();
        const head = git(dir, 'rev-parse', 'main');
        for (let i = 0; i < 200; i++) {
          const row = await started
            .knex('promotions_entity_state')
            .where({ entity_ref: 'component:default/shop' })
            .first('revision');
          if (row?.revision === head) return;
          await new Promise(r => setTimeout(r, 50));
        }
        throw new Error(`the state of ${head} was never stored`);
      };
      return { ...started, dir, figures, timelines, refreshed };
    }

    it('counts versions pushed straight to the repository, with no promotion through the portal', async () => {
      /*
       * 40 days ago the layout, 1.0.0 everywhere; then, all pushed by hand: dev 1.1.0 ten days
       * ago, staging six, prod two; prod back to 1.0.0 a day and a half ago, and forward to
       * 1.1.0 again a day ago. Every environment runs 1.1.0 at the end: nothing drifts.
       */
      const { figures, timelines } = await backend([
        layout,
        setVersion(10, 'dev', '1.1.0'),
        setVersion(6, 'staging', '1.1.0'),
        setVersion(2, 'prod', '1.1.0'),
        setVersion(1.5, 'prod', '1.0.0'),
        setVersion(1, 'prod', '1.1.0'),
      ]);
      // Every environment keeps its versions, drifting or not.
      expect(await timelines()).toEqual({
        dev: [
          ['1.1.0', iso(10)],
          ['1.0.0', iso(40)],
        ],
        staging: [
          ['1.1.0', iso(6)],
          ['1.0.0', iso(40)],
        ],
        prod: [
          ['1.1.0', iso(1)],
          ['1.0.0', iso(1.5)],
          ['1.1.0', iso(2)],
          ['1.0.0', iso(40)],
        ],
      });

      const month = await figures(30);
      // 30 days leave the layout out: dev 1 (1.1.0), staging 1, prod 3 (1.1.0, back to 1.0.0,
      // 1.1.0 again); prod 3 / (30 / 7) = 0.7.
      expect(month.env('dev').deployments.count).toBe(1);
      expect(month.env('staging').deployments.count).toBe(1);
      expect(month.env('prod').deployments).toMatchObject({
        count: 3,
        perWeek: 0.7,
      });
      // 1.1.0 first ran in dev ten days ago and in prod two days ago: 8 days. Its return a
      // day ago is not its first run.
      expect(month.body.leadTime).toEqual([
        {
          environment: 'prod',
          medianMs: 8 * DAY,
          p90Ms: 8 * DAY,
          direct: 0,
          unknownStart: 0,
          versions: [
            {
              version: '1.1.0',
              firstEnvironment: 'dev',
              firstAt: iso(10),
              productionAt: iso(2),
              ms: 8 * DAY,
            },
          ],
        },
      ]);
      // Back to 1.0.0 outside the portal is a deployment, not a rollback: nothing was asked
      // for through the portal, so no rate and nothing restored.
      expect(month.env('prod').changeFailure).toEqual({
        promotions: 0,
        rollbacks: 0,
        failed: 0,
        rate: null,
      });
      expect(month.env('prod').restore).toEqual({
        medianMs: null,
        rollbacks: [],
      });

      // 90 days reach the layout, which created every environment: one more each. 1.0.0 ran
      // in dev and prod from the same commit: 0 ms. Sorted [0, 8 days]: median 4, p90 8.
      const quarter = await figures(90);
      expect(
        quarter.body.environments.map((e: any) => e.deployments.count),
      ).toEqual([2, 2, 4]);
      expect(quarter.body.leadTime[0]).toMatchObject({
        medianMs: 4 * DAY,
        p90Ms: 8 * DAY,
        direct: 0,
        unknownStart: 0,
      });
      expect(
        quarter.body.leadTime[0].versions.map((v: any) => [v.version, v.ms]),
      ).toEqual([
        ['1.0.0', 0],
        ['1.1.0', 8 * DAY],
      ]);
    });

    it('keeps the versions an environment went through when its inputs change without a new version', async () => {
      // dev runs 1.1.0 from ten days ago; staging lags at 1.0.0, so dev drifts ahead of it.
      const { dir, refreshed, figures, timelines } = await backend([
        layout,
        setVersion(10, 'dev', '1.1.0'),
      ]);
      expect((await figures(30)).env('dev').deployments.count).toBe(1);

      // Staging catches up five days ago, and dev gets three replicas three days ago: its
      // kustomization changes, its version does not, and nothing drifts from dev any more.
      pushCommits(dir, [
        setVersion(5, 'staging', '1.1.0'),
        {
          author: 'Ben Okafor',
          date: iso(3),
          message: 'Run three shops in dev',
          files: {
            'shop/overlays/dev/kustomization.yaml': `${shopOverlay(
              'dev',
              '1.1.0',
            )}replicas:\n  - name: shop\n    count: 3\n`,
          },
        },
      ]);
      await refreshed();
      // dev's timeline grew by the new commit, and kept what came before.
      expect((await timelines()).dev).toEqual([
        ['1.1.0', iso(3)],
        ['1.1.0', iso(10)],
        ['1.0.0', iso(40)],
      ]);
      const month = await figures(30);
      expect(month.env('dev').deployments.count).toBe(1);
      expect(month.env('staging').deployments.count).toBe(1);

      // prod gets 1.1.0 a day ago: ten days after dev first ran it, not four after staging.
      pushCommits(dir, [setVersion(1, 'prod', '1.1.0')]);
      await refreshed();
      const later = await figures(30);
      expect(
        later.body.environments.map((e: any) => e.deployments.count),
      ).toEqual([1, 1, 1]);
      expect(later.body.leadTime[0].versions).toEqual([
        {
          version: '1.1.0',
          firstEnvironment: 'dev',
          firstAt: iso(10),
          productionAt: iso(1),
          ms: 9 * DAY,
        },
      ]);
    });

    it('counts a promotion merged through the portal once, beside the changes pushed by hand', async () => {
      const { as, dir, refreshed, figures, timelines, knex } = await backend([
        layout,
        setVersion(10, 'dev', '1.1.0'),
        setVersion(5, 'staging', '1.1.0'),
      ]);
      const created = await as('rita').promote({ to: 'prod' });
      expect(created.status).toBe(201);
      const merged = await as('rita').act(created.body.id, 'merge');
      expect(merged.status).toBe(200);
      const mergedCommit = merged.body.mergedCommit;
      expect(git(dir, 'rev-parse', 'main')).toBe(mergedCommit);
      await refreshed();
      const [mergedEntry] = await knex('promotions_history').where({
        request_id: created.body.id,
        action: 'merged',
      });
      const mergedAt = new Date(mergedEntry.at).getTime();
      const committedAt = Date.parse(
        git(dir, 'log', '-1', '--format=%aI', mergedCommit),
      );
      // prod's timeline holds the portal's commit, dated when it was asked for.
      expect((await timelines()).prod).toEqual([
        ['1.1.0', new Date(committedAt).toISOString()],
        ['1.0.0', iso(40)],
      ]);

      const month = await figures(30);
      // One deployment to prod: the timeline's commit and the portal's merge are the same.
      expect(month.env('prod').deployments.count).toBe(1);
      // From dev ten days ago to the merge, when 1.1.0 landed in prod.
      expect(month.body.leadTime[0].versions).toEqual([
        {
          version: '1.1.0',
          firstEnvironment: 'dev',
          firstAt: iso(10),
          productionAt: new Date(mergedAt).toISOString(),
          ms: mergedAt - at(10).getTime(),
        },
      ]);
      expect(month.env('prod').changeFailure).toEqual({
        promotions: 1,
        rollbacks: 0,
        failed: 0,
        rate: 0,
      });

      // Someone sets prod back to 1.0.0 by hand after the merge: a second deployment, and
      // still no rollback, as it was not asked for through the portal.
      const revertedAt = Math.ceil(mergedAt / 1000) * 1000 + 1000;
      while (Date.now() <= revertedAt)
        await new Promise(r => setTimeout(r, 100));
      pushCommits(dir, [
        {
          ...setVersion(0, 'prod', '1.0.0'),
          date: new Date(revertedAt).toISOString(),
        },
      ]);
      await refreshed();
      const after = await figures(30);
      expect(after.env('prod').deployments.count).toBe(2);
      expect(after.body.leadTime[0].versions).toHaveLength(1);
      expect(after.env('prod').changeFailure).toEqual({
        promotions: 1,
        rollbacks: 0,
        failed: 0,
        rate: 0,
      });
    });
  },
);
