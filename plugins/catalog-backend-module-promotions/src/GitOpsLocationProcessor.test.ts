import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { parseEntityYaml } from '@backstage/plugin-catalog-node';
import {
  gitRepositoryProvider,
  RepositoryRegistry,
} from '@gitops-promotions/plugin-promotions-node';
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
    repositories: new RepositoryRegistry({
      rootConfig: new ConfigReader({
        backend: {
          workingDirectory: fs.mkdtempSync(
            path.join(os.tmpdir(), 'catalog-cache-'),
          ),
        },
        promotions: {
          repositories: [
            { id: 'gitops', provider: 'git', url: dir },
            { id: 'remote', provider: 'git', url: `file://${dir}` },
          ],
        },
      }),
      logger: mockServices.logger.mock(),
      started: Promise.resolve(),
      providers: [gitRepositoryProvider],
    }),
    logger: mockServices.logger.mock(),
    // The main branch, and the layouts published to scaffold/cart and huge.
    branches: {
      allows: (_repository, branch) =>
        ['main', 'scaffold/cart', 'huge'].includes(branch),
    },
  });

  it.each(['gitops', 'remote'])(
    'reads entities from a branch of a repository (%s)',
    async repository => {
      const { handled, results } = await read(
        processor,
        'gitops-promotions',
        `${repository}:scaffold/cart:cart/catalog-info.yaml`,
      );
      expect(handled).toBe(true);
      expect(results.map(r => [r.type, r.entity?.metadata.name])).toEqual([
        ['entity', 'cart'],
      ]);
    },
  );

  it('refuses a catalog file too large to be one', async () => {
    execFileSync('git', ['checkout', '-q', '-b', 'huge'], { cwd: dir });
    fs.writeFileSync(
      path.join(dir, 'huge.yaml'),
      `# ${'x'.repeat(600 * 1024)}\n`,
    );
    execFileSync('git', ['add', '-A'], { cwd: dir });
    execFileSync(
      'git',
      ['-c', 'user.name=A', '-c', 'user.email=a@x', 'commit', '-qm', 'huge'],
      { cwd: dir },
    );
    execFileSync('git', ['checkout', '-q', 'main'], { cwd: dir });
    const { results } = await read(
      processor,
      'gitops-promotions',
      'gitops:huge:huge.yaml',
    );
    expect(results[0].error.message).toMatch(
      /huge.yaml on huge of gitops is \d+ bytes, more than the 524288 allowed/,
    );
  });

  it('leaves other location types to other processors', async () => {
    expect(
      (await read(processor, 'url', 'https://example.com/catalog-info.yaml'))
        .handled,
    ).toBe(false);
  });

  it('reports a missing file, an unknown repository and a bad branch or path clearly', async () => {
    const missing = await read(
      processor,
      'gitops-promotions',
      'gitops:main:cart/catalog-info.yaml',
    );
    expect(missing.results[0].error.message).toBe(
      'cart/catalog-info.yaml not found on main of gitops',
    );
    const unpublished = await read(
      processor,
      'gitops-promotions',
      'gitops:feature/x:cart/catalog-info.yaml',
    );
    expect(unpublished.results[0].error.message).toBe(
      "gitops:feature/x:cart/catalog-info.yaml: branch feature/x of gitops is neither the branch it is read from nor a published layout's",
    );
    for (const target of [
      'nowhere:main:a.yaml',
      'gitops:main',
      'gitops:--upload-pack=x:a.yaml',
      'gitops:main..x:a.yaml',
      'gitops:main:../a.yaml',
      'gitops:main:/etc/passwd',
    ]) {
      const bad = await read(processor, 'gitops-promotions', target);
      expect(bad.results[0].error.message).toContain(
        'is not <repository id>:<branch>:<path>',
      );
    }
  });
});
