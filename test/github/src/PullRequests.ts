import { Answer, Call, notFound, pageOf, unprocessable } from './answers';
import { Checks } from './Checks';
import { SimulatorContext } from './context';
import { githubTime, isRefName } from './GitRepository';
import { GithubUser, stableId } from './GithubObjects';

interface PullRequestRecord {
  number: number;
  id: number;
  title: string;
  body: string | null;
  head: string;
  base: string;
  headSha: string;
  baseSha: string;
  user: GithubUser;
  state: 'open' | 'closed';
  draft: boolean;
  merged: boolean;
  mergedAt: string | null;
  mergedBy: GithubUser | null;
  mergeCommitSha: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Set by a test to make it unmergeable whatever Git says. */
  mergeable?: boolean;
}

interface ReviewRecord {
  id: number;
  pull: number;
  user: GithubUser;
  body: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING';
  commitId: string;
  submittedAt?: string;
}

interface CommentRecord {
  id: number;
  issue: number;
  user: GithubUser;
  body: string;
  createdAt: string;
  updatedAt: string;
}

/** A pull request the simulator holds, as a test sees it. */
export interface SimulatedPullRequest {
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  draft: boolean;
  merged: boolean;
  /** Branch names. */
  head: string;
  base: string;
  headSha: string;
  mergeCommitSha: string | null;
  /** The login of who opened it. */
  user: string;
  mergedBy: string | null;
  reviews: { user: string; state: string; commitId: string }[];
  comments: { user: string; body: string }[];
}

/** Who GitHub says made the commits it creates itself, such as merges. */
const WEB_FLOW = { name: 'GitHub', email: 'noreply@github.com' };

/** GitHub's "Validation Failed" about a pull request. */
const pullRequestInvalid = (call: Call, error: Record<string, string>) =>
  unprocessable(call, 'Validation Failed', [
    { resource: 'PullRequest', ...error },
  ]);

const headline = (message: string) => message.split('\n')[0];

/**
 * Pull requests, their reviews and comments, kept in memory over the Git repository: opened,
 * edited, closed, reopened, and merged with real merge, squash or rebase commits.
 */
export class PullRequests {
  private readonly pulls = new Map<number, PullRequestRecord>();
  private readonly reviews: ReviewRecord[] = [];
  private readonly comments: CommentRecord[] = [];
  /** Whether Git merges a head into a base cleanly, by `base:head`. */
  private readonly mergeable = new Map<string, boolean>();
  /** Commits and line counts from a base to a head, by `base:head`. */
  private readonly stats = new Map<
    string,
    {
      commits: number;
      additions: number;
      deletions: number;
      changed_files: number;
    }
  >();
  private nextNumber: number;
  private nextId = 1;

  constructor(
    private readonly ctx: SimulatorContext,
    private readonly checks: Checks,
    firstNumber = 1,
  ) {
    this.nextNumber = firstNumber;
  }

  /** The pull requests that exist, in the order they were opened. */
  snapshot(): SimulatedPullRequest[] {
    return [...this.pulls.values()].map(pr => ({
      number: pr.number,
      title: pr.title,
      body: pr.body,
      state: pr.state,
      draft: pr.draft,
      merged: pr.merged,
      head: pr.head,
      base: pr.base,
      headSha: pr.headSha,
      mergeCommitSha: pr.mergeCommitSha,
      user: pr.user.login,
      mergedBy: pr.mergedBy?.login ?? null,
      reviews: this.reviews
        .filter(review => review.pull === pr.number)
        .map(review => ({
          user: review.user.login,
          state: review.state,
          commitId: review.commitId,
        })),
      comments: this.comments
        .filter(comment => comment.issue === pr.number)
        .map(comment => ({ user: comment.user.login, body: comment.body })),
    }));
  }

  setMergeable(number: number, mergeable: boolean | undefined) {
    const pr = this.pulls.get(number);
    if (!pr) throw new Error(`there is no pull request #${number}`);
    pr.mergeable = mergeable;
  }

