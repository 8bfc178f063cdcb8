import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { parseEntityYaml } from '@backstage/plugin-catalog-node';
import { readPromotionsConfig } from '@gitops-promotions/plugin-promotions-backend';
import { GitOpsLocationProcessor } from './GitOpsLocationProcessor';

function repositoryWithBranch() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-gitops-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(dir, 'README.md'), '# GitOps\n');
  git('add', '-A');
  git(
    '-c',
    'user.name=A',
    '-c',
    'user.email=a@example.com',
    'commit',
    '-qm',
    'init',
  );
  git('checkout', '-q', '-b', 'scaffold/cart');
  fs.mkdirSync(path.join(dir, 'cart'));
  fs.writeFileSync(
    path.join(dir, 'cart/catalog-info.yaml'),
    'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: cart\nspec:\n  type: service\n  owner: guests\n  lifecycle: experimental\n',
  );
  git('add', '-A');
  git(
    '-c',
    'user.name=A',
    '-c',
    'user.email=a@example.com',
    'commit',
    '-qm',
    'Add cart',
  );
  git('checkout', '-q', 'main');
  return dir;
}

async function read(
  processor: GitOpsLocationProcessor,
  type: string,
  target: string,
) {
  const results: any[] = [];
  const handled = await processor.readLocation(
    { type, target },
    false,
    result => results.push(result),
    async function* parser({ data, location }) {
      yield* parseEntityYaml(data, location);
    },
  );
  return { handled, results };
}

describe('GitOpsLocationProcessor', () => {
  const dir = repositoryWithBranch();
  const processor = new GitOpsLocationProcessor({
    config: readPromotionsConfig(
      new ConfigReader({
        promotions: {
          repositories: [
            { id: 'gitops', provider: 'git', url: dir },
            {
              id: 'hub',
              provider: 'github',
              url: 'https://github.com/acme/gitops',
            },
          ],
        },
      }),
    ),
    cacheDir: fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-cache-')),
    logger: mockServices.logger.mock(),
  });

  it('reads entities from a branch of a git-provider repository', async () => {
    const { handled, results } = await read(
      processor,
      'gitops-promotions',
      'gitops:scaffold/cart:cart/catalog-info.yaml',
    );
    expect(handled).toBe(true);
    expect(results.map(r => [r.type, r.entity?.metadata.name])).toEqual([
      ['entity', 'cart'],
    ]);
  });

  it('leaves other location types to other processors', async () => {
    expect(
      (await read(processor, 'url', 'https://example.com/catalog-info.yaml'))
        .handled,
    ).toBe(false);
  });

  it('reports a missing file, an unknown repository and a non-git repository clearly', async () => {
    const missing = await read(
      processor,
      'gitops-promotions',
      'gitops:main:cart/catalog-info.yaml',
    );
    expect(missing.results[0].error.message).toBe(
      'cart/catalog-info.yaml not found on main of gitops',
    );
    for (const target of [
      'nowhere:main:a.yaml',
      'hub:main:a.yaml',
      'gitops:main',
    ]) {
      const bad = await read(processor, 'gitops-promotions', target);
      expect(bad.results[0].error.message).toContain(
        'is not <git repository id>:<branch>:<path>',
      );
    }
  });
});
