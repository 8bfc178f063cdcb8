import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { appendCommit, createGitFixture, git } from './testing/gitFixture';
import { useSimulators } from './testing/setup';

/** A repository with what trees can hold: links, executables, a submodule, odd names, binaries. */
function unusualRepository(): string {
  const dir = createGitFixture([
    {
      message: 'Add the apps',
      files: {
        'apps/shop/values.yaml': 'image:\n  tag: 1.0.0\n',
        'apps/shop/empty.yaml': '',
        'apps/façade/ünïcode name.yaml': 'a: 1\n',
        'binary.bin': '\u0000\u0001\u0002\u00ff',
        'long.txt': 'line\n'.repeat(500),
      },
    },
  ]);
  fs.symlinkSync('apps/shop/values.yaml', path.join(dir, 'link'));
  fs.writeFileSync(path.join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  appendCommit(dir, { message: 'Add a link and a script', files: {} });
  const head = git(dir, ['rev-parse', 'HEAD']);
  git(dir, [
    'update-index',
    '--add',
    '--cacheinfo',
    `160000,${head},vendor/lib`,
  ]);
  appendCommit(dir, {
    message: 'Vendor a library\n\nAs a submodule.\n\n\nWith blank lines.',
    date: '2026-03-04T05:06:07+05:30',
    files: {},
  });
  return dir;
}

/** What the simulator answered before it read through `git cat-file --batch`: the git CLI's. */
const expected = {
  tree(dir: string, api: string, sha: string, recursive: boolean) {
    const tree = git(dir, ['rev-parse', `${sha}^{tree}`]);
    const out = execFileSync(
      'git',
      ['ls-tree', '-l', '-z', ...(recursive ? ['-r', '-t'] : []), tree],
      { cwd: dir },
    );
    const entries = out
      .toString('utf8')
      .split('\0')
      .filter(Boolean)
      .map(line => {
        const tab = line.indexOf('\t');
        const [mode, type, id, size] = line.slice(0, tab).trim().split(/\s+/);
        const entryPath = line.slice(tab + 1);
        if (type === 'commit') return { path: entryPath, mode, type, sha: id };
        return {
          path: entryPath,
          mode,
          type,
          sha: id,
          ...(type === 'blob' ? { size: Number(size) } : {}),
          url: `${api}/git/${type}s/${id}`,
        };
      });
    return {
      sha: tree,
      url: `${api}/git/trees/${tree}`,
      tree: entries,
      truncated: false,
    };
  },
  blob(dir: string, sha: string) {
    const content = execFileSync('git', ['cat-file', 'blob', sha], {
      cwd: dir,
    });
    const base64 = content.toString('base64').replace(/.{60}/g, '$&\n');
    return {
      sha,
      size: content.length,
      content: base64.endsWith('\n') || base64 === '' ? base64 : `${base64}\n`,
      encoding: 'base64',
    };
  },
  commit(dir: string, sha: string) {
    const [tree, parents, an, ae, ad, cn, ce, cd, message] = git(dir, [
      'log',
      '-1',
      '--format=%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
      sha,
    ]).split('\0');
    const utc = (iso: string) =>
      new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      sha,
      tree: { sha: tree },
      parents: parents ? parents.split(' ').map(p => ({ sha: p })) : [],
      author: { name: an, email: ae, date: utc(ad) },
      committer: { name: cn, email: ce, date: utc(cd) },
      message: message.replace(/\n+$/, ''),
    };
  },
};

