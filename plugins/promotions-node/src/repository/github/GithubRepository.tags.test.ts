import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { GithubSimulator } from '@internal/github-simulator';
import { createGitFixture, shopHistory } from '@internal/promotions-fixtures';
import { GitRepository } from '../git/GitRepository';
import { GithubRepository } from './GithubRepository';

const logger = mockServices.logger.mock();
// Rate-limit tests wait for real.
jest.setTimeout(30_000);
const HOST = 'ghe.example.com';
const TOKEN = 'ghe-token';

/** Runs git in the served repository as its maintainer would, and returns what it printed. */
const gitIn =
  (dir: string) =>
  (...args: string[]) =>
    execFileSync(
      'git',
      ['-c', 'user.name=Ana', '-c', 'user.email=a@example.com', ...args],
      { cwd: dir, stdio: 'pipe' },
    )
      .toString()
      .trim();

const byName = (tags: Array<{ name: string; commit: string }>) =>
  [...tags].sort((a, b) => a.name.localeCompare(b.name));

describe('GithubRepository tags', () => {
  const simulators: GithubSimulator[] = [];

  afterEach(async () => {
    const problems = simulators.flatMap(simulator => simulator.problems);
    await Promise.all(simulators.splice(0).map(simulator => simulator.stop()));
    if (problems.length > 0) {
      throw new Error(`the simulator saw problems:\n${problems.join('\n')}`);
    }
  });

  async function setup() {
    const dir = createGitFixture(shopHistory);
    const simulator = await GithubSimulator.start({
      repoDir: dir,
      owner: 'acme',
      repo: 'gitops',
      basePath: '/api/v3',
      token: TOKEN,
    });
    simulators.push(simulator);
    const github = new GithubRepository({
      id: 'gitops',
      url: `https://${HOST}/acme/gitops`,
      branch: 'main',
      integrations: ScmIntegrations.fromConfig(
        new ConfigReader({
          integrations: {
            github: [
              { host: HOST, apiBaseUrl: simulator.apiBaseUrl, token: TOKEN },
            ],
          },
        }),
      ),
      logger,
      requestPolicy: { backoffMs: 10, requestTimeoutMs: 500 },
    });
    const git = gitIn(dir);
    const [head, previous] = git('rev-list', 'main').split('\n');
    return { dir, simulator, github, git, head, previous };
  }

  /** Creates many tags on one commit at once. */
  function createTags(dir: string, names: string[], commit: string) {
    execFileSync('git', ['update-ref', '--stdin'], {
      cwd: dir,
      input: names.map(name => `create refs/tags/${name} ${commit}\n`).join(''),
    });
  }

  it('lists lightweight and annotated tags with their commits, as the git provider does', async () => {
    const { dir, github, git, head, previous } = await setup();
    git('tag', 'v1.2.0-stage', previous);
    git('tag', '-a', '-m', 'Release 1.2.0', 'v1.2.0-prod', head);
    git('tag', '-a', '-m', 'The same release', 'shop-1.2.0', 'v1.2.0-prod');
    expect(git('rev-parse', 'refs/tags/v1.2.0-prod')).not.toBe(head);

    const tags = byName(await github.tags());
    expect(tags).toEqual([
      { name: 'shop-1.2.0', commit: head },
      { name: 'v1.2.0-prod', commit: head },
      { name: 'v1.2.0-stage', commit: previous },
    ]);
    const local = new GitRepository({
      id: 'gitops',
      url: dir,
      branch: 'main',
      cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-cache-')),
      logger,
    });
    expect(byName(await local.tags())).toEqual(tags);
  });

  it('costs one conditional request, answered 304, while the tags are unchanged, and sees a tag moved, deleted or created', async () => {
    const { simulator, github, git, head, previous } = await setup();
    git('tag', 'v1.0.0-prod', previous);
    git('tag', 'v1.1.0-prod', previous);
    expect(await github.tags()).toHaveLength(2);

    simulator.resetCounts();
    expect(await github.tags()).toHaveLength(2);
    expect(simulator.requests).toEqual([
      expect.objectContaining({
        operationId: 'repos/list-tags',
        status: 304,
        ifNoneMatch: expect.stringMatching(/^W\/"/),
      }),
    ]);

    git('tag', '-f', 'v1.0.0-prod', head);
    git('tag', '-d', 'v1.1.0-prod');
    git('tag', '-a', '-m', 'Release 1.2.0', 'v1.2.0-prod', head);
    expect(byName(await github.tags())).toEqual([
      { name: 'v1.0.0-prod', commit: head },
      { name: 'v1.2.0-prod', commit: head },
    ]);
  });

  it('follows pages of 100 until the limit, and no further', async () => {
    const { dir, simulator, github, head } = await setup();
    createTags(
      dir,
      Array.from({ length: 250 }, (_, i) => `build-${i}`),
      head,
    );

    simulator.resetCounts();
    const all = await github.tags();
    expect(new Set(all.map(tag => tag.name)).size).toBe(250);
    expect(simulator.requests.map(r => r.path)).toEqual([
      '/api/v3/repos/acme/gitops/tags?per_page=100&page=1',
      '/api/v3/repos/acme/gitops/tags?per_page=100&page=2',
      '/api/v3/repos/acme/gitops/tags?per_page=100&page=3',
    ]);

    simulator.resetCounts();
    expect(await github.tags({ limit: 120 })).toHaveLength(120);
    expect(simulator.count('repos/list-tags')).toBe(2);
    simulator.resetCounts();
    expect(await github.tags({ limit: 50 })).toHaveLength(50);
    expect(simulator.count('repos/list-tags')).toBe(1);
  });

  it('waits out a rate limit as it does for other reads', async () => {
    const { simulator, github, git, head } = await setup();
    git('tag', 'v1', head);
    simulator.limitRate('secondary', 1);
    const started = Date.now();
    expect(await github.tags()).toEqual([{ name: 'v1', commit: head }]);
    expect(simulator.count('repos/list-tags', 429)).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('leaves out a tag whose name a command line could take for an option', async () => {
    const { dir, github, head } = await setup();
    createTags(dir, ['-rf', 'v1'], head);
    expect(await github.tags()).toEqual([{ name: 'v1', commit: head }]);
  });
});
