import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ARCHIVE_DOWNLOAD, GithubSimulator } from '@internal/github-simulator';
import { Octokit } from '@octokit/rest';
import { pathInCommit, readTarball, WantedBlob } from './tarball';

const LIMITS = { maxBytes: 10 * 1024 * 1024, maxFileBytes: 1024 * 1024 };
const LONG_PATH = `${'deep/'.repeat(
  25,
)}service/overlays/prod/kustomization.yaml`;
const DEPLOYMENT = 'image: shop:1.0.0\n';

const git = (dir: string, args: string[]): Buffer =>
  execFileSync('git', args, {
    cwd: dir,
    stdio: 'pipe',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'ada@example.com',
      GIT_COMMITTER_NAME: 'Ada',
      GIT_COMMITTER_EMAIL: 'ada@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
    },
    maxBuffer: 64 * 1024 * 1024,
  });

const blobId = (content: string | Buffer) =>
  crypto
    .createHash('sha1')
    .update(`blob ${Buffer.byteLength(content)}\0`)
    .update(content)
    .digest('hex');

/** A tar entry as the bytes of a ustar header and its padded content. */
function tarEntry(name: string, content: string, type = '0'): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding]);
}

/** A gzip'd tarball of entries, ended as tar ends them. */
const tarball = (...entries: Buffer[]) =>
  zlib.gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));

/** Chunks of a buffer, small enough to split headers and contents across them. */
async function* chunked(data: Buffer, size = 7): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size)
    yield new Uint8Array(data.subarray(i, i + size));
}

