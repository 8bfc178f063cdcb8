import { SimulatorContext } from './context';
import { GitCommit, NO_COMMIT } from './GitRepository';
import { GithubUser, noreplyEmail } from './GithubObjects';

/**
 * The payload of a push webhook for a ref that moved from `before` to `after` (NO_COMMIT when
 * it was created or deleted): the commits it brought, with the paths each added, removed and
 * modified, as GitHub lists them.
 */
export async function pushPayload(
  ctx: SimulatorContext,
  ref: string,
  before: string,
  after: string,
  pusher: GithubUser,
) {
  const created = before === NO_COMMIT;
  const deleted = after === NO_COMMIT;
  let commits: GitCommit[] = [];
  let forced = false;
  if (!deleted) {
    // A new ref brings the commits no other ref has; a moved one those after `before`.
    const others = created
      ? (await ctx.git.refs())
          .filter(r => r.ref !== ref && r.type === 'commit')
          .map(r => `^${r.sha}`)
      : [`^${before}`];
    commits = await ctx.git.log([
      '--reverse',
      '--max-count=2048',
      after,
      ...others,
    ]);
    forced = !created && (await ctx.git.mergeBase(before, after)) !== before;
  }
  // GitHub lists at most 2048 commits, oldest first.
  const paths = await ctx.git.changedPaths(commits.map(commit => commit.sha));
  const shown = commits.map(commit => ({
    id: commit.sha,
    tree_id: commit.tree,
    distinct: true,
    message: commit.message,
    timestamp: commit.committer.date,
    url: ctx.objects.html(`/commit/${commit.sha}`),
    author: { name: commit.author.name, email: commit.author.email },
    committer: { name: commit.committer.name, email: commit.committer.email },
    ...paths.get(commit.sha)!,
  }));
  let headCommit = shown.length ? shown[shown.length - 1] : null;
  if (!deleted && !headCommit) {
    const commit = (await ctx.git.commit(after))!;
    headCommit = {
      id: commit.sha,
      tree_id: commit.tree,
      distinct: false,
      message: commit.message,
      timestamp: commit.committer.date,
      url: ctx.objects.html(`/commit/${commit.sha}`),
      author: { name: commit.author.name, email: commit.author.email },
      committer: {
        name: commit.committer.name,
        email: commit.committer.email,
      },
      added: [],
      removed: [],
      modified: [],
    };
  }
  const repository = ctx.repository();
  const epoch = (time: string) => Math.floor(new Date(time).getTime() / 1000);
  return {
    ref,
    before,
    after,
    created,
    deleted,
    forced,
    base_ref: null,
    compare: created
      ? ctx.objects.html(`/commit/${after.slice(0, 12)}`)
      : ctx.objects.html(
          `/compare/${before.slice(0, 12)}...${after.slice(0, 12)}`,
        ),
    commits: shown,
    head_commit: headCommit,
    // Push events give the repository's times in seconds since the epoch.
    repository: {
      ...repository,
      created_at: epoch(repository.created_at),
      pushed_at: Math.floor(Date.now() / 1000),
      stargazers: 0,
      master_branch: ctx.defaultBranch,
      organization: ctx.owner,
    },
    pusher: { name: pusher.login, email: noreplyEmail(pusher) },
    sender: ctx.objects.user(pusher),
  };
}