  openCount(): number {
    return [...this.pulls.values()].filter(pr => pr.state === 'open').length;
  }

  /** `pull-request-minimal` of the open pull requests whose head is a commit. */
  openAt(sha: string) {
    return [...this.pulls.values()]
      .filter(pr => pr.state === 'open' && pr.headSha === sha)
      .map(pr => ({
        id: pr.id,
        number: pr.number,
        url: this.ctx.objects.api(`/pulls/${pr.number}`),
        head: {
          ref: pr.head,
          sha: pr.headSha,
          repo: this.ctx.objects.repositoryReference(),
        },
        base: {
          ref: pr.base,
          sha: pr.baseSha,
          repo: this.ctx.objects.repositoryReference(),
        },
      }));
  }

  /** A branch moved: open pull requests on it follow, and those it heads synchronize. */
  followPush(branch: string, after: string, pusher: GithubUser) {
    for (const pr of this.pulls.values()) {
      if (pr.state !== 'open') continue;
      if (pr.base === branch) pr.baseSha = after;
      if (pr.head !== branch || pr.headSha === after) continue;
      const previous = pr.headSha;
      pr.headSha = after;
      pr.updatedAt = githubTime(Date.now());
      this.event(pr, 'synchronize', pusher, { before: previous, after });
    }
  }

  async withPull(
    call: Call,
    work: (pr: PullRequestRecord) => Promise<Answer>,
  ): Promise<Answer> {
    const pr = this.pulls.get(Number(call.params.pull_number));
    if (!pr) return notFound('pulls/pulls#get-a-pull-request');
    await this.refresh(pr);
    return work(pr);
  }

  /** An open pull request follows its branches; a closed one keeps where they were. */
  private async refresh(pr: PullRequestRecord) {
    if (pr.state !== 'open') return;
    const [head, base] = await Promise.all([
      this.ctx.git.resolveCommit(`refs/heads/${pr.head}`),
      this.ctx.git.resolveCommit(`refs/heads/${pr.base}`),
    ]);
    if (head && head !== pr.headSha) {
      pr.headSha = head;
      pr.updatedAt = githubTime(Date.now());
    }
    if (base) pr.baseSha = base;
  }

  /** Whether Git merges a pull request's head into its base without conflicts. */
  private async mergesCleanly(pr: PullRequestRecord): Promise<boolean> {
    const key = `${pr.baseSha}:${pr.headSha}`;
    let clean = this.mergeable.get(key);
    if (clean === undefined) {
      clean = (await this.ctx.git.mergeTrees(pr.baseSha, pr.headSha)).clean;
      this.mergeable.set(key, clean);
    }
    return clean;
  }

  /** `mergeable` and `mergeable_state` as GitHub computes them, without branch protection. */
  private async mergeability(
    pr: PullRequestRecord,
  ): Promise<{ mergeable: boolean | null; state: string }> {
    if (pr.state !== 'open') return { mergeable: null, state: 'unknown' };
    if (pr.mergeable === false || !(await this.mergesCleanly(pr)))
      return { mergeable: false, state: 'dirty' };
    if (pr.draft) return { mergeable: true, state: 'draft' };
    const checks = this.checks.latestCheckRuns(pr.headSha);
    const statuses = this.checks.latestStatuses(pr.headSha);
    const unstable =
      checks.some(
        run =>
          run.status !== 'completed' ||
          !['success', 'neutral', 'skipped'].includes(run.conclusion ?? ''),
      ) || statuses.some(status => status.state !== 'success');
    return { mergeable: true, state: unstable ? 'unstable' : 'clean' };
  }

