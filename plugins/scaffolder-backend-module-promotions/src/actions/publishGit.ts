import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConflictError, InputError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import {
  gitSource,
  PromotionsConfig,
  runGit,
} from '@gitops-promotions/plugin-promotions-backend';

const BRANCH = /^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._/-]{1,200}(?<![./])$/;

/** Copies the workspace into the clone, refusing to follow a link the repository holds. */
async function copyInto(source: string, target: string) {
  for (const entry of await fs.readdir(source, { withFileTypes: true })) {
    if (entry.name === '.git') continue;
    const from = path.join(source, entry.name);
    const to = path.join(target, entry.name);
    const existing = await fs.lstat(to).catch(() => undefined);
    if (existing?.isSymbolicLink()) {
      throw new InputError(
        `the repository has a symbolic link at ${entry.name}; nothing is written through it`,
      );
    }
    if (entry.isDirectory()) {
      await fs.mkdir(to, { recursive: true });
      await copyInto(from, to);
    } else if (entry.isFile()) {
      await fs.copyFile(from, to);
    }
  }
}

/**
 * `promotions:publish-git`: commits the workspace onto a new branch of a GitOps repository of
 * the `git` provider (a local path or any Git URL) and pushes it, the counterpart of
 * `publish:github:pull-request` for repositories that are not on GitHub.
 */
export function createPublishGitAction(options: { config: PromotionsConfig }) {
  return createTemplateAction({
    id: 'promotions:publish-git',
    description:
      'Commits the workspace on a new branch of a git-provider GitOps repository and pushes it',
    supportsDryRun: true,
    examples: [
      {
        description:
          'Publish a new service layout on a branch of the example repository',
        example: `steps:
  - id: publish
    action: promotions:publish-git
    input:
      repository: example-gitops
      branch: scaffold/payment
      message: Add payment with its environments
`,
      },
    ],
    schema: {
      input: {
        repository: z =>
          z
            .string()
            .describe(
              'GitOps repository id from promotions.repositories (provider git)',
            ),
        branch: z => z.string().describe('New branch to create'),
        message: z => z.string().min(1).describe('Commit message'),
      },
      output: {
        branch: z => z.string(),
        commit: z => z.string(),
        baseBranch: z => z.string(),
      },
    },
    async handler(ctx) {
      const { branch, message } = ctx.input;
      const repository = options.config.repositories.get(ctx.input.repository);
      if (!repository)
        throw new InputError(
          `repository "${ctx.input.repository}" is not in promotions.repositories`,
        );
      if (repository.provider !== 'git') {
        throw new InputError(
          `repository "${repository.id}" uses provider ${repository.provider}; publish it with its own action`,
        );
      }
      if (!BRANCH.test(branch))
        throw new InputError(`"${branch}" is not a valid branch name`);

      const source = gitSource(repository.url);
      const dir = await fs.mkdtemp(
        path.join(os.tmpdir(), 'promotions-publish-'),
      );
      try {
        await runGit([
          'clone',
          '--quiet',
          '--branch',
          repository.branch,
          '--',
          source,
          dir,
        ]);
        const exists = await runGit(
          ['ls-remote', '--heads', 'origin', `refs/heads/${branch}`],
          dir,
        );
        if (exists.toString().trim()) {
          throw new ConflictError(
            `branch "${branch}" already exists in repository ${repository.id}`,
          );
        }
        await runGit(['checkout', '--quiet', '-b', branch], dir);
        await copyInto(ctx.workspacePath, dir);
        await runGit(['add', '-A'], dir);
        const profile = (ctx.user?.entity?.spec?.profile ?? {}) as {
          displayName?: string;
          email?: string;
        };
        const name =
          profile.displayName ??
          ctx.user?.entity?.metadata.name ??
          'Backstage Scaffolder';
        const email = profile.email ?? 'scaffolder@backstage.invalid';
        await runGit(
          [
            '-c',
            `user.name=${name}`,
            '-c',
            `user.email=${email}`,
            'commit',
            '--quiet',
            '-m',
            message,
          ],
          dir,
        );
        const commit = (await runGit(['rev-parse', 'HEAD'], dir))
          .toString()
          .trim();
        if (ctx.isDryRun) {
          ctx.logger.info(
            `Dry run: would push ${commit} to ${branch} of ${repository.id}`,
          );
        } else {
          await runGit(
            [
              'push',
              '--quiet',
              'origin',
              `refs/heads/${branch}:refs/heads/${branch}`,
            ],
            dir,
          );
          ctx.logger.info(
            `Pushed ${commit} to branch ${branch} of ${repository.id}`,
          );
        }
        ctx.output('branch', branch);
        ctx.output('commit', commit);
        ctx.output('baseBranch', repository.branch);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    },
  });
}