describe('readTarball', () => {
  let dir: string;
  let archive: Buffer;
  /** Every blob of the commit, as the caller would want them. */
  let blobs: Map<string, WantedBlob>;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tarball-'));
    git(dir, ['init', '-q', '-b', 'main']);
    const write = (file: string, content: string) => {
      fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    };
    write('shop/base/deployment.yaml', DEPLOYMENT);
    write('shop/base/kustomization.yaml', 'resources:\n  - deployment.yaml\n');
    write(LONG_PATH, 'images:\n  - newTag: 2.0.0\n');
    write('empty.yaml', '');
    write('big.yaml', 'x'.repeat(4096));
    fs.symlinkSync('shop/base/deployment.yaml', path.join(dir, 'link.yaml'));
    git(dir, ['add', '-A']);
    git(dir, ['commit', '-q', '-m', 'Add the shop']);
    archive = git(dir, [
      'archive',
      '--format=tar.gz',
      '--prefix=o-r-abc1234/',
      'HEAD',
    ]);
    blobs = new Map();
    for (const line of git(dir, ['ls-tree', '-r', '-l', '-z', 'HEAD'])
      .toString()
      .split('\0')
      .filter(Boolean)) {
      const [meta, file] = line.split('\t');
      const [, , oid, size] = meta.split(/\s+/);
      blobs.set(oid, { path: file, size: Number(size) });
    }
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const oidOf = (file: string) =>
    [...blobs].find(([, blob]) => blob.path === file)![0];
  const want = (...files: string[]) =>
    new Map(files.map(file => [oidOf(file), blobs.get(oidOf(file))!]));

  it('reads every wanted file of a commit, stripping the top directory', async () => {
    const files = await readTarball(
      chunked(archive),
      want('shop/base/deployment.yaml', 'shop/base/kustomization.yaml'),
      LIMITS,
    );
    expect(files).toEqual(
      new Map([
        [oidOf('shop/base/deployment.yaml'), Buffer.from(DEPLOYMENT)],
        [
          oidOf('shop/base/kustomization.yaml'),
          Buffer.from('resources:\n  - deployment.yaml\n'),
        ],
      ]),
    );
  });

  it('reads a Node stream as well', async () => {
    const file = path.join(dir, '..', `${path.basename(dir)}.tar.gz`);
    fs.writeFileSync(file, archive);
    try {
      const files = await readTarball(
        fs.createReadStream(file),
        want('shop/base/deployment.yaml'),
        LIMITS,
      );
      expect([...files.values()]).toEqual([Buffer.from(DEPLOYMENT)]);
    } finally {
      fs.rmSync(file);
    }
  });

  it('reads a path longer than 100 characters, which tar holds in a pax header', async () => {
    expect(LONG_PATH.length).toBeGreaterThan(100);
    const files = await readTarball(
      chunked(archive, archive.length),
      want(LONG_PATH),
      LIMITS,
    );
    expect(files.get(oidOf(LONG_PATH))?.toString()).toBe(
      'images:\n  - newTag: 2.0.0\n',
    );
  });

  it('reads an empty file', async () => {
    const files = await readTarball(
      chunked(archive),
      want('empty.yaml'),
      LIMITS,
    );
    expect(files).toEqual(new Map([[blobId(''), Buffer.alloc(0)]]));
  });

  it('does not take a symbolic link for a file, even one whose empty body has the wanted id', async () => {
    // The entry of a link has no content: as a file it would hash to the empty blob.
    const files = await readTarball(
      chunked(archive),
      new Map([[blobId(''), { path: 'link.yaml', size: 0 }]]),
      LIMITS,
    );
    expect(files).toEqual(new Map());
    // The link's own blob (its target) is not in the archive either.
    expect(
      await readTarball(chunked(archive), want('link.yaml'), LIMITS),
    ).toEqual(new Map());
  });

  it('leaves out what is not wanted, and wanted files the archive does not hold', async () => {
    const missing = blobId('not in the commit\n');
    const files = await readTarball(
      chunked(archive),
      new Map([
        ...want('shop/base/deployment.yaml'),
        [missing, { path: 'missing.yaml', size: 18 }],
      ]),
      LIMITS,
    );
    expect([...files.keys()]).toEqual([oidOf('shop/base/deployment.yaml')]);
  });

  it('ignores an entry whose content is not the wanted blob', async () => {
    const tampered = 'image: evil:6.6.6\n';
    expect(tampered.length).toBe(DEPLOYMENT.length);
    const forged = tarball(
      tarEntry('o-r-abc1234/shop/base/deployment.yaml', tampered),
    );
    expect(
      await readTarball(
        chunked(forged),
        want('shop/base/deployment.yaml'),
        LIMITS,
      ),
    ).toEqual(new Map());
    // The same archive with the right content is read: only the content was at fault.
    const genuine = tarball(
      tarEntry('o-r-abc1234/shop/base/deployment.yaml', DEPLOYMENT),
    );
    expect(
      (
        await readTarball(
          chunked(genuine),
          want('shop/base/deployment.yaml'),
          LIMITS,
        )
      ).size,
    ).toBe(1);
  });

  it('ignores entries that escape the archive with .. or an absolute path', async () => {
    const wanted = want('shop/base/deployment.yaml');
    for (const name of [
      '../shop/base/deployment.yaml',
      '/shop/base/deployment.yaml',
      'o-r-abc1234/../shop/base/deployment.yaml',
      'o-r-abc1234/shop/./base/deployment.yaml',
    ]) {
      const files = await readTarball(
        chunked(tarball(tarEntry(name, DEPLOYMENT))),
        wanted,
        LIMITS,
      );
      expect({ name, files }).toEqual({ name, files: new Map() });
    }
    expect(pathInCommit('o-r-abc1234/shop/base/deployment.yaml')).toBe(
      'shop/base/deployment.yaml',
    );
    expect(pathInCommit('o-r-abc1234/')).toBeUndefined();
  });

  it('skips a file larger than maxFileBytes', async () => {
    const wanted = want('big.yaml', 'shop/base/deployment.yaml');
    const files = await readTarball(chunked(archive, 512), wanted, {
      ...LIMITS,
      maxFileBytes: 4095,
    });
    expect([...files.keys()]).toEqual([oidOf('shop/base/deployment.yaml')]);
    const all = await readTarball(chunked(archive, 512), wanted, {
      ...LIMITS,
      maxFileBytes: 4096,
    });
    expect(all.get(oidOf('big.yaml'))?.length).toBe(4096);
  });

  it('aborts when the archive holds more than maxBytes uncompressed', async () => {
    const uncompressed = zlib.gunzipSync(archive).length;
    await expect(
      readTarball(chunked(archive), want('shop/base/deployment.yaml'), {
        ...LIMITS,
        maxBytes: uncompressed - 1,
      }),
    ).rejects.toThrow(
      `The tarball holds more than ${uncompressed - 1} bytes uncompressed`,
    );
    await expect(
      readTarball(chunked(archive), want('shop/base/deployment.yaml'), {
        ...LIMITS,
        maxBytes: uncompressed,
      }),
    ).resolves.toHaveProperty('size', 1);
  });

  it("reads the archive octokit's downloadTarballArchive streams from the simulator", async () => {
    const simulator = await GithubSimulator.start({
      repoDir: dir,
      owner: 'acme',
      repo: 'gitops',
      token: 'token',
    });
    try {
      const octokit = new Octokit({
        auth: 'token',
        baseUrl: simulator.apiBaseUrl,
      });
      const head = git(dir, ['rev-parse', 'HEAD']).toString().trim();
      // Unparsed, the answer's data is the body as a stream: the archive is never held whole.
      const { data } = await octokit.rest.repos.downloadTarballArchive({
        owner: 'acme',
        repo: 'gitops',
        ref: head,
        request: { parseSuccessResponseBody: false },
      });
      const files = await readTarball(
        data as unknown as AsyncIterable<Uint8Array>,
        blobs,
        LIMITS,
      );
      // Everything but the symbolic link, whose blob the caller fetches on its own.
      expect([...files.keys()].sort()).toEqual(
        [...blobs.keys()].filter(oid => oid !== oidOf('link.yaml')).sort(),
      );
      expect(simulator.countsByOperation()).toEqual({
        'repos/download-tarball-archive': 1,
        [ARCHIVE_DOWNLOAD]: 1,
      });
      expect(simulator.problems).toEqual([]);
    } finally {
      await simulator.stop();
    }
  });

  it('rejects an archive cut short', async () => {
    await expect(
      readTarball(
        chunked(archive.subarray(0, archive.length - 40)),
        want('shop/base/deployment.yaml'),
        LIMITS,
      ),
    ).rejects.toThrow();
  });
});
