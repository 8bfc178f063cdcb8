import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import { GithubOpenApi } from '@internal/github-simulator';
import { ARCHIVE_DOWNLOAD, GithubSimulator } from '@internal/github-simulator';
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
    // The new tree is told from the comparison with the last head, not read whole again.
    expect(simulator.countsByOperation()).toEqual({
      'git/get-ref': 1,
      'repos/compare-commits-with-basehead': 1,
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

  /** Runs git in the fixture as a person would, dated so that commit order is stable. */
  function gitIn(dir: string, date: string) {
    return (...args: string[]) =>
      execFileSync('git', args, {
        cwd: dir,
        stdio: 'pipe',
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'Ana Lima',
          GIT_AUTHOR_EMAIL: 'ana@example.com',
          GIT_COMMITTER_NAME: 'Ana Lima',
          GIT_COMMITTER_EMAIL: 'ana@example.com',
          GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_DATE: date,
        },
      }).toString();
  }

  /** What `git log -- <paths>` itself answers: the judge of every history. */
  function gitLog(dir: string, commit: string, paths: string[], limit: number) {
    const out = gitIn(dir, '2026-01-01T00:00:00Z')(
      'log',
      `--max-count=${limit}`,
      '--format=%H',
      commit,
      '--',
      ...paths.map(p => `:(literal)${p}`),
    );
    return out.split('\n').filter(Boolean);
  }

  /** Every file and directory of a tree, and a path that is in none. */
  function everyPath(files: Iterable<string>): string[] {
    const all = new Set<string>(['missing', 'shop/overlays/gone']);
    for (const file of files) {
      const segments = file.split('/');
      for (let i = 1; i <= segments.length; i++) {
        all.add(segments.slice(0, i).join('/'));
      }
    }
    return [...all].sort();
  }

  it('answers the history of every path from one listing of commits, as git log does, across merges, renames and deletions', async () => {
    const { dir, simulator, github } = await setup();
    const at = (n: number) => gitIn(dir, `2026-11-0${n}T10:00:00Z`);
    at(1)('checkout', '-q', '-b', 'side');
    fs.writeFileSync(path.join(dir, 'shop/overlays/dev/extra.yaml'), 'a: 1\n');
    at(1)('add', '-A');
    at(1)('commit', '-q', '-m', 'Add a dev patch on a branch');
    at(2)('checkout', '-q', 'main');
    fs.appendFileSync(path.join(dir, 'shop/overlays/prod/cache.yaml'), '#\n');
    at(2)('commit', '-q', '-am', 'Touch the prod cache on main');
    at(3)('merge', '-q', '--no-ff', '-m', 'Merge the branch', 'side');
    // A merge that changes a file neither parent changed touches it, as git log shows.
    at(4)('checkout', '-q', '-b', 'other', 'HEAD~1');
    fs.writeFileSync(path.join(dir, 'shop/other.txt'), 'other\n');
    at(4)('add', '-A');
    at(4)('commit', '-q', '-m', 'Add a file on another branch');
    at(5)('checkout', '-q', 'main');
    at(5)('merge', '-q', '--no-ff', '--no-commit', 'other');
    fs.writeFileSync(
      path.join(dir, 'shop/base/kustomization.yaml'),
      'resources: []\n',
    );
    at(5)('add', '-A');
    at(5)('commit', '-q', '-m', 'Merge another branch, changing the base');
    // A change a branch made that its merge did not keep is not in the history, as git log says.
    at(5)('checkout', '-q', '-b', 'dropped');
    fs.writeFileSync(
      path.join(dir, 'shop/overlays/staging/kustomization.yaml'),
      'dropped: 1\n',
    );
    at(5)('commit', '-q', '-am', 'Change staging on a branch the merge drops');
    at(5)('checkout', '-q', 'main');
    fs.writeFileSync(
      path.join(dir, 'shop/overlays/staging/kustomization.yaml'),
      'kept: 1\n',
    );
    at(5)('commit', '-q', '-am', 'Change staging on main');
    at(5)('merge', '-q', '-s', 'ours', '-m', 'Merge, keeping main', 'dropped');
    // A merge of a branch already up to date equals that branch: git log follows it alone.
    at(5)('checkout', '-q', '-b', 'current');
    fs.writeFileSync(
      path.join(dir, 'shop/overlays/dev/current.yaml'),
      'c: 1\n',
    );
    at(5)('add', '-A');
    at(5)('commit', '-q', '-m', 'Add a dev file on an up-to-date branch');
    at(5)('checkout', '-q', 'main');
    at(5)(
      'merge',
      '-q',
      '--no-ff',
      '-m',
      'Merge the up-to-date branch',
      'current',
    );
    at(6)(
      'mv',
      'shop/overlays/prod/cache.yaml',
      'shop/overlays/prod/cache-size.yaml',
    );
    at(6)('rm', '-q', 'shop/overlays/dev/extra.yaml');
    at(6)('commit', '-q', '-m', 'Rename the cache patch, drop the dev patch');
    // A file becomes a directory.
    at(7)('rm', '-q', 'shop/other.txt');
    fs.mkdirSync(path.join(dir, 'shop/other.txt'));
    fs.writeFileSync(path.join(dir, 'shop/other.txt/inside.yaml'), 'b: 2\n');
    at(7)('add', '-A');
    at(7)('commit', '-q', '-m', 'Make a directory of the file');

    const snapshot = await github.snapshot();
    simulator.resetCounts();
    const paths = everyPath([
      ...snapshot.files.keys(),
      'shop/overlays/prod/cache.yaml',
      'shop/overlays/dev/extra.yaml',
    ]);
    for (const p of paths) {
      for (const limit of [1, 2, 30]) {
        const shas = (await github.history(snapshot.commit, [p], limit)).map(
          c => c.sha,
        );
        expect({ path: p, limit, shas }).toEqual({
          path: p,
          limit,
          shas: gitLog(dir, snapshot.commit, [p], limit),
        });
      }
    }
    expect(
      (
        await github.history(
          snapshot.commit,
          ['shop/base', 'shop/overlays/dev'],
          30,
        )
      ).map(c => c.sha),
    ).toEqual(
      gitLog(dir, snapshot.commit, ['shop/base', 'shop/overlays/dev'], 30),
    );
    const counts = simulator.countsByOperation();
    expect(counts['repos/list-commits']).toBe(1);
    // A small tree is listed whole, once for each commit but the head, which was read already.
    const commits = Number(
      gitIn(dir, '2026-01-01T00:00:00Z')(
        'rev-list',
        '--count',
        snapshot.commit,
      ),
    );
    expect(counts['git/get-tree']).toBeLessThan(commits);
    expect(simulator.count()).toBeLessThan(commits + 2);
  });

  it('grows the index of a new head from the one before it: paths never asked before cost no history request', async () => {
    const { dir, simulator, github } = await setup();
    const before = await github.snapshot();
    await github.history(before.commit, ['shop/base'], 1);
    promoteShopToStaging(dir);
    simulator.resetCounts();
    const after = await github.snapshot();
    for (const p of everyPath(after.files.keys())) {
      expect(
        (await github.history(after.commit, [p], 30)).map(c => c.sha),
      ).toEqual(gitLog(dir, after.commit, [p], 30));
    }
    expect(simulator.countsByOperation()).toEqual({
      'git/get-ref': 1,
      'repos/compare-commits-with-basehead': 1,
      'git/get-blob': 1,
    });
  });

  it.each([
    [
      'renames, deletions that empty a directory, files in new directories',
      false,
    ],
    ['a file that becomes a directory', false],
    ['a new symbolic link, whose mode a comparison does not tell', true],
    ['a new executable file, whose mode a comparison does not tell', true],
  ])(
    "tells a new head's tree from its changes, checked against the commit's tree id: %s",
    async (change, readWhole) => {
      const { dir, simulator, github, git } = await setup();
      await github.snapshot();
      const at = gitIn(dir, '2026-11-20T10:00:00Z');
      const write = (file: string, content: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), content);
      };
      if (change.startsWith('renames')) {
        at(
          'mv',
          'shop/overlays/prod/cache.yaml',
          'shop/overlays/prod/cache-size.yaml',
        );
        at('rm', '-q', '-r', 'shop/overlays/dev');
        write('shop/overlays/qa/deep/er/kustomization.yaml', 'resources: []\n');
      } else if (change.startsWith('a file that')) {
        at('rm', '-q', 'shop/overlays/prod/cache.yaml');
        write('shop/overlays/prod/cache.yaml/patch.yaml', 'a: 1\n');
      } else if (change.includes('symbolic')) {
        fs.symlinkSync(
          'kustomization.yaml',
          path.join(dir, 'shop/overlays/dev/link.yaml'),
        );
      } else {
        write('shop/run.sh', '#!/bin/sh\n');
        fs.chmodSync(path.join(dir, 'shop/run.sh'), 0o755);
      }
      at('add', '-A');
      at('commit', '-q', '-m', change);
      simulator.resetCounts();
      const [expected, actual] = [
        await git.snapshot(),
        await github.snapshot(),
      ];
      expect(actual.commit).toBe(expected.commit);
      expect(new Map(actual.files)).toEqual(new Map(expected.files));
      const counts = simulator.countsByOperation();
      expect(counts['repos/compare-commits-with-basehead']).toBe(1);
      expect(counts['git/get-tree'] ?? 0).toBe(readWhole ? 1 : 0);
      // Histories below the new head still agree with git log.
      for (const p of everyPath(expected.files.keys())) {
        expect(
          (await github.history(actual.commit, [p], 30)).map(c => c.sha),
        ).toEqual(gitLog(dir, actual.commit, [p], 30));
      }
    },
  );

  it('lists the history again when a merge brings in another branch, so its commits sit in git log order', async () => {
    const { dir, simulator, github } = await setup();
    const first = await github.snapshot();
    await github.history(first.commit, ['shop'], 30);
    // The branch's commit is older than main's newest: git log lists it below.
    gitIn(dir, '2026-10-01T10:00:00Z')('checkout', '-q', '-b', 'old', 'HEAD~2');
    fs.writeFileSync(path.join(dir, 'shop/overlays/dev/old.yaml'), 'old: 1\n');
    gitIn(dir, '2026-10-01T10:00:00Z')('add', '-A');
    gitIn(dir, '2026-10-01T10:00:00Z')('commit', '-q', '-m', 'An old change');
    gitIn(dir, '2026-11-21T10:00:00Z')('checkout', '-q', 'main');
    gitIn(dir, '2026-11-21T10:00:00Z')(
      'merge',
      '-q',
      '--no-ff',
      '-m',
      'Merge an old branch',
      'old',
    );
    simulator.resetCounts();
    const second = await github.snapshot();
    for (const p of everyPath(second.files.keys())) {
      expect({
        p,
        shas: (await github.history(second.commit, [p], 30)).map(c => c.sha),
      }).toEqual({
        p,
        shas: gitLog(dir, second.commit, [p], 30),
      });
    }
    expect(simulator.countsByOperation()['repos/list-commits']).toBe(1);
  });

  it('lists the history again after a force push, leaving out the commits no longer on the branch', async () => {
    const { dir, simulator, github } = await setup();
    const first = await github.snapshot();
    const dropped = first.commit;
    await github.history(first.commit, ['shop'], 30);
    const at = gitIn(dir, '2026-11-20T10:00:00Z');
    at('reset', '-q', '--hard', 'HEAD~1');
    promoteShopToStaging(dir);
    simulator.resetCounts();
    const second = await github.snapshot();
    for (const p of everyPath(second.files.keys())) {
      const shas = (await github.history(second.commit, [p], 30)).map(
        c => c.sha,
      );
      expect(shas).not.toContain(dropped);
      expect(shas).toEqual(gitLog(dir, second.commit, [p], 30));
    }
    expect(simulator.countsByOperation()['repos/list-commits']).toBe(1);
  });

  it('walks only the directories a commit changed in a large tree, and lists both trees whole when it changed many', async () => {
    const { dir, simulator, github } = await setup();
    const services = Array.from(
      { length: 300 },
      (_, i) => `svc-${String(i).padStart(4, '0')}`,
    );
    const write = (file: string, content: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    };
    const commit = (n: number, message: string) => {
      gitIn(dir, `2026-11-0${n}T10:00:00Z`)('add', '-A');
      gitIn(dir, `2026-11-0${n}T10:00:00Z`)('commit', '-q', '-m', message);
    };
    for (const service of services) {
      for (const env of ['dev', 'prod']) {
        write(`${service}/overlays/${env}/kustomization.yaml`, `${env}: 1\n`);
      }
      write(`${service}/base/deployment.yaml`, 'kind: Deployment\n');
    }
    commit(1, 'Lay out 300 services');
    write('svc-0005/overlays/dev/kustomization.yaml', 'dev: 2\n');
    commit(2, 'Promote one service in dev');
    for (const service of services) {
      write(`${service}/overlays/prod/kustomization.yaml`, 'prod: 2\n');
    }
    commit(3, 'Promote every service in prod');
    write('svc-0100/base/deployment.yaml', 'kind: Deployment # 2\n');
    commit(4, 'Change one base');

    const snapshot = await github.snapshot();
    expect(snapshot.files.size).toBeGreaterThan(900);
    simulator.resetCounts();
    const sample = everyPath(snapshot.files.keys()).filter(p =>
      /^(shop|svc-0005|svc-0100|svc-0299)(\/|$)/.test(p),
    );
    for (const p of sample) {
      expect(
        (await github.history(snapshot.commit, [p], 30)).map(c => c.sha),
      ).toEqual(gitLog(dir, snapshot.commit, [p], 30));
    }
    const trees = simulator.requests.filter(
      r => r.operationId === 'git/get-tree',
    );
    // One-file commits walk a few directories each; the two commits across 300 services list
    // their trees whole rather than reading 300 directories one by one.
    expect(trees.some(r => !r.path.includes('recursive'))).toBe(true);
    expect(trees.length).toBeLessThan(40);
    expect(simulator.countsByOperation()['repos/list-commits']).toBe(1);
  });

  it('asks path by path for what lies below the commits it indexes', async () => {
    const { dir, simulator, github } = await setup();
    // 305 commits that change nothing, in one fast-import.
    const stream = Array.from({ length: 305 }, (_, i) =>
      [
        'commit refs/heads/main',
        `committer Ana Lima <ana@example.com> ${1_790_000_000 + i} +0000`,
        `data ${`Nothing ${i}`.length}`,
        `Nothing ${i}`,
        ...(i === 0 ? ['from refs/heads/main^0'] : []),
        '',
      ].join('\n'),
    ).join('');
    execFileSync('git', ['fast-import', '--quiet'], {
      cwd: dir,
      input: stream,
    });
    const snapshot = await github.snapshot();
    simulator.resetCounts();
    expect(
      (await github.history(snapshot.commit, ['shop/overlays/dev'], 2)).map(
        c => c.sha,
      ),
    ).toEqual(gitLog(dir, snapshot.commit, ['shop/overlays/dev'], 2));
    const counts = simulator.countsByOperation();
    // Three pages for the index, which ends above the path's commits, then the path's own.
    expect(counts['repos/list-commits']).toBe(4);
  });

  /** Adds 80 services' files and a file git archive rewrites, in one commit. */
  function addManyFiles(dir: string) {
    for (let i = 0; i < 80; i++) {
      const file = path.join(dir, `svc-${i}/overlays/dev/kustomization.yaml`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(
        file,
        `images:\n  - name: svc-${i}\n    newTag: 1.0.${i}\n`,
      );
    }
    fs.writeFileSync(
      path.join(dir, '.gitattributes'),
      'stamped.txt export-subst\n',
    );
    fs.writeFileSync(path.join(dir, 'stamped.txt'), 'built from $Format:%H$\n');
    const at = gitIn(dir, '2026-11-20T10:00:00Z');
    at('add', '-A');
    at('commit', '-q', '-m', 'Lay out 80 services');
  }

  it('reads the files of a cold tree from one tarball, verified, and blob by blob only what the archive alters', async () => {
    const { dir, simulator, github, git } = await setup();
    addManyFiles(dir);
    const [expected, actual] = [await git.snapshot(), await github.snapshot()];
    simulator.resetCounts();
    const files = [...expected.files.keys()];
    expect(files.length).toBeGreaterThan(80);
    // Read all at once, as a refresh does: one download serves every reader.
    const contents = await Promise.all(files.map(f => actual.readFile(f)));
    for (const [i, file] of files.entries()) {
      expect({ file, content: contents[i]!.toString() }).toEqual({
        file,
        content: (await expected.readFile(file))!.toString(),
      });
    }
    expect((await actual.readFile('stamped.txt'))!.toString()).toBe(
      'built from $Format:%H$\n',
    );
    expect(simulator.countsByOperation()).toEqual({
      'repos/download-tarball-archive': 1,
      [ARCHIVE_DOWNLOAD]: 1,
      // export-subst rewrote stamped.txt in the archive: its content is not its blob.
      'git/get-blob': 1,
    });
  });

  it('reads blob by blob when the tarball cannot be downloaded', async () => {
    const { dir, simulator, github, git } = await setup();
    addManyFiles(dir);
    const [expected, actual] = [await git.snapshot(), await github.snapshot()];
    simulator.failNext(20, 502, ARCHIVE_DOWNLOAD);
    simulator.resetCounts();
    const files = [...expected.files.keys()];
    const contents = await Promise.all(files.map(f => actual.readFile(f)));
    for (const [i, file] of files.entries()) {
      expect(contents[i]!.toString()).toBe(
        (await expected.readFile(file))!.toString(),
      );
    }
    // Each blob read once (a request that timed out under load may be sent again).
    const blobs = simulator.requests.filter(
      r => r.operationId === 'git/get-blob' && r.status === 200,
    );
    expect(new Set(blobs.map(r => r.path)).size).toBe(
      new Set([...expected.files.values()].map(f => f.oid)).size,
    );
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining('could not read the tarball of'),
    );
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

  describe('fault: GitHub rate-limiting, failing or timing out', () => {
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