describe('the Git database', () => {
  const start = useSimulators();

  it('answers trees, blobs and commits exactly as the git command line reads them', async () => {
    const dir = unusualRepository();
    const { simulator } = await start({ repoDir: dir });
    const api = `${simulator.apiBaseUrl}/repos/acme/gitops`;
    const get = async (url: string) => (await fetch(`${api}${url}`)).json();
    const head = git(dir, ['rev-parse', 'main']);

    for (const recursive of [false, true]) {
      for (const sha of [head, git(dir, ['rev-parse', 'main:apps'])]) {
        // Twice: the second answer comes from the cache.
        for (const _ of [1, 2])
          expect(
            await get(`/git/trees/${sha}${recursive ? '?recursive=1' : ''}`),
          ).toEqual(expected.tree(dir, api, sha, recursive));
      }
    }
    const blobs = expected
      .tree(dir, api, head, true)
      .tree.filter(entry => entry.type === 'blob');
    expect(blobs.map(blob => blob.path)).toEqual(
      expect.arrayContaining([
        'apps/façade/ünïcode name.yaml',
        'link',
        'run.sh',
      ]),
    );
    for (const blob of blobs)
      expect(await get(`/git/blobs/${blob.sha}`)).toMatchObject(
        expected.blob(dir, blob.sha),
      );
    for (const sha of git(dir, ['rev-list', 'main']).split('\n'))
      expect(await get(`/git/commits/${sha}`)).toMatchObject(
        expected.commit(dir, sha),
      );
    expect(await get('/git/trees/main')).toEqual(
      expected.tree(dir, api, head, false),
    );
    const listed = await get('/commits?sha=main&path=apps/shop');
    expect(listed.map((c: { sha: string }) => c.sha)).toEqual([
      git(dir, ['rev-list', 'main', '--', 'apps/shop']),
    ]);
    expect(simulator.problems).toEqual([]);
  });

  it('answers a conditional request for an unchanged answer 304, without counting it', async () => {
    const { simulator, repoDir } = await start();
    const url = `${simulator.apiBaseUrl}/repos/acme/gitops/git/trees/${git(
      repoDir,
      ['rev-parse', 'main^{tree}'],
    )}?recursive=1`;
    const first = await fetch(url);
    const etag = first.headers.get('etag')!;
    const second = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(second.status).toBe(304);
    expect(second.headers.get('x-ratelimit-used')).toBe(
      first.headers.get('x-ratelimit-used'),
    );
    expect(simulator.problems).toEqual([]);
  });

  it('gives pull requests ETags that change with them, and never answers a write 304', async () => {
    const { simulator, repo } = await start();
    await simulator.pushCommit('promote', { 'a.yaml': 'a\n' }, 'a');
    const api = `${simulator.apiBaseUrl}/repos/${repo.owner}/${repo.repo}`;
    const auth = { authorization: 'token bot-token' };
    const created = await fetch(`${api}/pulls`, {
      method: 'POST',
      headers: { ...auth, 'if-none-match': '*' },
      body: JSON.stringify({ title: 'A', head: 'promote', base: 'main' }),
    });
    expect([created.status, created.headers.get('etag')]).toEqual([201, null]);
    const first = await fetch(`${api}/pulls/1`, { headers: auth });
    const etag = first.headers.get('etag')!;
    const unchanged = await fetch(`${api}/pulls/1`, {
      headers: { ...auth, 'if-none-match': etag },
    });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get('x-ratelimit-used')).toBe(
      first.headers.get('x-ratelimit-used'),
    );
    await simulator.pushCommit('promote', { 'b.yaml': 'b\n' }, 'b');
    const changed = await fetch(`${api}/pulls/1`, {
      headers: { ...auth, 'if-none-match': etag },
    });
    expect(changed.status).toBe(200);
    expect(Number(changed.headers.get('x-ratelimit-used'))).toBe(
      Number(first.headers.get('x-ratelimit-used')) + 1,
    );
    expect(simulator.problems).toEqual([]);
  });

  it('writes blobs, trees with nested paths and deletions, commits and refs, into a bare repository too', async () => {
    const { simulator, bot, repo, repoDir } = await start({ bare: true });
    const main = git(repoDir, ['rev-parse', 'main']);
    const base = git(repoDir, ['rev-parse', 'main^{tree}']);
    const blob = await bot.git.createBlob({
      ...repo,
      content: Buffer.from('\u0000binary\u00ff', 'latin1').toString('base64'),
      encoding: 'base64',
    });
    expect(blob.status).toBe(201);
    expect(git(repoDir, ['cat-file', '-s', blob.data.sha])).toBe('8');
    const tree = await bot.git.createTree({
      ...repo,
      base_tree: base,
      tree: [
        { path: 'a/b/c.yaml', mode: '100644', type: 'blob', content: 'c: 1\n' },
        { path: 'a/bin', mode: '100755', type: 'blob', sha: blob.data.sha },
        {
          path: 'shop/overlays/dev/kustomization.yaml',
          mode: '100644',
          type: 'blob',
          sha: null,
        },
      ],
    });
    expect(tree.data.tree.map(entry => entry.path)).toEqual(['a', 'shop']);
    expect(
      git(repoDir, ['ls-tree', '-r', '--name-only', tree.data.sha]).split('\n'),
    ).toEqual([
      'a/b/c.yaml',
      'a/bin',
      'shop/base/deployment.yaml',
      'shop/base/kustomization.yaml',
      'shop/overlays/prod/kustomization.yaml',
    ]);
    // Deleting the last file of a directory removes the directory.
    const pruned = await bot.git.createTree({
      ...repo,
      base_tree: tree.data.sha,
      tree: [{ path: 'a/b/c.yaml', mode: '100644', type: 'blob', sha: null }],
    });
    expect(
      git(repoDir, ['ls-tree', '--name-only', `${pruned.data.sha}:a`]),
    ).toBe('bin');

    const commit = await bot.git.createCommit({
      ...repo,
      message: 'Write through the API',
      tree: tree.data.sha,
      parents: [main],
    });
    expect(commit.data).toMatchObject({
      message: 'Write through the API',
      tree: { sha: tree.data.sha },
      parents: [{ sha: main }],
      author: {
        name: 'promotions-bot',
        email: '9001+promotions-bot@users.noreply.github.com',
      },
    });
    const created = await bot.git.createRef({
      ...repo,
      ref: 'refs/heads/feature',
      sha: main,
    });
    expect(created.status).toBe(201);
    const exists = await bot.git
      .createRef({ ...repo, ref: 'refs/heads/feature', sha: main })
      .catch(error => error);
    expect([exists.status, exists.response.data.message]).toEqual([
      422,
      'Reference already exists',
    ]);
    await bot.git.updateRef({
      ...repo,
      ref: 'heads/feature',
      sha: commit.data.sha,
    });
    expect(git(repoDir, ['rev-parse', 'feature'])).toBe(commit.data.sha);

    const backwards = await bot.git
      .updateRef({ ...repo, ref: 'heads/feature', sha: main })
      .catch(error => error);
    expect([backwards.status, backwards.response.data.message]).toEqual([
      422,
      'Update is not a fast forward',
    ]);
    await bot.git.updateRef({
      ...repo,
      ref: 'heads/feature',
      sha: main,
      force: true,
    });
    expect(git(repoDir, ['rev-parse', 'feature'])).toBe(main);

    const matching = await bot.git.listMatchingRefs({
      ...repo,
      ref: 'heads/fea',
    });
    expect(matching.data.map(ref => ref.ref)).toEqual(['refs/heads/feature']);
    expect(
      (await bot.git.deleteRef({ ...repo, ref: 'heads/feature' })).status,
    ).toBe(204);
    const missing = await bot.git
      .deleteRef({ ...repo, ref: 'heads/feature' })
      .catch(e => e);
    expect(missing.status).toBe(422);
    const repository = await bot.repos.get(repo);
    expect(repository.data).toMatchObject({
      default_branch: 'main',
      full_name: 'acme/gitops',
    });
    const branch = await bot.repos.getBranch({ ...repo, branch: 'main' });
    expect(branch.data.commit.sha).toBe(main);
    expect(simulator.problems).toEqual([]);
  });

  it('compares two branches as GitHub does: ahead, behind, diverged, with files and patches', async () => {
    const { simulator, bot, repo, repoDir } = await start();
    const fork = git(repoDir, ['rev-parse', 'main']);
    await simulator.pushCommit(
      'promote',
      {
        'shop/overlays/prod/kustomization.yaml': 'images:\n  - newTag: 1.1.0\n',
        'shop/base/deployment.yaml': null,
        // Moved as it is: a rename.
        'shop/overlays/dev/kustomization.yaml': null,
        'shop/overlays/qa/kustomization.yaml': 'images:\n  - newTag: 1.1.0\n',
      },
      'Promote',
    );
    const ahead = await bot.repos.compareCommitsWithBasehead({
      ...repo,
      basehead: 'main...promote',
    });
    expect(ahead.data).toMatchObject({
      status: 'ahead',
      ahead_by: 1,
      behind_by: 0,
      total_commits: 1,
      merge_base_commit: { sha: fork },
      commits: [
        expect.objectContaining({
          commit: expect.objectContaining({ message: 'Promote' }),
        }),
      ],
    });
    expect(
      ahead.data.files!.map(f => [
        f.filename,
        f.status,
        f.additions,
        f.deletions,
        f.changes,
      ]),
    ).toEqual([
      ['shop/base/deployment.yaml', 'removed', 0, 1, 1],
      ['shop/overlays/prod/kustomization.yaml', 'modified', 1, 1, 2],
      ['shop/overlays/qa/kustomization.yaml', 'renamed', 0, 0, 0],
    ]);
    const [removed, modified, renamed] = ahead.data.files!;
    expect(renamed.previous_filename).toBe(
      'shop/overlays/dev/kustomization.yaml',
    );
    expect(removed.patch).toBe('@@ -1 +0,0 @@\n-image: shop:1.0.0');
    expect(modified.patch).toBe(
      '@@ -1,2 +1,2 @@\n images:\n-  - newTag: 1.0.0\n+  - newTag: 1.1.0',
    );
    const behind = await bot.repos.compareCommitsWithBasehead({
      ...repo,
      basehead: 'promote...main',
    });
    expect(behind.data).toMatchObject({
      status: 'behind',
      ahead_by: 0,
      behind_by: 1,
      files: [],
    });
    await simulator.pushCommit('main', { 'README.md': 'GitOps\n' }, 'Explain');
    const diverged = await bot.repos.compareCommitsWithBasehead({
      ...repo,
      basehead: 'main...acme:promote',
    });
    expect(diverged.data).toMatchObject({
      status: 'diverged',
      ahead_by: 1,
      behind_by: 1,
    });
    const same = await bot.repos.compareCommitsWithBasehead({
      ...repo,
      basehead: 'main...main',
    });
    expect(same.data).toMatchObject({ status: 'identical', total_commits: 0 });
    expect(simulator.problems).toEqual([]);
  });

  it("refuses trees, commits and checks that name what does not exist, in GitHub's words", async () => {
    const { simulator, bot, repo, repoDir } = await start();
    const base = git(repoDir, ['rev-parse', 'main^{tree}']);
    const missing = '1'.repeat(40);
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        error => [error.status, error.response.data.message],
      );
    expect(
      await refusal(
        bot.git.createTree({
          ...repo,
          base_tree: base,
          tree: [
            { path: 'a.yaml', mode: '100644', type: 'blob', sha: missing },
          ],
        }),
      ),
    ).toEqual([422, 'GitRPC::BadObjectState']);
    expect(
      await refusal(
        bot.git.createTree({
          ...repo,
          tree: [{ path: 'dir', mode: '040000', type: 'blob', content: 'x' }],
        }),
      ),
    ).toEqual([422, 'Invalid tree info']);
    expect(
      await refusal(
        bot.git.createCommit({ ...repo, message: 'm', tree: missing }),
      ),
    ).toEqual([422, 'Tree SHA does not exist']);
    expect(
      await refusal(
        bot.git.createCommit({
          ...repo,
          message: 'm',
          tree: base,
          parents: [missing],
        }),
      ),
    ).toEqual([422, 'Parent SHA does not exist or is not a commit object']);
    expect(
      await refusal(
        bot.checks.create({ ...repo, name: 'render', head_sha: missing }),
      ),
    ).toEqual([422, `No commit found for SHA: ${missing}`]);
    expect(
      await refusal(bot.checks.listForRef({ ...repo, ref: 'no-such-branch' })),
    ).toEqual([422, 'No commit found for SHA: no-such-branch']);
    expect(
      await refusal(bot.git.getRef({ ...repo, ref: 'heads/no-such-branch' })),
    ).toEqual([404, 'Not Found']);
    expect(simulator.problems).toEqual([]);
  });
});
