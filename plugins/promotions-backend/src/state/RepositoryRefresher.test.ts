import { execFileSync } from 'node:child_process';
import { TestDatabases } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  GitOpsRepository,
  LiveStateSource,
  PromotionsRepositoriesService,
} from '@gitops-promotions/plugin-promotions-node';
import {
  appendCommit,
  shopDeployment,
  shopOverlay,
} from '@internal/promotions-fixtures';
import {
  overriding,
  promoteStaging,
  refresherFixture,
  wrappedRepositories,
} from '../__testUtils__';
import { ENTITY_FIELDS } from './entityFields';

/** A live-state source that finds every environment reachable, read now. */
const answering: LiveStateSource = {
  id: 'answering',
  read: async ({ environments }) =>
    new Map(
      environments.map(environment => [
        environment,
        { reachable: true, asOf: new Date().toISOString(), applications: [] },
      ]),
    ),
};

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

/**
 * The repositories, with their timeline reads (history of more than the last commit) and version
 * reads (trees at past commits) counted.
 */
function countingReads(repositories: PromotionsRepositoriesService) {
  const reads = {
    timelines: [] as Array<{ since: string | undefined; commits: number }>,
    versions: 0,
  };
  const count = (repository: GitOpsRepository) =>
    overriding(repository, original => ({
      history: async (...args) => {
        const commits = await original.history(...args);
        const [, , limit, options] = args;
        if (limit > 1) {
          reads.timelines.push({
            since: options?.since,
            commits: commits.length,
          });
        }
        return commits;
      },
      snapshotAt: commit => {
        reads.versions++;
        return original.snapshotAt(commit);
      },
    }));
  const counted = wrappedRepositories(repositories, count);
  return { reads, counted };
}

