import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { GithubOpenApi } from '@internal/github-simulator';
import { GithubSimulator } from '@internal/github-simulator';
import {
  appendCommit,
  createGitFixture,
  shopHistory,
  shopOverlay,
} from '@internal/promotions-fixtures';
import { GitRepository } from '../git/GitRepository';
import { GithubRepository, GithubRequestPolicy } from './GithubRepository';

const logger = mockServices.logger.mock();
// Every request runs git behind a local HTTP server, and rate-limit tests wait for real.
jest.setTimeout(30_000);
const HOST = 'ghe.example.com';
const TOKEN = 'ghe-token';

/** The commit after the fixture's history: shop 1.2.0 promoted to staging. */
const promoteShopToStaging = (dir: string) =>
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

describe('GithubRepository', () => {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-cache-'));
  const simulators: GithubSimulator[] = [];

  afterEach(async () => {
    const problems = simulators.flatMap(simulator => simulator.problems);
    await Promise.all(simulators.splice(0).map(simulator => simulator.stop()));
    if (problems.length > 0) {
      throw new Error(`the simulator saw problems:\n${problems.join('\n')}`);
    }
  });

  async function setup(
    options: {
      token?: string;
      policy?: Partial<GithubRequestPolicy>;
      branch?: string;
    } = {},
  ) {
    const dir = createGitFixture(shopHistory);
    const simulator = await GithubSimulator.start({
      repoDir: dir,
      owner: 'acme',
      repo: 'gitops',
      basePath: '/api/v3',
      token: TOKEN,
    });
    simulators.push(simulator);
    const integrations = ScmIntegrations.fromConfig(
      new ConfigReader({
        integrations: {
          github: [
            {
              host: HOST,
              apiBaseUrl: simulator.apiBaseUrl,
              token: options.token ?? TOKEN,
            },
          ],
        },
      }),
    );
    const github = new GithubRepository({
      id: 'gitops',
      url: `https://${HOST}/acme/gitops`,
      branch: options.branch ?? 'main',
      integrations,
      logger,
      requestPolicy: {
        backoffMs: 10,
        requestTimeoutMs: 500,
        maxRateLimitWaitMs: 10_000,
        ...options.policy,
      },
    });
    const git = new GitRepository({
      id: 'gitops',
      url: dir,
      branch: 'main',
      cacheDir,
      logger,
    });
    return { dir, simulator, github, git };
  }

  it('reads the same tree, files, older trees and histories as the git provider', async () => {
    const { github, git } = await setup();
    const [expected, actual] = [await git.snapshot(), await github.snapshot()];
    expect(actual.commit).toBe(expected.commit);
    expect(new Map(actual.files)).toEqual(new Map(expected.files));
    for (const file of expected.files.keys()) {
      expect((await actual.readFile(file))!.toString()).toBe(
        (await expected.readFile(file))!.toString(),
      );
    }
    expect(await actual.readFile('shop/missing.yaml')).toBeUndefined();

    const cases: Array<[string[], number]> = [
      [['shop'], 10],
      [['shop/overlays/dev'], 1],
      [['shop/overlays/dev'], 2],
      [['shop/overlays/dev/kustomization.yaml', 'shop/base'], 10],
      [['shop/overlays/staging', 'shop/overlays/dev'], 3],
      [['shop/overlays/prod/cache.yaml'], 5],
      [['missing/path'], 5],
      [[], 5],
    ];
    for (const [paths, limit] of cases) {
      expect(await github.history(actual.commit, paths, limit)).toEqual(
        await git.history(expected.commit, paths, limit),
      );
    }

    const [, , oldest] = await git.history(
      expected.commit,
      ['shop/overlays/dev'],
      10,
    );
    const [oldExpected, oldActual] = [
      await git.snapshotAt(oldest.sha),
      await github.snapshotAt(oldest.sha),
    ];
    expect(new Map(oldActual.files)).toEqual(new Map(oldExpected.files));
    expect(
      (await oldActual.readFile(
        'shop/overlays/dev/kustomization.yaml',
      ))!.toString(),
    ).toBe(shopOverlay('dev', '1.0.0'));
    await expect(github.snapshotAt('main')).rejects.toThrow(
      'is not a commit id',
    );
  });

  it('costs one conditional request, answered 304, when the branch did not change', async () => {
    const { simulator, github } = await setup();
    const first = await github.snapshot();
    simulator.resetCounts();
    const before = github.requestCount;

    const second = await github.snapshot();
    expect(second).toBe(first);
    expect(simulator.requests).toEqual([
      expect.objectContaining({
        operationId: 'git/get-ref',
        status: 304,
        ifNoneMatch: expect.stringMatching(/^W\/"/),
      }),
    ]);
    expect(github.requestCount - before).toBe(1);
  });

  it('reads only the blob that changed after a one-file commit', async () => {
    const { dir, simulator, github } = await setup();
    const first = await github.snapshot();
    for (const file of first.files.keys()) await first.readFile(file);

    promoteShopToStaging(dir);
    simulator.resetCounts();
    const second = await github.snapshot();
    for (const file of second.files.keys()) await second.readFile(file);

    const changed = second.files.get(
      'shop/overlays/staging/kustomization.yaml',
    )!.oid;
    expect(simulator.countsByOperation()).toEqual({
      'git/get-ref': 1,
      'git/get-commit': 1,
      'git/get-tree': 1,
      'git/get-blob': 1,
    });
    expect(
      simulator.requests.find(r => r.operationId === 'git/get-blob')!.path,
    ).toContain(changed);
    expect(
      (await second.readFile(
        'shop/overlays/staging/kustomization.yaml',
      ))!.toString(),
    ).toBe(shopOverlay('staging', '1.2.0'));
  });

  it("derives histories below a new commit from its parent's, without asking GitHub again", async () => {
    const { dir, simulator, github, git } = await setup();
    const paths = [
      ['shop/overlays/dev'],
      ['shop/overlays/staging/kustomization.yaml'],
      ['shop/base', 'shop/overlays/prod'],
      ['shop'],
    ];
    const before = await github.snapshot();
    for (const p of paths) await github.history(before.commit, p, 30);

    promoteShopToStaging(dir);
    const after = await github.snapshot();
    const expected = await git.snapshot();
    simulator.resetCounts();
    for (const p of paths) {
      for (const limit of [1, 3, 30]) {
        expect(await github.history(after.commit, p, limit)).toEqual(
          await git.history(expected.commit, p, limit),
        );
      }
    }
    expect(simulator.count()).toBe(0);
  });

  it('compares a new head with the one read before it, and reads history since, without asking GitHub', async () => {
    const { dir, simulator, github, git } = await setup();
    const before = await github.snapshot();
    const paths = ['shop/overlays/staging'];
    await github.history(before.commit, paths, 30);
    promoteShopToStaging(dir);
    const after = await github.snapshot();
    await git.snapshot();
    simulator.resetCounts();
    expect(await github.compare(before.commit, after.commit)).toEqual(
      await git.compare(before.commit, after.commit),
    );
    expect(
      await github.history(after.commit, paths, 30, { since: before.commit }),
    ).toEqual(
      await git.history(after.commit, paths, 30, { since: before.commit }),
    );
    expect(simulator.count()).toBe(0);

    // Not a line of known commits (here, backwards): GitHub is asked.
    expect(await github.compare(after.commit, before.commit)).toMatchObject({
      commits: [],
      behindBy: 1,
    });
    expect(Object.keys(simulator.countsByOperation())).toEqual([
      'repos/compare-commits-with-basehead',
    ]);
  });

  it('walks subtrees when GitHub truncates a recursive tree', async () => {
    const { simulator, github, git } = await setup();
    simulator.truncateTreesOver(5);
    const [expected, actual] = [await git.snapshot(), await github.snapshot()];
    expect(new Map(actual.files)).toEqual(new Map(expected.files));
    // The root and shop/overlays are both too big at 5 entries, so each is read level by level.
    const trees = simulator.requests
      .filter(r => r.operationId === 'git/get-tree')
      .map(r => r.path);
    expect(
      trees.filter(p => !p.includes('recursive')).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it('waits until a primary rate limit resets, as x-ratelimit-reset says, then succeeds', async () => {
    const { simulator, github } = await setup();
    const started = Date.now();
    simulator.limitRate('primary', 1);
    const snapshot = await github.snapshot();
    expect(snapshot.files.size).toBe(6);
    const limited = simulator.requests.filter(r => r.status === 403);
    // Told when the limit resets, it asked again only after that, not in between.
    expect(limited).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('waits as long as retry-after says on a secondary rate limit (429), then succeeds', async () => {
    const { simulator, github } = await setup();
    simulator.limitRate('secondary', 1);
    const started = Date.now();
    await github.snapshot();
    expect(simulator.count(undefined, 429)).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('fails at once with the reset time when a rate limit lasts longer than it may wait', async () => {
    const { simulator, github } = await setup({
      policy: { maxRateLimitWaitMs: 60_000 },
    });
    simulator.limitRate('primary', 3600);
    const started = Date.now();
    await expect(github.snapshot()).rejects.toThrow(
      /GitHub at ghe\.example\.com is rate limited until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z; not waiting \d+ s \(at most 60 s\)/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(simulator.count()).toBe(1);
    // Until the reset, nothing more is sent to be refused.
    await expect(github.snapshot()).rejects.toThrow('rate limited until');
    expect(simulator.count()).toBe(1);
  });

  it('retries server errors and timeouts with backoff, then succeeds', async () => {
    const { simulator, github } = await setup();
    simulator.failNext(2, 500, 'git/get-ref');
    simulator.hangNext(1, 'git/get-tree');
    simulator.failNext(1, 503, 'git/get-commit');
    const snapshot = await github.snapshot();
    expect(snapshot.files.size).toBe(6);
    expect(simulator.count('git/get-ref')).toBe(3);
    expect(simulator.count('git/get-commit')).toBe(2);
    expect(simulator.count('git/get-tree')).toBe(2);
    expect(
      simulator.requests.find(r => r.operationId === 'git/get-tree')!.status,
    ).toBeUndefined();
  });

  it('fails with the reason after a bounded number of attempts when GitHub keeps failing', async () => {
    const { simulator, github } = await setup({ policy: { retries: 3 } });
    simulator.failNext(4, 500);
    await expect(github.snapshot()).rejects.toThrow(
      'Repository gitops (acme/gitops on ghe.example.com): reading branch "main" failed: ghe.example.com answered 500 after 4 attempts',
    );
    expect(simulator.count()).toBe(4);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(
        /GitHub request GET http:\/\/127\.0\.0\.1:\d+\/api\/v3\/repos\/acme\/gitops\/git\/ref\/heads%2Fmain failed after 4 attempts: 500 Server Error/,
      ),
    );

    simulator.hangNext(4);
    await expect(github.snapshot()).rejects.toThrow(
      'reading branch "main" failed: could not reach ghe.example.com',
    );
  });

  it('says only that the configured host could not be reached, keeping the network error in the log', async () => {
    const { simulator, github } = await setup({ policy: { retries: 1 } });
    await simulator.stop();
    const failure = await github.snapshot().then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toBe(
      'Repository gitops (acme/gitops on ghe.example.com): reading branch "main" failed: could not reach ghe.example.com',
    );
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/127\.0\.0\.1:\d+\/.* failed after 2 attempts/),
    );
  });

  it("sends the integration's token to the integration's apiBaseUrl (GitHub Enterprise)", async () => {
    const { simulator, github } = await setup();
    const snapshot = await github.snapshot();
    await snapshot.readFile('shop/base/deployment.yaml');
    await github.history(snapshot.commit, ['shop'], 5);
    expect(simulator.count()).toBeGreaterThanOrEqual(5);
    for (const request of simulator.requests) {
      expect(request.authorization).toBe(`token ${TOKEN}`);
      expect(request.path).toMatch(/^\/api\/v3\/repos\/acme\/gitops\//);
    }
  });

  it('explains rejected credentials, a missing branch and a host without an integration', async () => {
    const wrongToken = await setup({ token: 'expired' });
    await expect(wrongToken.github.snapshot()).rejects.toThrow(
      'GitHub rejected the credentials of the integration for ghe.example.com: Bad credentials',
    );
    const missingBranch = await setup({ branch: 'nope' });
    await expect(missingBranch.github.snapshot()).rejects.toThrow(
      'branch "nope" not found, or the credentials for ghe.example.com cannot read it',
    );

    const integrations = ScmIntegrations.fromConfig(new ConfigReader({}));
    expect(
      () =>
        new GithubRepository({
          id: 'elsewhere',
          url: 'https://git.example.org/acme/gitops',
          branch: 'main',
          integrations,
          logger,
        }),
    ).toThrow(
      'Repository elsewhere: there is no integrations.github entry for the host git.example.org; add one with its apiBaseUrl and a token or GitHub App',
    );
    expect(
      () =>
        new GithubRepository({
          id: 'odd',
          url: 'https://github.com/acme',
          branch: 'main',
          integrations,
          logger,
        }),
    ).toThrow('expected https://<host>/<owner>/<repo>');
  });
});

describe('the GitHub simulator', () => {
  const openapi = GithubOpenApi.load();

  it("refuses answers that do not match GitHub's OpenAPI description", () => {
    const tree = '/repos/{owner}/{repo}/git/trees/{tree_sha}';
    expect(
      openapi.check(tree, 'GET', 200, {
        sha: 'a',
        url: 'https://x.test/t',
        tree: [],
      }).problems,
    ).toEqual([
      expect.stringContaining("must have required property 'truncated'"),
    ]);
    expect(
      openapi.check(tree, 'GET', 200, {
        sha: 'a',
        url: 'not a uri',
        tree: [],
        truncated: false,
      }).problems,
    ).toEqual([expect.stringContaining('/url must match format "uri"')]);
    expect(openapi.check(tree, 'GET', 418, {}).problems).toEqual([
      'git/get-tree answered 418, which it is not documented to answer',
    ]);
    expect(openapi.check(tree, 'GET', 304, { sha: 'a' }).problems).toEqual([
      'git/get-tree answered 304 with a body, but it has none',
    ]);
    expect(
      openapi.check(tree, 'GET', 404, { message: 'Not Found' }).problems,
    ).toEqual([]);
    expect(openapi.check(tree, 'GET', 429, { message: 42 }).problems).toEqual([
      expect.stringContaining('/message must be string'),
    ]);
  });
});
