import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { mockServices } from '@backstage/backend-test-utils';
import { GitRepository } from './GitRepository';

describe('GitRepository errors', () => {
  it("keeps git's own words, which name local paths, out of a failed read's message and in the log", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-corrupt-'));
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: dir, stdio: 'pipe' }).toString().trim();
    git('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(dir, 'values.yaml'), 'image: { tag: 1.0.0 }\n');
    git('add', '-A');
    git('-c', 'user.name=A', '-c', 'user.email=a@x', 'commit', '-qm', 'init');
    const oid = git('rev-parse', 'HEAD:values.yaml');

    const logger = mockServices.logger.mock();
    const repo = new GitRepository({
      id: 'gitops',
      url: dir,
      branch: 'main',
      cacheDir: os.tmpdir(),
      logger,
    });
    const snapshot = await repo.snapshot();
    // A truncated object stops git cat-file; a missing alternate makes it name a local path.
    const object = path.join(
      dir,
      '.git/objects',
      oid.slice(0, 2),
      oid.slice(2),
    );
    fs.chmodSync(object, 0o644);
    fs.writeFileSync(
      object,
      zlib
        .deflateSync(Buffer.from('blob 22\0image: { tag: 1.0.0 }\n'))
        .subarray(0, 12),
    );
    const alternate = path.join(dir, 'elsewhere/objects');
    fs.writeFileSync(
      path.join(dir, '.git/objects/info/alternates'),
      `${alternate}\n`,
    );

    const error: Error = await snapshot.readFile('values.yaml').then(
      () => {
        throw new Error('the corrupt object was read');
      },
      e => e,
    );
    expect(error.message).toBe(
      'Repository gitops: values.yaml could not be read',
    );
    expect(error.message).not.toContain(dir);
    const logged = logger.warn.mock.calls
      .map(([message]) => message)
      .join('\n');
    expect(logged).toContain(`Repository gitops: reading values.yaml (${oid})`);
    expect(logged).toContain(dir);
  });
});
