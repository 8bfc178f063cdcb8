import { createServiceFactory } from '@backstage/backend-plugin-api';
import { Entity } from '@backstage/catalog-model';
import { TestDatabases } from '@backstage/backend-test-utils';
import {
  notificationService,
  NotificationSendOptions,
} from '@backstage/plugin-notifications-node';
import { shopHistory } from '@internal/promotions-fixtures';
import {
  bareRepository,
  shopEntity,
  startWorkflowBackend,
} from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });

const TAB = 'http://portal.example/catalog/default/component/shop/promotions';

/** Only the clock is simulated: timers, the database and HTTP run as they do. */
const simulateClock = () =>
  jest.useFakeTimers({
    doNotFake: [
      'nextTick',
      'setImmediate',
      'clearImmediate',
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'queueMicrotask',
      'hrtime',
      'performance',
    ],
    now: Date.now(),
  });

describe.each(databases.eachSupportedId())(
  'the notifications of promotions on %s',
  databaseId => {
    afterEach(() => jest.useRealTimers());

    async function start(
      pipeline: any[],
      options: { failing?: boolean; entity?: Entity } = {},
    ) {
      const sent: NotificationSendOptions[] = [];
      const service = { failing: options.failing ?? false };
      const notifications = createServiceFactory({
        service: notificationService,
        deps: {},
        factory: () => ({
          async send(notification: NotificationSendOptions) {
            if (service.failing) {
              throw new Error('the notifications backend is down');
            }
            sent.push(notification);
          },
        }),
      });
      const backend = await startWorkflowBackend({
        databases,
        databaseId,
        repositories: [
          {
            id: 'gitops',
            provider: 'git',
            url: bareRepository(shopHistory),
            paths: ['{entity.metadata.name}/**'],
          },
        ],
        pipeline,
        entities: [options.entity ?? shopEntity()],
        features: [notifications],
      });
      await backend.ready();
      const titles = () => sent.map(n => n.payload.title);
      return { ...backend, sent, titles, service };
    }

    it('tells the approval groups, not the requester, once, that a promotion waits for their approval', async () => {
      const { as, sent, sync } = await start([
        { name: 'dev', requires: [] },
        {
          name: 'staging',
          requires: ['dev'],
          approvals: { count: 1, groups: ['release-managers'] },
        },
      ]);
      const created = await as('ana').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      await sync();
      await sync();
      const approvals = sent.filter(n =>
        n.payload.title.startsWith('Approval wanted'),
      );
      expect(approvals).toEqual([
        {
          recipients: {
            type: 'entity',
            entityRef: ['group:default/release-managers'],
            excludeEntityRef: 'user:default/ana',
          },
          payload: expect.objectContaining({
            title: `Approval wanted: shop ${created.body.version} to staging`,
            link: TAB,
            severity: 'normal',
            topic: `promotion:${created.body.id}`,
          }),
        },
      ]);
    });

    it('tells the owners when the environment names no approval groups', async () => {
      const { as, sent } = await start([
        { name: 'dev', requires: [] },
        { name: 'staging', requires: ['dev'], approvals: 1 },
      ]);
      await as('ana').promote({ to: 'staging' });
      expect(sent.map(n => n.recipients)).toEqual([
        {
          type: 'entity',
          entityRef: ['group:default/shop-team'],
          excludeEntityRef: 'user:default/ana',
        },
      ]);
    });

    it('tells the requester once per set of failing gates that the merge is blocked', async () => {
      const { as, sent, sync } = await start([
        { name: 'dev', requires: [] },
        { name: 'staging', requires: ['dev'], approvals: 1 },
      ]);
      const { body } = await as('ana').promote({ to: 'staging' });
      await as('rita').act(body.id, 'reject', { comment: 'Not yet' });
      await sync();
      await sync();
      const blocked = sent.filter(n =>
        n.payload.title.startsWith('Merge blocked'),
      );
      expect(blocked).toEqual([
        {
          recipients: { type: 'entity', entityRef: ['user:default/ana'] },
          payload: expect.objectContaining({
            description: 'Failed gates: approvals.',
            link: TAB,
            severity: 'high',
            topic: `promotion:${body.id}`,
          }),
        },
      ]);
      // The rejection's comment is the rejecter's: it is not repeated to anyone.
      expect(JSON.stringify(sent)).not.toContain('Not yet');
    });

    it('tells the owners of a rollback asked for and of its merge, each once', async () => {
      const { as, sent, sync, titles } = await start([
        { name: 'dev', requires: [] },
        { name: 'staging', requires: ['dev'], approvals: 1 },
      ]);
      const rollback = await as('ana').promote({
        to: 'staging',
        kind: 'rollback',
        version: '1.0.0',
      });
      expect(rollback.status).toBe(201);
      await as('rita').act(rollback.body.id, 'approve');
      expect((await as('ben').act(rollback.body.id, 'merge')).body.state).toBe(
        'merged',
      );
      await sync();
      await sync();
      expect(titles().filter(t => /rollback|rolled back/i.test(t))).toEqual([
        'Rollback of shop in staging to 1.0.0',
        'shop in staging rolled back to 1.0.0',
      ]);
      const merged = sent.find(n => n.payload.title.includes('rolled back'))!;
      expect(merged.recipients).toEqual({
        type: 'entity',
        entityRef: ['group:default/shop-team'],
      });
      expect(merged.payload).toMatchObject({ link: TAB, severity: 'high' });
    });

    it('tells of a promotion open past stalePromotion once, at a sync, and shows it as stale-promotion drift until then not', async () => {
      simulateClock();
      const { as, sent, sync, entityPath } = await start([
        { name: 'dev', requires: [] },
        { name: 'staging', requires: ['dev'], stalePromotion: '36h' },
      ]);
      const { body } = await as('ana').promote({ to: 'staging' });
      const staleDrift = async () =>
        (await as('ana').get(entityPath)).body.environments
          .find((e: any) => e.name === 'staging')
          .drift.filter((d: any) => d.kind === 'stale-promotion');
      const stale = () =>
        sent.filter(n => n.payload.title.includes('open for'));

      jest.setSystemTime(Date.now() + 35 * 3600_000);
      await sync();
      expect(stale()).toEqual([]);
      expect(await staleDrift()).toEqual([]);

      jest.setSystemTime(Date.now() + 2 * 3600_000);
      await sync();
      await sync();
      expect(stale()).toEqual([
        {
          recipients: {
            type: 'entity',
            entityRef: ['group:default/shop-team', 'user:default/ana'],
          },
          payload: expect.objectContaining({
            title: 'Promotion of shop to staging open for 37 hours',
            link: TAB,
            topic: `promotion:${body.id}`,
          }),
        },
      ]);
      expect(await staleDrift()).toEqual([
        expect.objectContaining({ kind: 'stale-promotion' }),
      ]);

      await as('ana').act(body.id, 'close');
      expect(await staleDrift()).toEqual([]);
    });

    it('still opens the promotion when sending fails, and tells at a later sync', async () => {
      const { as, sent, sync, service } = await start(
        [
          { name: 'dev', requires: [] },
          { name: 'staging', requires: ['dev'], approvals: 1 },
        ],
        { failing: true },
      );
      const created = await as('ana').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      await sync();
      expect(sent).toEqual([]);
      service.failing = false;
      await sync();
      await sync();
      expect(sent.map(n => n.payload.title)).toEqual([
        `Approval wanted: shop ${created.body.version} to staging`,
      ]);
    });

    it('tells nobody named by an owner that is not a user or group', async () => {
      const entity = shopEntity();
      entity.spec!.owner = 'component:default/../../admin';
      entity.relations = [
        { type: 'ownedBy', targetRef: 'not a ref at all' },
        { type: 'ownedBy', targetRef: 'component:default/shop' },
      ];
      const { as, sent, sync } = await start(
        [
          { name: 'dev', requires: [] },
          { name: 'staging', requires: ['dev'], approvals: 1 },
        ],
        { entity },
      );
      const created = await as('rita').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      await sync();
      expect(sent).toEqual([]);
    });

    it('refuses to start with a stalePromotion that is not a duration', async () => {
      await expect(
        start([
          { name: 'dev', requires: [] },
          {
            name: 'staging',
            requires: ['dev'],
            stalePromotion: '2 fortnights; drop table',
          },
        ]),
      ).rejects.toThrow(/stalePromotion/);
    });
  },
);