describe.each(databases.eachSupportedId())(
  'RepositoryRefresher on %s',
  databaseId => {
    const setup = () => refresherFixture(databases, databaseId);

    it('resolves again only the environments whose inputs changed, and recomputes only their entities', async () => {
      const { dir, refresher, body } = await setup();

      const cold = await refresher.refresh('gitops');
      expect(cold).toMatchObject({
        entities: 2,
        environments: 6,
        resolved: 6,
        recomputed: 2,
        failed: 0,
      });
      const shopBefore = await body('shop');
      const cartBefore = await body('cart');

      const unchanged = await refresher.refresh('gitops');
      expect(unchanged).toMatchObject({ resolved: 0, recomputed: 0 });
      const shopAgain = await body('shop');
      expect(shopAgain.body).toEqual(shopBefore.body);
      expect(shopAgain.asOf!.getTime()).toBeGreaterThanOrEqual(
        shopBefore.asOf!.getTime(),
      );

      // A commit that touches nothing an environment reads costs no resolution at all.
      appendCommit(dir, {
        author: 'Ana Lima',
        date: '2026-10-22T09:00:00Z',
        message: 'Document the repository',
        files: { 'README.md': '# GitOps\n' },
      });
      expect(await refresher.refresh('gitops')).toMatchObject({
        resolved: 0,
        recomputed: 0,
      });

      promoteStaging(dir, '1.2.0', '2026-10-23T09:00:00Z', '(#9)');
      expect(await refresher.refresh('gitops')).toMatchObject({
        resolved: 1,
        recomputed: 1,
      });
      const shopAfter = (await body('shop')).body;
      const [dev, staging, prod] = shopAfter.environments;
      expect(staging.desired.version).toBe('1.2.0');
      expect(staging.desired.lastChange).toMatchObject({ pullRequest: 9 });
      expect(staging.drift).toEqual([]);
      // Kept environments keep what was known of them.
      expect(dev).toEqual(shopBefore.body.environments[0]);
      expect(prod.desired).toEqual(shopBefore.body.environments[2].desired);
      // The extended timeline of staging counts both versions prod is now behind by.
      expect(prod.drift[0]).toMatchObject({
        kind: 'behind',
        upstream: 'staging',
        versions: 2,
      });
      expect((await body('cart')).body).toEqual(cartBefore.body);

      // The base is an input of every shop environment.
      appendCommit(dir, {
        author: 'Ana Lima',
        date: '2026-10-25T09:00:00Z',
        message: 'Grow the cache everywhere (#10)',
        files: { 'shop/base/deployment.yaml': shopDeployment('1024kb') },
      });
      expect(await refresher.refresh('gitops')).toMatchObject({
        resolved: 3,
        recomputed: 1,
      });
      expect(
        (await body('shop')).body.environments.map(
          e => e.desired.lastChange?.pullRequest,
        ),
      ).toEqual([10, 10, 10]);
    });

    it('writes a refresh whole or not at all: one failing at its last write leaves the state before it', async () => {
      const { dir, refresher, store, body } = await setup();
      await refresher.refresh('gitops');
      const before = await body('shop');
      const keys = await store.environmentKeys('gitops');
      promoteStaging(dir, '1.2.0', '2026-10-23T09:00:00Z', '(#9)');
      // The refresh's environments and entities are written before this last step fails.
      const internals = store as unknown as {
        forgetOthers: (...args: unknown[]) => Promise<void>;
      };
      const forgetOthers = internals.forgetOthers;
      internals.forgetOthers = async () => {
        throw new Error('the database went away');
      };
      await expect(refresher.refresh('gitops')).rejects.toThrow(
        'the database went away',
      );
      internals.forgetOthers = forgetOthers;
      expect(await body('shop')).toEqual(before);
      expect(await store.environmentKeys('gitops')).toEqual(keys);
      // The next refresh writes it all.
      await refresher.refresh('gitops');
      expect((await body('shop')).body.environments[1].desired.version).toBe(
        '1.2.0',
      );
    });

    it('extends stored timelines with the commits since their head, reading no history before it', async () => {
      const { dir, refresherOf, entities, repositories, body } = await setup();
      const { reads, counted } = countingReads(repositories);
      const refresher = refresherOf(entities, { repositories: counted });
      const { revision: first } = await refresher.refresh('gitops');
      expect(reads.timelines.length).toBeGreaterThan(0);

      promoteStaging(dir, '1.2.0', '2026-10-23T09:00:00Z', '(#9)');
      reads.timelines = [];
      reads.versions = 0;
      expect(await refresher.refresh('gitops')).toMatchObject({
        resolved: 1,
        recomputed: 1,
      });
      // Staging's timeline grows by the one new commit; dev's and prod's are kept as stored.
      expect(reads.timelines).toEqual([{ since: first, commits: 1 }]);
      expect(reads.versions).toBe(1);
      const [, staging, prod] = (await body('shop')).body.environments;
      expect(staging.desired.version).toBe('1.2.0');
      expect(prod.drift[0]).toMatchObject({
        kind: 'behind',
        upstream: 'staging',
        versions: 2,
      });
    });

    it('reads a timeline again from the head when the branch was rewritten under it', async () => {
      const { dir, refresherOf, entities, repositories, body } = await setup();
      const { reads, counted } = countingReads(repositories);
      const refresher = refresherOf(entities, { repositories: counted });
      await refresher.refresh('gitops');
      promoteStaging(dir, '1.2.0', '2026-10-23T09:00:00Z');
      await refresher.refresh('gitops');

      // 1.2.0 never reached staging after all: the branch is forced back and promoted anew.
      execFileSync('git', ['reset', '-q', '--hard', 'HEAD~1'], { cwd: dir });
      promoteStaging(dir, '1.3.0', '2026-10-24T09:00:00Z');
      reads.timelines = [];
      await refresher.refresh('gitops');
      expect(reads.timelines).toEqual([
        { since: undefined, commits: expect.any(Number) },
      ]);
      const [, staging, prod] = (await body('shop')).body.environments;
      expect(staging.desired.version).toBe('1.3.0');
      // 1.1.0 then 1.3.0: the forced-away 1.2.0 is not counted.
      expect(prod.drift[0]).toMatchObject({
        kind: 'behind',
        upstream: 'staging',
        versions: 2,
      });
    });

    it('keeps a timeline for every environment, drifting or not, and reads one for an environment stored without', async () => {
      const { refresherOf, entities, repositories, knex } = await setup();
      const { reads, counted } = countingReads(repositories);
      const refresher = refresherOf(entities, { repositories: counted });
      const timelines = async () =>
        Object.fromEntries(
          (
            await knex('promotions_environment_state')
              .where({ entity_ref: 'component:default/cart' })
              .select('environment', 'timeline')
          ).map(row => [
            row.environment,
            row.timeline &&
              JSON.parse(row.timeline).commits.map((c: any) => c.version),
          ]),
        );
      await refresher.refresh('gitops');
      // cart runs 2.0.0 everywhere since it was laid out: nothing drifts, every history is kept.
      const laidOut = { dev: ['2.0.0'], staging: ['2.0.0'], prod: ['2.0.0'] };
      expect(await timelines()).toEqual(laidOut);

      // As stored before every environment kept one: the next refresh reads it, and only it.
      await knex('promotions_environment_state')
        .where({ entity_ref: 'component:default/cart', environment: 'staging' })
        .update({ timeline: null });
      reads.timelines = [];
      expect(await refresher.refresh('gitops')).toMatchObject({
        resolved: 0,
        recomputed: 1,
      });
      expect(reads.timelines).toEqual([{ since: undefined, commits: 1 }]);
      expect(await timelines()).toEqual(laidOut);
      expect(await refresher.refresh('gitops')).toMatchObject({
        resolved: 0,
        recomputed: 0,
      });
    });

    it('resolves a broken environment again only once it changes, and keeps the others', async () => {
      const { dir, refresher, body } = await setup();
      appendCommit(dir, {
        author: 'Ben Okafor',
        date: '2026-10-22T09:00:00Z',
        message: 'Break dev',
        files: { 'shop/overlays/dev/kustomization.yaml': 'resources: [\n' },
      });
      await refresher.refresh('gitops');
      const broken = (await body('shop')).body.environments[0];
      expect(broken.error).toMatch(/invalid YAML/);
      expect(await refresher.refresh('gitops')).toMatchObject({ resolved: 0 });

      appendCommit(dir, {
        author: 'Ben Okafor',
        date: '2026-10-23T09:00:00Z',
        message: 'Fix dev',
        files: {
          'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '1.3.0'),
        },
      });
      expect(await refresher.refresh('gitops')).toMatchObject({ resolved: 1 });
      expect((await body('shop')).body.environments[0].desired.version).toBe(
        '1.3.0',
      );
    });

    it("refuses an environment that reads another service's files, naming the file", async () => {
      const { dir, refresher, body } = await setup();
      appendCommit(dir, {
        author: 'Eve',
        date: '2026-10-22T09:00:00Z',
        message: "Borrow shop's base",
        files: {
          'cart/overlays/dev/kustomization.yaml':
            'resources:\n  - ../../../shop/overlays/prod\n',
        },
      });
      await refresher.refresh('gitops');
      const [dev, staging] = (await body('cart')).body.environments;
      expect(dev.error).toBe(
        'shop/overlays/prod/kustomization.yaml: the environment may not read this file ({entity.metadata.name}/**, charts/{entity.metadata.name}/**)',
      );
      expect(dev.desired.version).toBeNull();
      // Nothing of shop's reaches cart: no config drift is computed against what it read.
      expect(staging.drift).toEqual([]);
    });

    it('stops as soon as its task is aborted during a slow read, writing nothing', async () => {
      const { dir, refresherOf, entities, repositories, body } = await setup();
      await refresherOf(entities).refresh('gitops');
      const before = await body('shop');
      promoteStaging(dir, '1.2.0', '2026-10-23T09:00:00Z', '(#9)');

      // The provider hangs reading staging's timeline; the task is aborted meanwhile.
      const controller = new AbortController();
      const hanging = wrappedRepositories(repositories, repository =>
        overriding(repository, original => ({
          history: (...args) => {
            const [, , limit] = args;
            if (limit === 1) return original.history(...args);
            controller.abort(new Error('The task was aborted'));
            return new Promise(() => {});
          },
        })),
      );
      const started = Date.now();
      await expect(
        refresherOf(entities, { repositories: hanging }).refresh('gitops', {
          signal: controller.signal,
        }),
      ).rejects.toThrow('The task was aborted');
      expect(Date.now() - started).toBeLessThan(5_000);
      // Neither staging's new resolution nor anything else of the aborted refresh is stored.
      expect(await body('shop')).toEqual(before);
    });

    it("keeps an entity's last known state, with the error, when an environment's history cannot be read", async () => {
      const {
        dir,
        refresher,
        refresherOf,
        entities,
        repositories,
        store,
        body,
      } = await setup();
      await refresher.refresh('gitops');
      const before = await body('shop');
      const cartBefore = await body('cart');
      promoteStaging(dir, '1.2.0', '2026-10-23T09:00:00Z', '(#9)');
      appendCommit(dir, {
        author: 'Dana Ruiz',
        date: '2026-10-24T09:00:00Z',
        message: 'Promote shop 1.3.0 and cart 2.1.0 to dev',
        files: {
          'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '1.3.0'),
          'cart/overlays/dev/kustomization.yaml': shopOverlay(
            'dev',
            '2.1.0',
          ).replace(/shop/g, 'cart'),
        },
      });

      const failing = wrappedRepositories(repositories, repository =>
        overriding(repository, original => ({
          history: async (...args) => {
            const [, paths] = args;
            if (paths.some(p => p.startsWith('shop/overlays/staging/'))) {
              throw new Error('git log failed: object file is empty');
            }
            return original.history(...args);
          },
        })),
      );
      const summary = await refresherOf(entities, {
        repositories: failing,
      }).refresh('gitops');
      expect(summary).toMatchObject({ resolved: 3, failed: 1 });
      const shop = await store.get('component:default/shop');
      expect(shop!.error!.message).toBe(
        "Repository gitops: the history of environment staging could not be read; the backend's log says why",
      );
      expect((await body('shop')).body).toEqual(before.body);
      // The other entity's refresh is written as usual.
      const cart = await body('cart');
      expect(cart.body.environments[0].desired.version).toBe('2.1.0');
      expect(cart.body).not.toEqual(cartBefore.body);
      expect((await store.get('component:default/cart'))!.error).toBeNull();

      // Once the history can be read, the environment is read again.
      expect(await refresher.refresh('gitops')).toMatchObject({ failed: 0 });
      expect((await store.get('component:default/shop'))!.error).toBeNull();
      const after = (await body('shop')).body;
      expect(after.environments[1].desired.version).toBe('1.2.0');
      // What it stores then is what a first refresh of the repository stores.
      await store.client('promotions_entity_state').delete();
      await store.client('promotions_environment_state').delete();
      await refresher.refresh('gitops');
      expect((await body('shop')).body).toEqual(after);
    });

    it('stores every entity when a live-state source throws or never answers, with the reason', async () => {
      const { refresherOf, entities, body } = await setup();
      const throwing: LiveStateSource = {
        id: 'throwing',
        read: async () => {
          throw new Error('connection refused');
        },
      };
      // Heeds no signal: only the deadline ends its wait.
      const hanging: LiveStateSource = {
        id: 'hanging',
        read: () => new Promise(() => {}),
      };
      const summary = await refresherOf(entities, {
        liveStateSources: [throwing, hanging, answering],
        liveStateTimeoutMs: 200,
      }).refresh('gitops');
      expect(summary).toMatchObject({ entities: 2, recomputed: 2, failed: 0 });
      for (const name of ['shop', 'cart']) {
        const { environments } = (await body(name)).body;
        expect(environments.map(e => e.name)).toEqual([
          'dev',
          'staging',
          'prod',
        ]);
        for (const environment of environments) {
          expect(environment.desired.version).not.toBeNull();
          expect(environment.live).toMatchObject({
            reachable: false,
            error:
              'Live-state source throwing failed: connection refused; Live-state source hanging did not answer within 200 ms',
          });
        }
      }
    });

    it('rewrites no entity when only the time its live state was read moved', async () => {
      const { refresherOf, entities, body } = await setup();
      const refresher = refresherOf(entities, {
        liveStateSources: [answering],
      });
      await refresher.refresh('gitops');
      const before = await body('shop');
      expect(before.body.environments[0].live).toMatchObject({
        reachable: true,
      });
      await new Promise(resolve => setTimeout(resolve, 10));
      expect(await refresher.refresh('gitops')).toMatchObject({
        recomputed: 0,
      });
      expect((await body('shop')).body).toEqual(before.body);
    });

    it('computes again the states an earlier computation stored, so that environments get the notes they lacked', async () => {
      const { dir, refresher, body, knex } = await setup();
      appendCommit(dir, {
        author: 'Ana Lima',
        date: '2026-10-22T09:00:00Z',
        message: 'Use vars in prod',
        files: {
          'shop/overlays/prod/kustomization.yaml': `${shopOverlay(
            'prod',
            '1.0.0',
          )}patches:\n  - path: cache.yaml\nvars:\n  - name: SHOP\n    objref: { kind: Deployment, name: shop, apiVersion: apps/v1 }\n`,
        },
      });
      await refresher.refresh('gitops');
      const note = 'Not read: vars (shop/overlays/prod/kustomization.yaml)';
      expect((await body('shop')).body.environments[2].notes).toEqual([note]);

      // As an earlier computation stored it: another recipe and fingerprint, and no notes.
      const old = await knex('promotions_entity_state')
        .where({ entity_ref: 'component:default/shop' })
        .first();
      const oldBody = JSON.parse(old.body);
      for (const env of oldBody.environments) delete env.notes;
      await knex('promotions_entity_state')
        .where({ entity_ref: 'component:default/shop' })
        .update({ body: JSON.stringify(oldBody), fingerprint: 'earlier' });
      await knex('promotions_environment_state')
        .where({ entity_ref: 'component:default/shop' })
        .update({ recipe: 'earlier' });
      expect((await body('shop')).body.environments[2].notes).toBeUndefined();

      expect(await refresher.refresh('gitops')).toMatchObject({
        resolved: 3,
        recomputed: 1,
      });
      const again = (await body('shop')).body;
      expect(again.environments[2].notes).toEqual([note]);
      expect(again.environments[0]).not.toHaveProperty('notes');
    });

    it('asks the catalog for the fields it uses on every page, and stores no more', async () => {
      const { refresherOf, store, entities } = await setup();
      const described = entities.map(entity => ({
        ...entity,
        metadata: { ...entity.metadata, description: 'A service' },
        spec: { ...entity.spec, dependsOn: ['resource:default/db'] },
      }));
      const catalog = catalogServiceMock({ entities: described });
      const query = jest.spyOn(catalog, 'queryEntities');
      const summary = await refresherOf(described, {
        catalog,
        catalogPageSize: 1,
      }).refresh('gitops');
      expect(summary).toMatchObject({ entities: 2, failed: 0 });
      expect(query).toHaveBeenCalledTimes(2);
      expect(query.mock.calls[1][0]).toHaveProperty('cursor');
      for (const [request] of query.mock.calls) {
        expect(request).toMatchObject({ fields: ENTITY_FIELDS, limit: 1 });
      }
      for (const name of ['shop', 'cart']) {
        const { entity } = (await store.get(`component:default/${name}`))!;
        expect(entity!.metadata.description).toBeUndefined();
        expect(entity!.spec).toEqual(
          entities.find(e => e.metadata.name === name)!.spec,
        );
      }
    });

    it('forgets entities that left the catalog, and only those of its own repository', async () => {
      const { refresher, refresherOf, store, entities } = await setup();
      await refresher.refresh('gitops');
      await refresherOf([entities[0]]).refresh('gitops');
      expect(await store.get('component:default/cart')).toBeUndefined();
      expect(await store.get('component:default/shop')).toBeDefined();
    });
  },
);
