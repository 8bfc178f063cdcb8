import { LoggerService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import {
  EnvironmentSource,
  isBranchName,
} from '@gitops-promotions/plugin-promotions-common';
import {
  GitOpsRepository,
  pickTag,
  PromotionsRepositoriesService,
  RepositorySnapshot,
} from '@gitops-promotions/plugin-promotions-node';
import { EnvironmentSpec } from './entityTarget';

/** Tags listed per repository to pick one by pattern; past it, the environment notes it. */
export const TAG_LIMIT = 10_000;

/** What an environment is read from: a repository's tree at a branch, tag or commit. */
export interface SourceRead {
  repository: GitOpsRepository;
  snapshot: RepositorySnapshot;
  /** Absent for the entity's repository at its branch. */
  source?: EnvironmentSource;
  /** What the environment should note about how its source was picked. */
  warning?: string;
}

const errorMessage = (error: unknown) =>
  error instanceof Error ? error.message : String(error);

export interface ReadSourceDeps {
  repositories: Pick<PromotionsRepositoriesService, 'get'>;
  /** Tag listings already asked for, by repository: one listing per repository and refresh. */
  tags: Map<string, ReturnType<GitOpsRepository['tags']>>;
  tagLimit?: number;
  logger: LoggerService;
}

/** A revision as an Argo CD manifest writes it: `refs/heads/x` and `refs/tags/x` say which. */
export function revisionOf(revision: string): {
  kind: 'any' | 'branch' | 'tag';
  name: string;
} {
  if (revision.startsWith('refs/heads/')) {
    return { kind: 'branch', name: revision.slice('refs/heads/'.length) };
  }
  if (revision.startsWith('refs/tags/')) {
    return { kind: 'tag', name: revision.slice('refs/tags/'.length) };
  }
  return { kind: 'any', name: revision };
}

/**
 * Reads the branch, tag or repository a spec names. One that does not exist is a
 * `NotFoundError`, which becomes the environment's error; any other failure is the
 * repository's, and its entity keeps its last known state.
 */
export async function readSpecSource(
  spec: EnvironmentSpec,
  home: SourceRead,
  deps: ReadSourceDeps,
): Promise<SourceRead> {
  const { tags } = deps;
  const repositoryId = spec.repository.id;
  const tagLimit = deps.tagLimit ?? TAG_LIMIT;
  const repository =
    repositoryId === home.repository.id
      ? home.repository
      : await deps.repositories.get(repositoryId);
  const tagsOf = () => {
    if (!tags.has(repositoryId)) {
      tags.set(repositoryId, repository.tags({ limit: tagLimit }));
    }
    return tags.get(repositoryId)!;
  };
  const read = spec.read;
  const named = (
    kind: EnvironmentSource['kind'],
    ref: string,
    snapshot: RepositorySnapshot,
    pattern?: string,
  ): SourceRead => ({
    repository,
    snapshot,
    source: {
      repositoryId,
      kind,
      ref,
      revision: snapshot.commit,
      ...(pattern ? { pattern } : {}),
      ...(spec.application ? { application: spec.application } : {}),
    },
  });
  if (read.kind === 'default') {
    if (repository === home.repository) return home;
    const snapshot = await repository.snapshot();
    return named('branch', repository.branch, snapshot);
  }
  if (read.kind === 'branch') {
    return named('branch', read.name, await repository.snapshot(read.name));
  }
  if (read.kind === 'tag') {
    const listed = await tagsOf();
    const tag = pickTag(listed, read.pattern);
    const truncated =
      listed.length >= tagLimit
        ? `Only ${tagLimit} of the tags of repository ${repositoryId} were compared, so a newer one matching ${read.pattern} may be missed`
        : undefined;
    if (!tag) {
      throw new NotFoundError(
        `Repository ${repositoryId} has no tag matching ${read.pattern}${
          truncated ? ` (${truncated})` : ''
        }`,
      );
    }
    return {
      ...named(
        'tag',
        tag.name,
        await repository.snapshotAt(tag.commit),
        read.pattern.includes('*') ? read.pattern : undefined,
      ),
      ...(truncated ? { warning: truncated } : {}),
    };
  }
  // A revision an Argo CD manifest names: a branch, a tag, or a commit, as Argo CD tries them.
  const { kind, name } = revisionOf(read.name);
  if (name === repository.branch && repository === home.repository) {
    return home;
  }
  if (kind !== 'tag' && isBranchName(name)) {
    try {
      return named('branch', name, await repository.snapshot(name));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  const tag = kind !== 'branch' && (await tagsOf()).find(t => t.name === name);
  if (tag) {
    return named('tag', tag.name, await repository.snapshotAt(tag.commit));
  }
  if (kind === 'any' && /^[0-9a-f]{40}$/.test(name)) {
    try {
      return named('commit', name, await repository.snapshotAt(name));
    } catch (error) {
      // A commit no branch the repository is read through holds, or none at all.
      deps.logger.info(
        `Repository ${repositoryId}: commit ${name} could not be read: ${errorMessage(
          error,
        )}`,
      );
    }
  }
  throw new NotFoundError(
    `Repository ${repositoryId} has no ${
      { any: 'branch, tag or commit', branch: 'branch', tag: 'tag' }[kind]
    } named ${name}`,
  );
}
