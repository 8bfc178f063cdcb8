import { execFileSync } from 'node:child_process';
import { ARCHIVE_DOWNLOAD } from './simulator';
import { git } from './testing/gitFixture';
import { useSimulators } from './testing/setup';

/** The files of a gzip'd tarball, by path, as GNU tar reads it. */
function untar(archive: Buffer): Record<string, string> {
  const names = execFileSync('tar', ['-tzf', '-'], { input: archive })
    .toString()
    .split('\n')
    .filter(name => name && !name.endsWith('/'));
  return Object.fromEntries(
    names.map(name => [
      name,
      execFileSync('tar', ['-xzOf', '-', name], { input: archive }).toString(),
    ]),
  );
}

/** The commit id GitHub (and git archive) writes in the archive's pax global header. */
const commentOf = (archive: Buffer) =>
  execFileSync('git', ['get-tar-commit-id'], {
    input: execFileSync('gzip', ['-dc'], { input: archive }),
  })
    .toString()
    .trim();

describe('repos/download-tarball-archive', () => {
  const start = useSimulators();

  it('redirects to a download of the archive of the commit, which fetch follows', async () => {
    const { simulator, repoDir, repo } = await start();
    const head = git(repoDir, ['rev-parse', 'HEAD']);
    const api = `${simulator.apiBaseUrl}/repos/${repo.owner}/${repo.repo}`;
    const headers = { authorization: 'token bot-token' };

    const redirect = await fetch(`${api}/tarball/main`, {
      headers,
      redirect: 'manual',
    });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location).toBe(
      `${
        new URL(simulator.apiBaseUrl).origin
      }/_codeload/acme/gitops/legacy.tar.gz/${head}`,
    );

    const followed = await fetch(`${api}/tarball/main`, { headers });
    expect(followed.status).toBe(200);
    expect(followed.headers.get('content-type')).toBe('application/x-gzip');
    const archive = Buffer.from(await followed.arrayBuffer());
    const top = `acme-gitops-${head.slice(0, 7)}`;
    expect(untar(archive)).toEqual({
      [`${top}/shop/base/kustomization.yaml`]:
        'resources:\n  - deployment.yaml\n',
      [`${top}/shop/base/deployment.yaml`]: 'image: shop:1.0.0\n',
      [`${top}/shop/overlays/dev/kustomization.yaml`]:
        'images:\n  - newTag: 1.1.0\n',
      [`${top}/shop/overlays/prod/kustomization.yaml`]:
        'images:\n  - newTag: 1.0.0\n',
    });
    expect(commentOf(archive)).toBe(head);

    // A sha, and an older one, are refs as well.
    const first = git(repoDir, ['rev-parse', 'HEAD~1']);
    const older = await fetch(`${api}/tarball/${first}`, { headers });
    expect(
      untar(Buffer.from(await older.arrayBuffer()))[
        `acme-gitops-${first.slice(0, 7)}/shop/overlays/dev/kustomization.yaml`
      ],
    ).toBe('images:\n  - newTag: 1.0.0\n');

    // Both steps are requests a benchmark counts; only the API's counts against the rate limit.
    expect(simulator.count('repos/download-tarball-archive', 302)).toBe(3);
    expect(simulator.count(ARCHIVE_DOWNLOAD, 200)).toBe(2);
    expect(simulator.problems).toEqual([]);
  });

  it("answers octokit's downloadTarballArchive with the archive's bytes as an ArrayBuffer", async () => {
    const { simulator, repoDir, bot, repo } = await start();
    const head = git(repoDir, ['rev-parse', 'HEAD']);
    // Octokit follows the redirect; a gzip body comes back as an ArrayBuffer in `data`.
    const { status, data } = await bot.rest.repos.downloadTarballArchive({
      ...repo,
      ref: head,
    });
    expect(status).toBe(200);
    expect(data).toBeInstanceOf(ArrayBuffer);
    const archive = Buffer.from(data as ArrayBuffer);
    expect(
      untar(archive)[
        `acme-gitops-${head.slice(0, 7)}/shop/base/deployment.yaml`
      ],
    ).toBe('image: shop:1.0.0\n');

    // Without parsing, `data` is the response's body as a stream, to read without buffering it.
    const streamed = await bot.rest.repos.downloadTarballArchive({
      ...repo,
      ref: head,
      request: { parseSuccessResponseBody: false },
    });
    const body = streamed.data as unknown as ReadableStream<Uint8Array>;
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    expect(Buffer.concat(chunks)).toEqual(archive);

    expect(simulator.requests.map(r => [r.operationId, r.status])).toEqual([
      ['repos/download-tarball-archive', 302],
      [ARCHIVE_DOWNLOAD, 200],
      ['repos/download-tarball-archive', 302],
      [ARCHIVE_DOWNLOAD, 200],
    ]);
    // The token went along to the download.
    expect(simulator.requests[1].authorization).toBe('token bot-token');
    expect(simulator.problems).toEqual([]);
  });

  it('answers 404 to a ref that designates no commit, and never hands git an option', async () => {
    const { simulator, bot, repo } = await start();
    const api = `${simulator.apiBaseUrl}/repos/${repo.owner}/${repo.repo}`;
    const headers = { authorization: 'token bot-token' };
    for (const ref of [
      'no-such-branch',
      '0123456789012345678901234567890123456789',
      '--output=/tmp/x',
      '-h',
      'main..main',
      'main%0Acontents%20HEAD',
    ]) {
      const answer = await fetch(`${api}/tarball/${ref}`, {
        headers,
        redirect: 'manual',
      });
      expect({ ref, status: answer.status }).toEqual({ ref, status: 404 });
    }
    const refused = await bot.rest.repos
      .downloadTarballArchive({ ...repo, ref: 'no-such-branch' })
      .catch(error => error);
    expect(refused.status).toBe(404);

    // The download itself: an unknown commit, another repository, and what is not a commit id.
    const codeload = `${new URL(simulator.apiBaseUrl).origin}/_codeload`;
    for (const path of [
      `acme/gitops/legacy.tar.gz/${'0'.repeat(40)}`,
      `acme/other/legacy.tar.gz/${'0'.repeat(40)}`,
      'acme/gitops/legacy.tar.gz/main',
      'acme/gitops/legacy.tar.gz/--help',
    ]) {
      const answer = await fetch(`${codeload}/${path}`, { headers });
      expect({ path, status: answer.status }).toEqual({ path, status: 404 });
    }
    expect(simulator.problems).toEqual([]);
  });

  it('refuses a download without the credentials reads need', async () => {
    const { simulator, repoDir, repo } = await start();
    const head = git(repoDir, ['rev-parse', 'HEAD']);
    const codeload = `${
      new URL(simulator.apiBaseUrl).origin
    }/_codeload/acme/gitops/legacy.tar.gz/${head}`;
    expect(
      (await fetch(codeload, { headers: { authorization: 'token stolen' } }))
        .status,
    ).toBe(401);
    // Without a token, a download is served as a read of the API is.
    const anonymousRead = await fetch(
      `${simulator.apiBaseUrl}/repos/${repo.owner}/${repo.repo}/git/ref/heads/main`,
    );
    expect((await fetch(codeload)).status).toBe(anonymousRead.status);
    expect(
      (
        await fetch(
          `${simulator.apiBaseUrl}/repos/${repo.owner}/${repo.repo}/tarball/main`,
          { headers: { authorization: 'token stolen' } },
        )
      ).status,
    ).toBe(401);
    expect(
      (await fetch(codeload, { headers: { authorization: 'token bot-token' } }))
        .status,
    ).toBe(200);
    expect(simulator.count(ARCHIVE_DOWNLOAD)).toBe(3);
    expect(simulator.count(ARCHIVE_DOWNLOAD, 401)).toBe(1);
  });

  it('fails a download as a fault injected for it says', async () => {
    const { simulator, bot, repo } = await start();
    simulator.failNext(1, 502, ARCHIVE_DOWNLOAD);
    const failed = await bot.rest.repos
      .downloadTarballArchive({ ...repo, ref: 'main' })
      .catch(error => error);
    expect(failed.status).toBe(502);
    const { status } = await bot.rest.repos.downloadTarballArchive({
      ...repo,
      ref: 'main',
    });
    expect(status).toBe(200);
  });
});
