import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { BackendFeature } from '@backstage/backend-plugin-api';
import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import eventsPlugin from '@backstage/plugin-events-backend';
import { eventsServiceFactory } from '@backstage/plugin-events-node';
import { shopHistory, shopOverlay } from '@internal/promotions-fixtures';
import {
  bareRepository,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../__testUtils__';
import { WebhookDeliveries } from './WebhookDeliveries';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const SECRET = 'the webhook secret of the tests';
const BOT = 'bot-token-0123456789';
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

afterEach(stopGithubSimulators);

/** The GitHub events modules, required by path as in webhooks.test.ts (Jest cannot `import()`). */
function githubEventsModules(): BackendFeature[] {
  const dist = path.dirname(
    require.resolve('@backstage/plugin-events-backend-module-github'),
  );
  return ['eventsModuleGithubEventRouter', 'eventsModuleGithubWebhook'].map(
    name =>
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(path.join(dist, 'service', `${name}.cjs.js`)).default,
  );
}

/** A delivery as GitHub sent it: its headers and its body, byte for byte. */
interface RecordedDelivery {
  headers: Record<string, string>;
  body: string;
}

/** A receiver that keeps what GitHub delivers, to send it again where a test wants. */
async function startRecorder() {
  const recorded: RecordedDelivery[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', chunk => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (name.startsWith('x-') || name === 'content-type')
          headers[name] = String(value);
      }
      recorded.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    recorded,
    stop: () => new Promise(resolve => server.close(resolve)),
  };
}

/** Two replicas of the promotions backend sharing one database, each with its own events backend. */
async function startReplicas(databaseId: TestDatabaseId) {
  const simulator = await startGithubSimulator({
    repoDir: bareRepository(shopHistory),
    owner: 'acme',
    repo: 'gitops',
    users: { [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' } },
    defaultBranch: 'main',
  });
  const knex = await databases.init(databaseId);
  const replica = async () =>
    startWorkflowBackend({
      databases,
      databaseId,
      knex,
      // The events backend keeps its own tables, as each plugin does in a real deployment.
      otherKnex: await databases.init(databaseId),
      repositories: [
        {
          id: 'gitops',
          provider: 'github',
          url: `${simulator.apiBaseUrl}/acme/gitops`,
          paths: ['{entity.metadata.name}/**'],
        },
      ],
      integrations: {
        github: [
          {
            host: new URL(simulator.apiBaseUrl).host,
            apiBaseUrl: simulator.apiBaseUrl,
            token: BOT,
          },
        ],
      },
      features: [eventsPlugin, ...githubEventsModules(), eventsServiceFactory],
      config: {
        events: {
          useEventBus: 'never',
          modules: { github: { webhookSecret: SECRET } },
        },
      },
    });
  const replicas = [await replica(), await replica()];
  await replicas[0].ready();
  const urls = replicas.map(
    backend =>
      `http://localhost:${
        (backend.server.address() as AddressInfo).port
      }/api/events/http/github`,
  );
  const staging = async (index: number) => {
    const res = await replicas[index].as('ana').get(replicas[index].entityPath);
    return res.body.environments.find((e: any) => e.name === 'staging')?.desired
      ?.version;
  };
  /** Pushes a new staging version and answers the push delivery GitHub made, unsent. */
  const push = async (version: string): Promise<RecordedDelivery> => {
    const recorder = await startRecorder();
    simulator.deliverWebhooks(recorder.url, SECRET);
    await simulator.pushCommit(
      'main',
      {
        'shop/overlays/staging/kustomization.yaml': shopOverlay(
          'staging',
          version,
        ),
      },
      `Promote shop ${version} to staging`,
    );
    await simulator.settled();
    await recorder.stop();
    expect(recorder.recorded.map(d => d.headers['x-github-event'])).toEqual([
      'push',
    ]);
    return recorder.recorded[0];
  };
  const deliver = async (index: number, delivery: RecordedDelivery) => {
    const response = await fetch(urls[index], {
      method: 'POST',
      headers: delivery.headers,
      body: delivery.body,
    });
    return response.status;
  };
  /** Waits until both replicas show the version, then a while for any later refresh. */
  const settle = async (version: string) => {
    for (let i = 0; i < 200; i++) {
      if ((await staging(0)) === version && (await staging(1)) === version)
        break;
      await sleep(50);
    }
    expect([await staging(0), await staging(1)]).toEqual([version, version]);
    await sleep(1500);
  };
  /** Refreshes read the branch's head first: one such request is one refresh. */
  const refreshes = () => simulator.count('git/get-ref');
  return { simulator, knex, push, deliver, settle, refreshes };
}

describe('fault: the same webhook delivery reaching two replicas', () => {
  it.each(databases.eachSupportedId())(
    'refreshes once for a delivery both replicas receive, and again for a delivery of its own, on %s',
    async databaseId => {
      const { simulator, knex, push, deliver, settle, refreshes } =
        await startReplicas(databaseId);
      const delivery = await push('1.3.0');
      simulator.resetCounts();
      // A load balancer sent GitHub's delivery to one replica and its redelivery to the other.
      expect(
        await Promise.all([deliver(0, delivery), deliver(1, delivery)]),
      ).toEqual([202, 202]);
      await settle('1.3.0');
      expect(refreshes()).toBe(1);
      expect(
        await knex('promotions_webhook_deliveries').pluck('delivery_id'),
      ).toEqual([delivery.headers['x-github-delivery']]);

      // Another delivery, even of the same push, is another request to refresh.
      const next = await push('1.4.0');
      expect(next.headers['x-github-delivery']).not.toBe(
        delivery.headers['x-github-delivery'],
      );
      simulator.resetCounts();
      expect(await deliver(1, next)).toBe(202);
      await settle('1.4.0');
      expect(refreshes()).toBe(1);
    },
  );
});

describe('webhook deliveries taken', () => {
  it.each(databases.eachSupportedId())(
    'takes a delivery once, and forgets it after a day, on %s',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await knex.migrate.latest({
        directory: path.resolve(__dirname, '../../migrations'),
      });
      let now = new Date('2026-12-01T09:00:00Z');
      const deliveries = new WebhookDeliveries(knex, () => now);
      expect(await deliveries.take('d-1')).toBe(true);
      expect(await deliveries.take('d-1')).toBe(false);
      expect(await deliveries.take('d-2')).toBe(true);
      now = new Date('2026-12-02T08:59:00Z');
      expect(await deliveries.take('d-1')).toBe(false);
      now = new Date('2026-12-02T09:30:00Z');
      expect(await deliveries.take('d-3')).toBe(true);
      expect(
        (
          await knex('promotions_webhook_deliveries').pluck('delivery_id')
        ).sort(),
      ).toEqual(['d-3']);
      expect(await deliveries.take('d-1')).toBe(true);
    },
  );
});
