import { execFileSync } from 'node:child_process';
import { git } from './testing/gitFixture';
import { useSimulators } from './testing/setup';

/** Creates tags in a fixture: many at once, through `git update-ref --stdin`. */
function createTags(dir: string, names: string[], commit: string) {
  execFileSync('git', ['update-ref', '--stdin'], {
    cwd: dir,
    input: names.map(name => `create refs/tags/${name} ${commit}\n`).join(''),
  });
}

describe('tags', () => {
  const start = useSimulators();

  it('lists lightweight and annotated tags, each with the commit it names, annotated ones peeled', async () => {
    const { simulator, bot, repo, repoDir } = await start();
    const [head, first] = git(repoDir, ['rev-list', 'main']).split('\n');
    const tagger = ['-c', 'user.name=Ana', '-c', 'user.email=a@example.com'];
    git(repoDir, ['tag', 'v1.0.0', first]);
    git(repoDir, [...tagger, 'tag', '-a', '-m', 'Release', 'v1.1.0', head]);
    git(repoDir, [...tagger, 'tag', '-a', '-m', 'Again', 'release', 'v1.1.0']);
    git(repoDir, ['tag', 'tree', `${head}^{tree}`]);
    const annotated = git(repoDir, ['rev-parse', 'refs/tags/v1.1.0']);
    expect(annotated).not.toBe(head);

    const { data, headers } = await bot.rest.repos.listTags(repo);
    expect(headers.link).toBeUndefined();
    expect(data.map(tag => [tag.name, tag.commit.sha])).toEqual([
      ['v1.1.0', head],
      ['v1.0.0', first],
      ['release', head],
    ]);
    expect(data[0]).toEqual({
      name: 'v1.1.0',
      zipball_url: `${simulator.apiBaseUrl}/repos/acme/gitops/zipball/refs/tags/v1.1.0`,
      tarball_url: `${simulator.apiBaseUrl}/repos/acme/gitops/tarball/refs/tags/v1.1.0`,
      commit: {
        sha: head,
        url: `${simulator.apiBaseUrl}/repos/acme/gitops/commits/${head}`,
      },
      node_id: expect.any(String),
    });
    expect(simulator.problems).toEqual([]);
  });

  it('pages as GitHub does, with prev, next, last and first links', async () => {
    const { simulator, bot, repo, repoDir } = await start();
    const head = git(repoDir, ['rev-parse', 'main']);
    const names = Array.from({ length: 5 }, (_, i) => `v1.${i}.0`);
    createTags(repoDir, names, head);
    const api = `${simulator.apiBaseUrl}/repos/acme/gitops/tags`;
    const page = (number: number) =>
      bot.rest.repos.listTags({ ...repo, per_page: 2, page: number });

    const first = await page(1);
    expect(first.data.map(tag => tag.name)).toEqual(['v1.4.0', 'v1.3.0']);
    expect(first.headers.link).toBe(
      `<${api}?per_page=2&page=2>; rel="next", <${api}?per_page=2&page=3>; rel="last"`,
    );
    const middle = await page(2);
    expect(middle.headers.link).toBe(
      [
        `<${api}?per_page=2&page=1>; rel="prev"`,
        `<${api}?per_page=2&page=3>; rel="next"`,
        `<${api}?per_page=2&page=3>; rel="last"`,
        `<${api}?per_page=2&page=1>; rel="first"`,
      ].join(', '),
    );
    const last = await page(3);
    expect(last.data.map(tag => tag.name)).toEqual(['v1.0.0']);
    expect(last.headers.link).toBe(
      `<${api}?per_page=2&page=2>; rel="prev", <${api}?per_page=2&page=1>; rel="first"`,
    );

    const all = await bot.paginate(bot.rest.repos.listTags, {
      ...repo,
      per_page: 2,
    });
    expect(all.map(tag => tag.name)).toEqual([...names].reverse());
    expect(simulator.count('repos/list-tags')).toBe(6);
    expect(simulator.problems).toEqual([]);
  });

  it('answers 304 to a conditional request while the tags are unchanged, and the new list once one moves', async () => {
    const { simulator, bot, repo, repoDir } = await start();
    const [head, first] = git(repoDir, ['rev-list', 'main']).split('\n');
    git(repoDir, ['tag', 'v1', first]);
    const { headers } = await bot.rest.repos.listTags(repo);
    const unchanged = await bot.rest.repos
      .listTags({ ...repo, headers: { 'if-none-match': headers.etag } })
      .catch(error => error);
    expect(unchanged.status).toBe(304);

    git(repoDir, ['tag', '-f', 'v1', head]);
    const moved = await bot.rest.repos.listTags({
      ...repo,
      headers: { 'if-none-match': headers.etag },
    });
    expect(moved.data.map(tag => tag.commit.sha)).toEqual([head]);
    expect(simulator.problems).toEqual([]);
  });

  it('escapes in its URLs what a tag name holds that a URL may not', async () => {
    const { simulator, bot, repo, repoDir } = await start();
    createTags(repoDir, ['team/v1#"{x}"'], git(repoDir, ['rev-parse', 'main']));
    const { data } = await bot.rest.repos.listTags(repo);
    expect(data[0].name).toBe('team/v1#"{x}"');
    expect(data[0].tarball_url).toMatch(
      /\/tarball\/refs\/tags\/team\/v1%23%22%7Bx%7D%22$/,
    );
    expect(simulator.problems).toEqual([]);
  });
});
