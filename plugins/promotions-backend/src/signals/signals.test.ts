import { createServiceFactory } from '@backstage/backend-plugin-api';
import { TestDatabases } from '@backstage/backend-test-utils';
import {
  SignalPayload,
  signalsServiceRef,
} from '@backstage/plugin-signals-node';
import { shopHistory, shopOverlay } from '@internal/promotions-fixtures';
import {
  bareRepository,
  pushToBranch,
  startWorkflowBackend,
} from '../__testUtils__';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const CHANNEL = 'promotions:component:default/shop';

describe.each(databases.eachSupportedId())(
  'signals to the open Promotions tab on %s',
  databaseId => {
    async function start() {
      const published: SignalPayload[] = [];
      const signals = createServiceFactory({
        service: signalsServiceRef,
        deps: {},
        factory: () => ({
          publish: async (signal: SignalPayload) => {
            published.push(signal);
          },
        }),
      });
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
        features: [signals],
      });
      await backend.ready();
      /** The signals sent once the backend had time to send them. */
      const sent = async () => {
        await sleep(300);
        return published.splice(0);
      };
      return { ...backend, dir, sent };
    }

    it('signals a refresh that changed the entity, and none that changed nothing', async () => {
      const { dir, refresh, sent } = await start();
      // The first state of an entity is no change of one: the page was waiting for it anyway.
      expect(await sent()).toEqual([]);
      pushToBranch(
        dir,
        'main',
        {
          'shop/overlays/staging/kustomization.yaml': shopOverlay(
            'staging',
            '1.3.0',
          ),
        },
        'Promote shop 1.3.0 to staging',
      );
      await refresh();
      expect(await sent()).toEqual([
        {
          recipients: { type: 'broadcast' },
          channel: CHANNEL,
          message: { change: 'state' },
        },
      ]);
      await refresh();
      expect(await sent()).toEqual([]);
    });

    it('signals a promotion opened, decided and closed, and no judgement that came out the same', async () => {
      const { as, sync, sent } = await start();
      const created = await as('ana').promote({ to: 'staging' });
      expect(created.status).toBe(201);
      const signalled = await sent();
      expect(signalled.length).toBeGreaterThan(0);
      expect(signalled).toContainEqual({
        recipients: { type: 'broadcast' },
        channel: CHANNEL,
        message: { change: 'promotion' },
      });
      // Nothing to say: no signal carries anything but the kind of change.
      expect(
        signalled.every(
          s => s.channel === CHANNEL && s.message.change === 'promotion',
        ),
      ).toBe(true);
      await sync();
      expect(await sent()).toEqual([]);
      const approved = await as('ben').act(created.body.id, 'approve', {
        comment: 'Looks right',
      });
      expect(approved.status).toBe(200);
      expect(await sent()).toContainEqual(
        expect.objectContaining({ message: { change: 'promotion' } }),
      );
      const closed = await as('ana').act(created.body.id, 'close', {
        reason: 'Not now',
      });
      expect(closed.status).toBe(200);
      expect(await sent()).toContainEqual(
        expect.objectContaining({ message: { change: 'promotion' } }),
      );
    });
  },
);
