import { AddressInfo } from 'node:net';
import crypto from 'node:crypto';
import path from 'node:path';
import { BackendFeature } from '@backstage/backend-plugin-api';
import { TestDatabases } from '@backstage/backend-test-utils';
import eventsPlugin from '@backstage/plugin-events-backend';
import { eventsServiceFactory } from '@backstage/plugin-events-node';
import { shopHistory, shopOverlay } from '@internal/promotions-fixtures';
import {
  bareRepository,
  startGithubSimulator,
  startWorkflowBackend,
  stopGithubSimulators,
} from '../__testUtils__';

jest.setTimeout(90_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const SECRET = 'the webhook secret of the tests';
const BOT = 'bot-token-0123456789';
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

afterEach(stopGithubSimulators);

/**
 * The two modules the GitHub events module's entry point loads with a dynamic `import()`, which
 * Jest cannot run: the same files, required by path (its exports map names only the entry).
 */
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

/**
 * The promotions backend beside the real events backend and its GitHub module, reading a
 * simulated GitHub; only a webhook refreshes (the scheduler runs nothing by itself).
 */
async function start() {
  const simulator = await startGithubSimulator({
    repoDir: bareRepository(shopHistory),
    owner: 'acme',
    repo: 'gitops',
    users: { [BOT]: { login: 'promotions-bot', id: 100, type: 'Bot' } },
    defaultBranch: 'main',
  });
  const backend = await startWorkflowBackend({
    databases,
    databaseId: 'SQLITE_3',
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
    // The events service plugins share in a backend, kept to this process.
    features: [eventsPlugin, ...githubEventsModules(), eventsServiceFactory],
    config: {
      events: {
        useEventBus: 'never',
        modules: { github: { webhookSecret: SECRET } },
      },
    },
  });
  await backend.ready();
  const { port } = backend.server.address() as AddressInfo;
  const url = `http://localhost:${port}/api/events/http/github`;
  const staging = async () => {
    const res = await backend.as('ana').get(backend.entityPath);
    return res.body.environments.find((e: any) => e.name === 'staging')?.desired
      ?.version;
  };
  /** Commits a new staging version on main, sending the push webhook, and waits for it. */
  const promoteOnGithub = async (version: string) => {
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
  };
  return { simulator, backend, url, staging, promoteOnGithub };
}

describe('GitHub webhooks through the events backend', () => {
  it('refreshes the repository at once on a signed push to its branch', async () => {
    const { simulator, url, staging, promoteOnGithub } = await start();
    expect(await staging()).toBe('1.1.0');
    simulator.deliverWebhooks(url, SECRET);
    await promoteOnGithub('1.3.0');
    expect(simulator.deliveries.map(d => [d.event, d.status])).toEqual([
      ['push', 202],
    ]);
    for (let i = 0; i < 100 && (await staging()) !== '1.3.0'; i++) {
      await sleep(50);
    }
    expect(await staging()).toBe('1.3.0');
  });

  it('follows a promotion at once when its pull request is merged on GitHub, without the scheduled sync', async () => {
    const { simulator, backend, url, staging } = await start();
    simulator.deliverWebhooks(url, SECRET);
    const created = await backend.as('ana').promote({ to: 'staging' });
    expect(created.status).toBe(201);
    const merged = await fetch(
      `${simulator.apiBaseUrl}/repos/acme/gitops/pulls/${created.body.pullRequest.number}/merge`,
      {
        method: 'PUT',
        headers: {
          authorization: `token ${BOT}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({}),
      },
    );
    expect(merged.status).toBe(200);
    await simulator.settled();
    expect(
      simulator.deliveries
        .filter(d => d.event === 'pull_request')
        .map(d => [d.action, d.status]),
    ).toEqual([
      ['opened', 202],
      ['closed', 202],
    ]);
    const promotion = async () =>
      (await backend.as('ana').get(`/promotions/${created.body.id}`)).body;
    for (let i = 0; i < 100 && (await promotion()).state !== 'merged'; i++) {
      await sleep(50);
    }
    expect(await promotion()).toMatchObject({
      state: 'merged',
      mergedCommit: simulator.pullRequests()[0].mergeCommitSha,
    });
    // The merge's push refreshed the repository too.
    for (let i = 0; i < 100 && (await staging()) !== '1.2.0'; i++) {
      await sleep(50);
    }
    expect(await staging()).toBe('1.2.0');
  });

  describe("hostile input: a webhook's signature", () => {
    it('refuses a forged or unsigned webhook, and refreshes nothing', async () => {
      const { simulator, url, staging, promoteOnGithub } = await start();
      // Signed with another secret.
      simulator.deliverWebhooks(url, 'a guessed secret');
      await promoteOnGithub('1.3.0');
      expect(simulator.deliveries.map(d => [d.event, d.status])).toEqual([
        ['push', 403],
      ]);
      const payload = JSON.stringify(simulator.deliveries[0].payload);
      const post = (headers: Record<string, string>) =>
        fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'push',
            'x-github-delivery': crypto.randomUUID(),
            ...headers,
          },
          body: payload,
        });
      // No signature at all.
      expect((await post({})).status).toBe(403);
      // A signature of GitHub's shape that signs nothing.
      expect(
        (await post({ 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }))
          .status,
      ).toBe(403);
      // The right signature of another body.
      const other = crypto
        .createHmac('sha256', SECRET)
        .update('{}')
        .digest('hex');
      expect(
        (await post({ 'x-hub-signature-256': `sha256=${other}` })).status,
      ).toBe(403);
      await sleep(1500);
      expect(await staging()).toBe('1.1.0');
    });
  });
});
