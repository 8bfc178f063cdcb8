import { TestDatabases } from '@backstage/backend-test-utils';
import { JsonObject } from '@backstage/types';
import { EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import {
  appendCommit,
  createGitFixture,
  shopDeployment,
  shopHistory,
  shopOverlay,
} from '@internal/promotions-fixtures';
import { GithubSimulator } from '@internal/github-simulator';
import {
  component,
  mergePullRequest,
  startGithubSimulator,
  startPromotionsBackend,
  stopGithubSimulators,
} from './__testUtils__';

// Every request runs git behind a local HTTP server, and rate-limit tests wait for real.
jest.setTimeout(30_000);
const TOKEN = 'ghs_simulated';

const shop = component('shop', {
  'gitops-promotions/repository': 'gitops',
  'gitops-promotions/path': 'shop/overlays/{env}',
});

afterEach(stopGithubSimulators);

async function startSimulator(dir: string) {
  return startGithubSimulator({
    repoDir: dir,
    owner: 'acme',
    repo: 'gitops',
    token: TOKEN,
  });
}

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

/** A backend of its own reading the repository through one provider. */
async function start(
  repositories: JsonObject[],
  integrations: JsonObject = {},
) {
  const { refresh, get } = await startPromotionsBackend({
    knex: await databases.init('SQLITE_3'),
    entities: [shop],
    config: { integrations, promotions: { repositories } },
  });
  return {
    refresh: () => refresh(),
    get: async (): Promise<EntityPromotions> => (await get('shop')).body,
  };
}

/** The same repository read through the git provider and, from the simulator, the github one. */
async function bothProviders(dir: string, simulator: GithubSimulator) {
  const viaGithub = await start(
    [
      {
        id: 'gitops',
        provider: 'github',
        url: 'https://github.example.com/acme/gitops',
        paths: [
          '{entity.metadata.name}/**',
          'charts/{entity.metadata.name}/**',
        ],
      },
    ],
    {
      github: [
        {
          host: 'github.example.com',
          apiBaseUrl: simulator.apiBaseUrl,
          token: TOKEN,
        },
      ],
    },
  );
  const viaGit = await start([
    {
      id: 'gitops',
      provider: 'git',
      url: dir,
      paths: ['{entity.metadata.name}/**', 'charts/{entity.metadata.name}/**'],
    },
  ]);
  return { viaGit, viaGithub };
}

describe('the git and github providers', () => {
  it('give identical answers for the same repository, through new commits, a base change and a merged pull request', async () => {
    const dir = createGitFixture(shopHistory);
    const simulator = await startSimulator(dir);
    const { viaGit, viaGithub } = await bothProviders(dir, simulator);

    const answers = async () => {
      await Promise.all([viaGit.refresh(), viaGithub.refresh()]);
      const [expected, actual] = [await viaGit.get(), await viaGithub.get()];
      expect(actual.asOf).not.toBeNull();
      expect({ ...actual, asOf: null }).toEqual({ ...expected, asOf: null });
      return actual;
    };

    const first = await answers();
    const [dev, staging, prod] = first.environments;
    expect(dev.desired).toMatchObject({
      version: '1.2.0',
      images: [{ name: 'ghcr.io/acme/shop', tag: '1.2.0', digest: null }],
      lastChange: {
        author: 'Ben Okafor',
        at: '2026-10-20T09:00:00.000Z',
        pullRequest: 7,
      },
    });
    expect(staging.desired.lastChange).toMatchObject({
      author: 'Chen Wei',
      pullRequest: 5,
    });
    expect(staging.drift).toEqual([
      expect.objectContaining({ kind: 'behind', upstream: 'dev', versions: 1 }),
    ]);
    expect(prod.drift.map(d => d.kind)).toEqual(['behind', 'config']);

    appendCommit(dir, {
      author: 'Chen Wei',
      date: '2026-10-22T09:00:00Z',
      message: 'Promote shop 1.2.0 to staging (#9)',
      files: {
        'shop/overlays/staging/kustomization.yaml': shopOverlay(
          'staging',
          '1.2.0',
        ),
      },
    });
    const second = await answers();
    expect(second.environments[1].desired.lastChange).toMatchObject({
      pullRequest: 9,
    });
    expect(second.environments[2].drift[0]).toMatchObject({
      kind: 'behind',
      upstream: 'staging',
      versions: 2,
    });

    appendCommit(dir, {
      author: 'Ana Lima',
      date: '2026-10-25T09:00:00Z',
      message: 'Grow the cache everywhere (#10)',
      files: { 'shop/base/deployment.yaml': shopDeployment('1024kb') },
    });
    const third = await answers();
    expect(
      third.environments.map(e => e.desired.lastChange?.pullRequest),
    ).toEqual([10, 10, 10]);

    mergePullRequest(dir, 11, {
      'shop/overlays/prod/kustomization.yaml': `${shopOverlay(
        'prod',
        '1.2.0',
      )}patches:\n  - path: cache.yaml\n`,
    });
    const fourth = await answers();
    expect(fourth.environments[2].desired.version).toBe('1.2.0');
  });
});

describe('a refresh through the github provider', () => {
  it('costs a few requests cold, one when nothing changed, and three after a one-file change, with the answers of the git provider', async () => {
    const dir = createGitFixture(shopHistory);
    const simulator = await startSimulator(dir);
    const { viaGit, viaGithub } = await bothProviders(dir, simulator);
    const sameAnswers = async () => {
      const [expected, actual] = [await viaGit.get(), await viaGithub.get()];
      expect(actual.asOf).not.toBeNull();
      expect({ ...actual, asOf: null }).toEqual({ ...expected, asOf: null });
    };
    const measure = async (label: string) => {
      simulator.resetCounts();
      await Promise.all([viaGithub.refresh(), viaGit.refresh()]);
      const counts = simulator.countsByOperation();
      // eslint-disable-next-line no-console
      console.log(
        `github provider, ${label}: ${simulator.count()} requests ${JSON.stringify(
          counts,
        )}`,
      );
      return counts;
    };

    const cold = await measure('cold refresh');
    // The head and its commit once; then one tree per commit read (older ones for the version
    // timelines, whose commit details come with the histories), and never anything twice.
    expect(cold['git/get-ref']).toBe(1);
    expect(cold['git/get-commit']).toBe(1);
    expect(cold['git/get-tree']).toBeLessThanOrEqual(shopHistory.length);
    // Every environment's history and timeline comes from one listing of the branch's commits.
    expect(cold['repos/list-commits']).toBe(1);
    const paths = simulator.requests.map(r => r.path);
    expect(new Set(paths).size).toBe(paths.length);
    await sameAnswers();

    const unchanged = await measure('unchanged refresh');
    expect(unchanged).toEqual({ 'git/get-ref': 1 });
    expect(simulator.requests[0].status).toBe(304);
    await sameAnswers();

    appendCommit(dir, {
      author: 'Chen Wei',
      date: '2026-10-22T09:00:00Z',
      message: 'Promote shop 1.2.0 to staging (#9)',
      files: {
        'shop/overlays/staging/kustomization.yaml': shopOverlay(
          'staging',
          '1.2.0',
        ),
      },
    });
    // The new head, its commit, its tree and the one changed blob; every history follows from
    // the previous refresh's, since the new commit's only parent is the previous head.
    const changed = await measure('one environment file changed');
    // The head, what changed since the last one (its tree told from that), and the new blob.
    expect(changed).toEqual({
      'git/get-ref': 1,
      'repos/compare-commits-with-basehead': 1,
      'git/get-blob': 1,
    });
    await sameAnswers();
  });

  describe('fault: GitHub failing during a refresh', () => {
    it('keeps serving the last known state, with its age and the reason, while GitHub fails', async () => {
      const dir = createGitFixture(shopHistory);
      const simulator = await startSimulator(dir);
      const backend = await start(
        [
          {
            id: 'gitops',
            provider: 'github',
            url: 'https://github.example.com/acme/gitops',
            paths: [
              '{entity.metadata.name}/**',
              'charts/{entity.metadata.name}/**',
            ],
          },
        ],
        {
          github: [
            {
              host: 'github.example.com',
              apiBaseUrl: simulator.apiBaseUrl,
              token: TOKEN,
            },
          ],
        },
      );
      await backend.refresh();
      const known = await backend.get();
      expect(known.environments).toHaveLength(3);

      // The default policy retries three times with backoff; the limit makes failing quick instead.
      simulator.limitRate('primary', 3600);
      await backend.refresh();
      const stale = await backend.get();
      expect(stale.environments).toEqual(known.environments);
      expect(stale.asOf).toBe(known.asOf);
      expect(stale.error?.message).toMatch(
        /^Repository gitops could not be read: GitHub at github\.example\.com is rate limited until \d{4}-/,
      );
    });
  });
});

describe('versions of any shape, through both providers', () => {
  it('orders 3.0 and 2.0 with no history to tell, and says 47-orange differs from 48-blue', async () => {
    // Laid out in one commit, so that no environment's history tells which version came first.
    const dir = createGitFixture([
      {
        author: 'Ana Lima',
        date: '2026-11-01T09:00:00Z',
        message: 'Lay out shop',
        files: {
          'shop/base/deployment.yaml': shopDeployment('512kb'),
          'shop/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
          'shop/overlays/dev/kustomization.yaml': shopOverlay('dev', '3.0'),
          'shop/overlays/staging/kustomization.yaml': shopOverlay(
            'staging',
            '2.0',
          ),
          'shop/overlays/prod/kustomization.yaml': shopOverlay('prod', '3.0'),
        },
      },
    ]);
    const simulator = await startSimulator(dir);
    const { viaGit, viaGithub } = await bothProviders(dir, simulator);
    const answers = async () => {
      await Promise.all([viaGit.refresh(), viaGithub.refresh()]);
      const [expected, actual] = [await viaGit.get(), await viaGithub.get()];
      expect(actual.asOf).not.toBeNull();
      expect({ ...actual, asOf: null }).toEqual({ ...expected, asOf: null });
      return actual.environments.map(env => ({
        name: env.name,
        version: env.desired.version,
        drift: env.drift,
      }));
    };
    const unknownHistory = { versions: null, commits: null, since: null };

    expect(await answers()).toEqual([
      { name: 'dev', version: '3.0', drift: [] },
      {
        name: 'staging',
        version: '2.0',
        drift: [
          {
            kind: 'behind',
            upstream: 'dev',
            upstreamVersion: '3.0',
            version: '2.0',
            ...unknownHistory,
            summary: 'Runs 2.0, behind dev (3.0)',
          },
        ],
      },
      {
        name: 'prod',
        version: '3.0',
        drift: [
          {
            kind: 'ahead',
            upstream: 'staging',
            upstreamVersion: '2.0',
            version: '3.0',
            ...unknownHistory,
            summary: 'Runs 3.0, ahead of staging (2.0)',
          },
        ],
      },
    ]);

    // Neither environment ever ran the other's version, so nothing tells which is newer.
    appendCommit(dir, {
      author: 'Ben Okafor',
      date: '2026-11-02T09:00:00Z',
      message: 'Deploy the blue and orange builds',
      files: {
        'shop/overlays/staging/kustomization.yaml': shopOverlay(
          'staging',
          '48-blue',
        ),
        'shop/overlays/prod/kustomization.yaml': shopOverlay(
          'prod',
          '47-orange',
        ),
      },
    });
    expect(await answers()).toEqual([
      { name: 'dev', version: '3.0', drift: [] },
      {
        name: 'staging',
        version: '48-blue',
        drift: [
          {
            kind: 'differs',
            upstream: 'dev',
            upstreamVersion: '3.0',
            version: '48-blue',
            ...unknownHistory,
            summary: 'Runs 48-blue, dev runs 3.0, order unknown',
          },
        ],
      },
      {
        name: 'prod',
        version: '47-orange',
        drift: [
          {
            kind: 'differs',
            upstream: 'staging',
            upstreamVersion: '48-blue',
            version: '47-orange',
            ...unknownHistory,
            summary: 'Runs 47-orange, staging runs 48-blue, order unknown',
          },
        ],
      },
    ]);
  });
});