  /** `pull-request` (full) or `pull-request-simple`, as they are now. */
  async pullJson(pr: PullRequestRecord, full: boolean) {
    const number = pr.number;
    const links = {
      self: this.ctx.objects.api(`/pulls/${number}`),
      html: this.ctx.objects.html(`/pull/${number}`),
      issue: this.ctx.objects.api(`/issues/${number}`),
      comments: this.ctx.objects.api(`/issues/${number}/comments`),
      review_comments: this.ctx.objects.api(`/pulls/${number}/comments`),
      review_comment: this.ctx.objects.api('/pulls/comments{/number}'),
      commits: this.ctx.objects.api(`/pulls/${number}/commits`),
      statuses: this.ctx.objects.api(`/statuses/${pr.headSha}`),
    };
    const repository = this.ctx.repository();
    const owner = this.ctx.objects.user(this.ctx.objects.owner);
    const simple = {
      url: links.self,
      id: pr.id,
      node_id: this.ctx.objects.nodeId('PullRequest', pr.id),
      html_url: links.html,
      diff_url: `${links.html}.diff`,
      patch_url: `${links.html}.patch`,
      issue_url: links.issue,
      commits_url: links.commits,
      review_comments_url: links.review_comments,
      review_comment_url: links.review_comment,
      comments_url: links.comments,
      statuses_url: links.statuses,
      number,
      state: pr.state,
      locked: false,
      title: pr.title,
      user: this.ctx.objects.user(pr.user),
      body: pr.body,
      labels: [],
      milestone: null,
      active_lock_reason: null,
      created_at: pr.createdAt,
      updated_at: pr.updatedAt,
      closed_at: pr.closedAt,
      merged_at: pr.mergedAt,
      merge_commit_sha: pr.mergeCommitSha,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      head: {
        label: `${this.ctx.owner}:${pr.head}`,
        ref: pr.head,
        sha: pr.headSha,
        user: owner,
        repo: repository,
      },
      base: {
        label: `${this.ctx.owner}:${pr.base}`,
        ref: pr.base,
        sha: pr.baseSha,
        user: owner,
        repo: repository,
      },
      _links: Object.fromEntries(
        Object.entries(links).map(([name, href]) => [name, { href }]),
      ),
      author_association: this.ctx.objects.association(pr.user),
      auto_merge: null,
      draft: pr.draft,
    };
    if (!full) return simple;
    const { mergeable, state } = await this.mergeability(pr);
    const stats = await this.pullStats(pr);
    return {
      ...simple,
      merged: pr.merged,
      mergeable,
      rebaseable: mergeable,
      mergeable_state: state,
      merged_by: pr.mergedBy ? this.ctx.objects.user(pr.mergedBy) : null,
      comments: this.comments.filter(c => c.issue === number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      ...stats,
    };
  }

  /** The commits and line counts of a pull request, from its base to its head. */
  private async pullStats(pr: PullRequestRecord) {
    const key = `${pr.baseSha}:${pr.headSha}`;
    const cached = this.stats.get(key);
    if (cached) return cached;
    const from =
      (await this.ctx.git.mergeBase(pr.baseSha, pr.headSha)) ?? pr.baseSha;
    const changes = await this.ctx.git.diff(from, pr.headSha);
    const stats = {
      commits: await this.ctx.git.countCommits([`${from}..${pr.headSha}`]),
      additions: changes.reduce((sum, c) => sum + c.additions, 0),
      deletions: changes.reduce((sum, c) => sum + c.deletions, 0),
      changed_files: changes.length,
    };
    this.stats.set(key, stats);
    return stats;
  }

  async listPulls(call: Call): Promise<Answer> {
    const state = call.query.get('state') ?? 'open';
    const head = call.query.get('head');
    const base = call.query.get('base');
    const direction =
      call.query.get('direction') ??
      (['created', null].includes(call.query.get('sort')) ? 'desc' : 'asc');
    const sort = call.query.get('sort') ?? 'created';
    let pulls = [...this.pulls.values()].filter(
      pr =>
        (state === 'all' || pr.state === state) &&
        (!head || head === `${this.ctx.owner}:${pr.head}`) &&
        (!base || base === pr.base),
    );
    // GitHub filters by head only in the user:branch form; a bare branch name matches nothing.
    if (head && !head.includes(':')) pulls = [];
    const byUpdate = sort === 'updated';
    pulls.sort((a, b) =>
      byUpdate
        ? a.updatedAt.localeCompare(b.updatedAt) || a.number - b.number
        : a.number - b.number,
    );
    if (direction === 'desc') pulls.reverse();
    const { perPage, page: number, skip } = pageOf(call.query);
    for (const pr of pulls) await this.refresh(pr);
    const headers: Record<string, string> = {};
    if (pulls.length > skip + perPage) {
      const next = new URLSearchParams(call.query);
      next.set('page', String(number + 1));
      headers.link = `<${this.ctx.objects.api(`/pulls?${next}`)}>; rel="next"`;
    }
    return {
      status: 200,
      headers,
      body: await Promise.all(
        pulls.slice(skip, skip + perPage).map(pr => this.pullJson(pr, false)),
      ),
    };
  }

  createPull(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const body = call.body as {
        title?: string;
        head: string;
        base: string;
        body?: string;
        draft?: boolean;
      };
      const [headOwner, head] = body.head.includes(':')
        ? body.head.split(':', 2)
        : [this.ctx.owner, body.head];
      const base = body.base;
      if (!body.title)
        return pullRequestInvalid(call, {
          field: 'title',
          code: 'missing_field',
        });
      const headSha =
        headOwner === this.ctx.owner && isRefName(`refs/heads/${head}`)
          ? await this.ctx.git.resolveCommit(`refs/heads/${head}`)
          : undefined;
      if (!headSha)
        return pullRequestInvalid(call, { field: 'head', code: 'invalid' });
      const baseSha = isRefName(`refs/heads/${base}`)
        ? await this.ctx.git.resolveCommit(`refs/heads/${base}`)
        : undefined;
      if (!baseSha)
        return pullRequestInvalid(call, { field: 'base', code: 'invalid' });
      const existing = [...this.pulls.values()].find(
        pr => pr.state === 'open' && pr.head === head && pr.base === base,
      );
      if (existing)
        return pullRequestInvalid(call, {
          code: 'custom',
          message: `A pull request already exists for ${this.ctx.owner}:${head}.`,
        });
      if (
        head === base ||
        (await this.ctx.git.countCommits([`${baseSha}..${headSha}`])) === 0
      )
        return pullRequestInvalid(call, {
          code: 'custom',
          message: `No commits between ${base} and ${head}`,
        });
      const now = githubTime(Date.now());
      const pr: PullRequestRecord = {
        number: this.nextNumber++,
        id: stableId(`pull:${this.nextId++}`),
        title: body.title,
        body: body.body ?? null,
        head,
        base,
        headSha,
        baseSha,
        user: call.user,
        state: 'open',
        draft: body.draft ?? false,
        merged: false,
        mergedAt: null,
        mergedBy: null,
        mergeCommitSha: null,
        createdAt: now,
        updatedAt: now,
        closedAt: null,
      };
      this.pulls.set(pr.number, pr);
      this.event(pr, 'opened', call.user);
      return { status: 201, body: await this.pullJson(pr, true) };
    });
  }

  updatePull(call: Call): Promise<Answer> {
    return this.ctx.exclusive(() =>
      this.withPull(call, async pr => {
        const body = call.body as {
          title?: string;
          body?: string;
          state?: 'open' | 'closed';
          base?: string;
        };
        // Everything is checked before anything changes: a refused edit changes nothing.
        const newBase =
          body.base !== undefined && body.base !== pr.base
            ? body.base
            : undefined;
        const newBaseSha =
          newBase !== undefined && isRefName(`refs/heads/${newBase}`)
            ? await this.ctx.git.resolveCommit(`refs/heads/${newBase}`)
            : undefined;
        if (newBase !== undefined && (!newBaseSha || pr.state !== 'open'))
          return pullRequestInvalid(call, { field: 'base', code: 'invalid' });
        const reopen = body.state === 'open' && pr.state === 'closed';
        if (reopen && pr.merged)
          return pullRequestInvalid(call, {
            code: 'custom',
            message: 'Cannot reopen a merged pull request',
          });
        const twin = [...this.pulls.values()].find(
          o => o.state === 'open' && o.head === pr.head && o.base === pr.base,
        );
        if (reopen && twin)
          return pullRequestInvalid(call, {
            code: 'custom',
            message: `A pull request already exists for ${this.ctx.owner}:${pr.head}.`,
          });

        const changes: Record<string, { from: string | null }> = {};
        if (newBase !== undefined && newBaseSha) {
          changes.base = { from: pr.base };
          pr.base = newBase;
          pr.baseSha = newBaseSha;
        }
        if (body.title !== undefined && body.title !== pr.title) {
          changes.title = { from: pr.title };
          pr.title = body.title;
        }
        if (body.body !== undefined && body.body !== pr.body) {
          changes.body = { from: pr.body };
          pr.body = body.body;
        }
        const now = githubTime(Date.now());
        let action: 'closed' | 'reopened' | undefined;
        if (body.state === 'closed' && pr.state === 'open') {
          pr.state = 'closed';
          pr.closedAt = now;
          action = 'closed';
        } else if (reopen) {
          pr.state = 'open';
          pr.closedAt = null;
          action = 'reopened';
          await this.refresh(pr);
        }
        const edited = Object.keys(changes).length > 0;
        if (edited || action) pr.updatedAt = now;
        if (edited) this.event(pr, 'edited', call.user, changes);
        if (action) this.event(pr, action, call.user);
        return { status: 200, body: await this.pullJson(pr, true) };
      }),
    );
  }

  async checkMerged(call: Call): Promise<Answer> {
    const pr = this.pulls.get(Number(call.params.pull_number));
    // GitHub's description gives both answers no body.
    return { status: pr?.merged ? 204 : 404 };
  }

  mergePull(call: Call): Promise<Answer> {
    return this.ctx.exclusive(() =>
      this.withPull(call, async pr => {
        const body = (call.body ?? {}) as {
          commit_title?: string;
          commit_message?: string;
          sha?: string;
          merge_method?: 'merge' | 'squash' | 'rebase';
        };
        const notMergeable = (message = 'Pull Request is not mergeable') => ({
          status: 405,
          body: { message, documentation_url: call.docs },
        });
        if (pr.state !== 'open') return notMergeable();
        if (body.sha !== undefined && body.sha !== pr.headSha)
          return {
            status: 409,
            body: {
              message:
                'Head branch was modified. Review and try the merge again.',
              documentation_url: call.docs,
            },
          };
        if (pr.draft || pr.mergeable === false) return notMergeable();
        const method = body.merge_method ?? 'merge';
        const merged = await this.mergeCommit(pr, method, body, call.user);
        if (!merged) return notMergeable();
        const ref = `refs/heads/${pr.base}`;
        if (!(await this.ctx.git.compareAndSwap(ref, merged, pr.baseSha)))
          return notMergeable(
            'Base branch was modified. Review and try the merge again.',
          );
        const now = githubTime(Date.now());
        const before = pr.baseSha;
        Object.assign(pr, {
          state: 'closed',
          merged: true,
          mergedAt: now,
          mergedBy: call.user,
          mergeCommitSha: merged,
          closedAt: now,
          updatedAt: now,
        });
        this.ctx.pushed(ref, before, merged, call.user);
        this.event(pr, 'closed', call.user);
        return {
          status: 200,
          body: {
            sha: merged,
            merged: true,
            message: 'Pull Request successfully merged',
          },
        };
      }),
    );
  }

  /** Writes the commit a merge method makes of a pull request; undefined on a conflict. */
  private async mergeCommit(
    pr: PullRequestRecord,
    method: 'merge' | 'squash' | 'rebase',
    body: { commit_title?: string; commit_message?: string },
    user: GithubUser,
  ): Promise<string | undefined> {
    const committer = { ...WEB_FLOW, date: githubTime(Date.now()) };
    const commits = await this.ctx.git.log([
      '--reverse',
      `${pr.baseSha}..${pr.headSha}`,
    ]);
    if (method === 'rebase') {
      // GitHub cannot rebase merge commits.
      if (commits.some(commit => commit.parents.length > 1)) return undefined;
      let onto = pr.baseSha;
      for (const commit of commits) {
        // Replaying a commit is merging it into the new base with its parent as the merge
        // base: a commit of the new base's tree on that parent makes Git choose that one.
        const parent = commit.parents[0];
        const base = parent
          ? await this.ctx.git.writeCommit({
              tree: (await this.ctx.git.commit(onto))!.tree,
              parents: [parent],
              message: 'rebase',
              author: committer,
              committer,
            })
          : onto;
        const { tree, clean } = await this.ctx.git.mergeTrees(base, commit.sha);
        if (!clean) return undefined;
        onto = await this.ctx.git.writeCommit({
          tree,
          parents: [onto],
          message: commit.message,
          author: commit.author,
          committer,
        });
      }
      return onto;
    }
    const { tree, clean } = await this.ctx.git.mergeTrees(
      pr.baseSha,
      pr.headSha,
    );
    if (!clean) return undefined;
    if (method === 'squash') {
      const single = commits.length === 1 ? commits[0].message : undefined;
      const title =
        body.commit_title ??
        `${single ? headline(single) : pr.title} (#${pr.number})`;
      const message =
        body.commit_message ??
        (single
          ? single.split('\n').slice(1).join('\n').trim()
          : commits.map(commit => `* ${commit.message}`).join('\n\n'));
      return this.ctx.git.writeCommit({
        tree,
        parents: [pr.baseSha],
        message: message ? `${title}\n\n${message}` : title,
        author: this.ctx.person(pr.user),
        committer,
      });
    }
    const title =
      body.commit_title ??
      `Merge pull request #${pr.number} from ${this.ctx.owner}/${pr.head}`;
    return this.ctx.git.writeCommit({
      tree,
      parents: [pr.baseSha, pr.headSha],
      message: `${title}\n\n${body.commit_message ?? pr.title}`,
      author: this.ctx.person(user),
      committer,
    });
  }

  private reviewJson(review: ReviewRecord) {
    const pull = this.ctx.objects.api(`/pulls/${review.pull}`);
    const html = this.ctx.objects.html(
      `/pull/${review.pull}#pullrequestreview-${review.id}`,
    );
    return {
      id: review.id,
      node_id: this.ctx.objects.nodeId('PullRequestReview', review.id),
      user: this.ctx.objects.user(review.user),
      body: review.body,
      state: review.state,
      html_url: html,
      pull_request_url: pull,
      _links: { html: { href: html }, pull_request: { href: pull } },
      ...(review.submittedAt ? { submitted_at: review.submittedAt } : {}),
      commit_id: review.commitId,
      author_association: this.ctx.objects.association(review.user),
    };
  }

  listReviews(call: Call): Promise<Answer> {
    return this.withPull(call, async pr => {
      const { perPage, skip } = pageOf(call.query);
      return {
        status: 200,
        body: this.reviews
          .filter(review => review.pull === pr.number)
          .slice(skip, skip + perPage)
          .map(review => this.reviewJson(review)),
      };
    });
  }

  createReview(call: Call): Promise<Answer> {
    return this.ctx.exclusive(() =>
      this.withPull(call, async pr => {
        const body = call.body as {
          event?: 'APPROVE' | 'REQUEST_CHANGES' | 'COMMENT';
          body?: string;
          commit_id?: string;
        };
        const refuse = (reason: string) =>
          unprocessable(call, 'Unprocessable Entity', [reason]);
        const own = pr.user.login === call.user.login;
        if (own && body.event === 'APPROVE')
          return refuse('Can not approve your own pull request');
        if (own && body.event === 'REQUEST_CHANGES')
          return refuse('Can not request changes on your own pull request');
        if (
          (body.event === 'REQUEST_CHANGES' || body.event === 'COMMENT') &&
          !body.body
        )
          return refuse(`A body is required for a ${body.event} review`);
        if (
          !body.event &&
          this.reviews.some(
            r =>
              r.pull === pr.number &&
              r.state === 'PENDING' &&
              r.user.login === call.user.login,
          )
        )
          return refuse(
            'User can only have one pending review per pull request',
          );
        const state = (
          {
            APPROVE: 'APPROVED',
            REQUEST_CHANGES: 'CHANGES_REQUESTED',
            COMMENT: 'COMMENTED',
          } as const
        )[body.event ?? ('' as 'APPROVE')];
        const review: ReviewRecord = {
          id: this.nextId++,
          pull: pr.number,
          user: call.user,
          body: body.body ?? '',
          state: state ?? 'PENDING',
          commitId: body.commit_id ?? pr.headSha,
          submittedAt: state ? githubTime(Date.now()) : undefined,
        };
        this.reviews.push(review);
        if (state) {
          const snapshot = { ...pr };
          this.ctx.webhooks.send('pull_request_review', async () => ({
            action: 'submitted',
            review: this.reviewJson(review),
            pull_request: await this.pullJson(snapshot, false),
            repository: this.ctx.repository(),
            sender: this.ctx.objects.user(call.user),
          }));
        }
        return { status: 200, body: this.reviewJson(review) };
      }),
    );
  }

  private commentJson(comment: CommentRecord) {
    return {
      id: comment.id,
      node_id: this.ctx.objects.nodeId('IssueComment', comment.id),
      url: this.ctx.objects.api(`/issues/comments/${comment.id}`),
      html_url: this.ctx.objects.html(
        `/pull/${comment.issue}#issuecomment-${comment.id}`,
      ),
      body: comment.body,
      user: this.ctx.objects.user(comment.user),
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      issue_url: this.ctx.objects.api(`/issues/${comment.issue}`),
      author_association: this.ctx.objects.association(comment.user),
    };
  }

  async listComments(call: Call): Promise<Answer> {
    const issue = Number(call.params.issue_number);
    if (!this.pulls.has(issue))
      return notFound('issues/comments#list-issue-comments');
    const since = call.query.get('since');
    const { perPage, skip } = pageOf(call.query);
    return {
      status: 200,
      body: this.comments
        .filter(c => c.issue === issue && (!since || c.updatedAt >= since))
        .slice(skip, skip + perPage)
        .map(c => this.commentJson(c)),
    };
  }

  createComment(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const issue = Number(call.params.issue_number);
      if (!this.pulls.has(issue))
        return notFound('issues/comments#create-an-issue-comment');
      const now = githubTime(Date.now());
      const comment: CommentRecord = {
        id: this.nextId++,
        issue,
        user: call.user,
        body: (call.body as { body: string }).body,
        createdAt: now,
        updatedAt: now,
      };
      this.comments.push(comment);
      return { status: 201, body: this.commentJson(comment) };
    });
  }

  private event(
    pr: PullRequestRecord,
    action: 'opened' | 'closed' | 'reopened' | 'edited' | 'synchronize',
    sender: GithubUser,
    extra: Record<string, unknown> = {},
  ) {
    const snapshot = { ...pr };
    this.ctx.webhooks.send('pull_request', async () => ({
      action,
      number: snapshot.number,
      ...(action === 'edited' ? { changes: extra } : extra),
      pull_request: await this.pullJson(snapshot, true),
      repository: this.ctx.repository(),
      sender: this.ctx.objects.user(sender),
    }));
  }
}
