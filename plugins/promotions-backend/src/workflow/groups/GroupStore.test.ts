import { TestDatabases } from '@backstage/backend-test-utils';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { GroupStore } from './GroupStore';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const directory = resolvePackagePath(
  '@gitops-promotions/plugin-promotions-backend',
  'migrations',
);

describe.each(databases.eachSupportedId())(
  'the group store on %s',
  databaseId => {
    let knex: Knex;
    async function store() {
      knex = await databases.init(databaseId);
      await knex.migrate.latest({ directory });
      const groups = new GroupStore(knex);
      await groups.open(
        {
          id: 'g1',
          systemRef: 'system:default/checkout',
          environment: 'staging',
          requestedBy: 'user:default/ana',
          requestedAt: '2026-12-08T10:00:00.000Z',
        },
        { action: 'requested', actor: 'user:default/ana', reason: null },
      );
      await groups.addMember(
        'g1',
        { promotionId: 'p1', entityRef: 'component:default/shop', position: 0 },
        '2026-12-08T10:00:00.000Z',
      );
      await groups.transition(
        'g1',
        ['opening'],
        { state: 'open', reason: null },
        null,
        '2026-12-08T10:00:01.000Z',
      );
      return groups;
    }
    const ana = { ref: 'user:default/ana', service: false };

    describe('fault: merges of one group racing', () => {
      it('lets one of several merges asked for at once take the group, and only it move the group on', async () => {
        const groups = await store();
        const taken = await Promise.all(
          ['l1', 'l2', 'l3', 'l4'].map(lease =>
            groups.takeMerge(
              'g1',
              ['open'],
              { lease, by: ana },
              '2026-12-08T10:01:00.000Z',
            ),
          ),
        );
        expect(taken.filter(Boolean)).toHaveLength(1);
        const winner = ['l1', 'l2', 'l3', 'l4'][taken.indexOf(true)];
        const loser = winner === 'l1' ? 'l2' : 'l1';
        expect(await groups.activeGroupOf('p1')).toEqual({
          id: 'g1',
          systemRef: 'system:default/checkout',
          state: 'merging',
        });
        expect(
          await groups.renewMerge('g1', loser, '2026-12-08T10:01:01.000Z'),
        ).toBe(false);
        expect(
          await groups.transition(
            'g1',
            ['merging'],
            { state: 'merged', reason: null },
            { action: 'merged', actor: 'user:default/ana', reason: null },
            '2026-12-08T10:01:02.000Z',
            loser,
          ),
        ).toBe(false);
        expect(
          await groups.renewMerge('g1', winner, '2026-12-08T10:01:03.000Z'),
        ).toBe(true);

        // Found stuck only once its lease is older than asked; a resumed merge takes it over once.
        expect(await groups.stuckMerging('2026-12-08T10:01:03.000Z')).toEqual(
          [],
        );
        const [stuck] = await groups.stuckMerging('2026-12-08T10:05:00.000Z');
        expect(stuck).toMatchObject({
          id: 'g1',
          members: [{ promotionId: 'p1', entityRef: 'component:default/shop' }],
          merging: {
            lease: winner,
            since: '2026-12-08T10:01:03.000Z',
            by: ana,
          },
        });
        const resumed = await Promise.all(
          ['r1', 'r2'].map(next =>
            groups.renewMerge('g1', winner, '2026-12-08T10:05:00.000Z', next),
          ),
        );
        expect(resumed.filter(Boolean)).toHaveLength(1);
        const resumer = resumed[0] ? 'r1' : 'r2';
        // The merge taken over may no longer move the group.
        expect(
          await groups.renewMerge('g1', winner, '2026-12-08T10:05:01.000Z'),
        ).toBe(false);
        expect(
          await groups.transition(
            'g1',
            ['merging'],
            { state: 'merged', reason: null },
            { action: 'merged', actor: 'user:default/ana', reason: null },
            '2026-12-08T10:05:02.000Z',
            resumer,
          ),
        ).toBe(true);
        expect(await groups.get('g1')).toMatchObject({ state: 'merged' });
        expect(await groups.activeGroupOf('p1')).toBeUndefined();
        const row = await knex('promotions_groups').where({ id: 'g1' }).first();
        expect(row).toMatchObject({
          merging_since: null,
          merging_lease: null,
          merging_by: null,
        });
        expect((await groups.history('g1')).map(e => e.action)).toEqual([
          'requested',
          'merged',
        ]);
      });

      it('migrates down with a group left merging open again, and up again', async () => {
        const groups = await store();
        await groups.takeMerge(
          'g1',
          ['open'],
          { lease: 'l1', by: ana },
          '2026-12-08T10:01:00.000Z',
        );
        const migration = require(`${directory}/20261208000010_group_merging.js`);
        await migration.down(knex);
        const [row] = await knex('promotions_groups');
        expect(row.state).toBe('open');
        expect(row).not.toHaveProperty('merging_lease');
        await migration.up(knex);
        expect(await groups.get('g1')).toMatchObject({ state: 'open' });
      });
    });
  },
);
