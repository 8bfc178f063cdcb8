import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { GitRepository } from './GitRepository';

/** A repository with main and two published layouts' branches, one of them far too large. */
function remote() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promotions-branches-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, stdio: 'pipe' }).toString().trim();
  const commit = (message: string) => {
    git('add', '-A');
    git('-c', 'user.name=A', '-c', 'user.email=a@x', 'commit', '-qm', message);
  };
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'README.md'), '# GitOps\n');
  commit('init');
  git('checkout', '-q', '-b', 'scaffold/cart');
  fs.mkdirSync(path.join(dir, 'cart'));
  fs.writeFileSync(path.join(dir, 'cart/catalog-info.yaml'), 'kind: x\n');
  commit('Add cart');
  git('checkout', '-q', '-b', 'scaffold/huge', 'main');
  // Random bytes do not compress: the branch costs what it weighs.
  fs.writeFileSync(path.join(dir, 'huge.bin'), crypto.randomBytes(3 << 20));
  commit('Add a huge file');
  git('checkout', '-q', 'main');
  return dir;
}

describe('GitRepository branches', () => {
  it('refuses and forgets a branch that adds more than the repository allows, and still reads the others', async () => {
    const dir = remote();
    const cacheDir = fs.mkdtempSync(
      path.join(os.tmpdir(), 'promotions-cache-'),
    );
    const repo = new GitRepository({
      id: 'gitops',
      url: `file://${dir}`,
      branch: 'main',
      cacheDir,
      logger: mockServices.logger.mock(),
      maxBranchBytes: 1 << 20,
    });
    await expect(repo.snapshot('scaffold/huge')).rejects.toThrow(
      /^Repository gitops: branch scaffold\/huge adds \d+ bytes, more than the 1048576 allowed$/,
    );
    expect(await repo.branchHead('scaffold/huge')).toBeUndefined();
    const cart = await repo.snapshot('scaffold/cart');
    expect([...cart.files.keys()].sort()).toEqual([
      'README.md',
      'cart/catalog-info.yaml',
    ]);
    expect([...(await repo.snapshot()).files.keys()]).toEqual(['README.md']);
  });
});
