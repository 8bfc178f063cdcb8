import { Answer, Call, notFound, pageOf, unprocessable } from './answers';
import { SimulatorContext } from './context';
import { githubTime } from './GitRepository';
import { GithubUser, stableId } from './GithubObjects';

interface CheckRunRecord {
  id: number;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  startedAt: string;
  completedAt: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
}

interface StatusRecord {
  id: number;
  sha: string;
  state: 'error' | 'failure' | 'pending' | 'success';
  context: string;
  description: string | null;
  targetUrl: string | null;
  creator: GithubUser;
  createdAt: string;
}

/** The conclusions a completed check run can have. */
export type CheckConclusion =
  | 'success'
  | 'failure'
  | 'neutral'
  | 'cancelled'
  | 'skipped'
  | 'timed_out'
  | 'action_required';

/** Check runs and commit statuses on commits: the gates of a promotion. */
export class Checks {
  private readonly checkRuns: CheckRunRecord[] = [];
  private readonly statuses: StatusRecord[] = [];
  private nextId = 1;

  constructor(
    private readonly ctx: SimulatorContext,
    /** `pull-request-minimal` of the open pull requests whose head is a commit. */
    private readonly pullRequestsAt: (sha: string) => Record<string, unknown>[],
  ) {}

  /**
   * Reports a check run on a commit (a sha or a branch): completed with a conclusion, or
   * in progress with `null`. A run of the same name on the same commit is updated.
   */
  async setCheckRun(
    ref: string,
    name: string,
    conclusion: CheckConclusion | null,
  ): Promise<void> {
    const sha = await this.ctx.git.resolveCommit(ref);
    if (!sha) throw new Error(`${ref} is not a commit`);
    const existing = [...this.checkRuns]
      .reverse()
      .find(run => run.headSha === sha && run.name === name);
    const now = githubTime(Date.now());
    const run: CheckRunRecord = existing ?? {
      id: this.nextId++,
      name,
      headSha: sha,
      status: 'queued',
      conclusion: null,
      startedAt: now,
      completedAt: null,
      detailsUrl: null,
      externalId: null,
      output: { title: null, summary: null, text: null },
    };
    run.status = conclusion ? 'completed' : 'in_progress';
    run.conclusion = conclusion;
    run.completedAt = conclusion ? now : null;
    if (!existing) {
      this.checkRuns.push(run);
      this.event(run, 'created', this.ctx.defaultUser);
    }
    if (conclusion) this.event(run, 'completed', this.ctx.defaultUser);
  }

  /** Reports a commit status on a commit (a sha or a branch). */
  async setStatus(
    ref: string,
    context: string,
    state: 'error' | 'failure' | 'pending' | 'success',
    description: string | null = null,
  ): Promise<void> {
    const sha = await this.ctx.git.resolveCommit(ref);
    if (!sha) throw new Error(`${ref} is not a commit`);
    this.addStatus({
      sha,
      state,
      context,
      description,
      targetUrl: null,
      creator: this.ctx.defaultUser,
    });
  }

  private checkRunJson(run: CheckRunRecord) {
    const url = this.ctx.objects.api(`/check-runs/${run.id}`);
    const html = this.ctx.objects.html(`/runs/${run.id}`);
    return {
      id: run.id,
      head_sha: run.headSha,
      node_id: this.ctx.objects.nodeId('CheckRun', run.id),
      external_id: run.externalId ?? '',
      url,
      html_url: html,
      details_url: run.detailsUrl ?? html,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      output: {
        ...run.output,
        annotations_count: 0,
        annotations_url: `${url}/annotations`,
      },
      name: run.name,
      check_suite: { id: stableId(`suite:${run.headSha}`) },
      app: this.ctx.objects.app(),
      pull_requests: this.pullRequestsAt(run.headSha),
    };
  }

  /** The newest check run of each name on a commit. */
  latestCheckRuns(sha: string): CheckRunRecord[] {
    const latest = new Map<string, CheckRunRecord>();
    for (const run of this.checkRuns)
      if (run.headSha === sha) latest.set(run.name, run);
    return [...latest.values()];
  }

  /** The newest status of each context on a commit. */
  latestStatuses(sha: string): StatusRecord[] {
    const latest = new Map<string, StatusRecord>();
    for (const status of this.statuses)
      if (status.sha === sha) latest.set(status.context, status);
    return [...latest.values()];
  }

  /** A commit from a ref GitHub accepts here: a sha, a branch, `heads/…` or `tags/…`. */
  private async commitOf(ref: string): Promise<string | undefined> {
    return ref.startsWith('-') ? undefined : this.ctx.git.resolveCommit(ref);
  }

  async listCheckRuns(call: Call): Promise<Answer> {
    const sha = await this.commitOf(call.params.ref);
    if (!sha)
      return unprocessable(call, `No commit found for SHA: ${call.params.ref}`);
    const name = call.query.get('check_name');
    const status = call.query.get('status');
    const runs = (
      call.query.get('filter') === 'all'
        ? this.checkRuns.filter(run => run.headSha === sha)
        : this.latestCheckRuns(sha)
    ).filter(
      run => (!name || run.name === name) && (!status || run.status === status),
    );
    const { perPage, skip } = pageOf(call.query);
    return {
      status: 200,
      body: {
        total_count: runs.length,
        check_runs: runs
          .slice(skip, skip + perPage)
          .map(run => this.checkRunJson(run)),
      },
    };
  }

  createCheckRun(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const body = call.body as {
        name: string;
        head_sha: string;
        details_url?: string;
        external_id?: string;
        status?: 'queued' | 'in_progress' | 'completed';
        conclusion?: string;
        started_at?: string;
        completed_at?: string;
        output?: { title: string; summary: string; text?: string };
      };
      if ((await this.ctx.git.typeOf(body.head_sha)) !== 'commit')
        return unprocessable(call, `No commit found for SHA: ${body.head_sha}`);
      const status = body.conclusion ? 'completed' : body.status ?? 'queued';
      if (status === 'completed' && !body.conclusion)
        return unprocessable(
          call,
          'Invalid request.\n\n"conclusion" wasn\'t supplied.',
        );
      const now = githubTime(Date.now());
      const run: CheckRunRecord = {
        id: this.nextId++,
        name: body.name,
        headSha: body.head_sha,
        status,
        conclusion: body.conclusion ?? null,
        startedAt: body.started_at ? githubTime(body.started_at) : now,
        completedAt:
          status === 'completed'
            ? githubTime(body.completed_at ?? Date.now())
            : null,
        detailsUrl: body.details_url ?? null,
        externalId: body.external_id ?? null,
        output: {
          title: body.output?.title ?? null,
          summary: body.output?.summary ?? null,
          text: body.output?.text ?? null,
        },
      };
      this.checkRuns.push(run);
      this.event(run, 'created', call.user);
      if (status === 'completed') this.event(run, 'completed', call.user);
      return { status: 201, body: this.checkRunJson(run) };
    });
  }

  private statusJson(status: StatusRecord) {
    return {
      url: this.ctx.objects.api(`/statuses/${status.sha}`),
      avatar_url: this.ctx.objects.user(status.creator).avatar_url,
      id: status.id,
      node_id: this.ctx.objects.nodeId('StatusContext', status.id),
      state: status.state,
      description: status.description,
      target_url: status.targetUrl,
      context: status.context,
      created_at: status.createdAt,
      updated_at: status.createdAt,
    };
  }

  async combinedStatus(call: Call): Promise<Answer> {
    const sha = await this.commitOf(call.params.ref);
    if (!sha)
      return notFound(
        'commits/statuses#get-the-combined-status-for-a-specific-reference',
      );
    const latest = this.latestStatuses(sha);
    // Failure wins, then pending (also when nothing reported), as GitHub combines them.
    let state = 'success';
    if (latest.length === 0 || latest.some(s => s.state === 'pending'))
      state = 'pending';
    if (latest.some(s => s.state === 'error' || s.state === 'failure'))
      state = 'failure';
    const { perPage, skip } = pageOf(call.query);
    return {
      status: 200,
      body: {
        state,
        statuses: latest
          .slice(skip, skip + perPage)
          .map(status => this.statusJson(status)),
        sha,
        total_count: latest.length,
        repository: this.ctx.repository(),
        commit_url: this.ctx.objects.api(`/commits/${sha}`),
        url: this.ctx.objects.api(`/commits/${sha}/status`),
      },
    };
  }

  createStatus(call: Call): Promise<Answer> {
    return this.ctx.exclusive(async () => {
      const body = call.body as {
        state: StatusRecord['state'];
        target_url?: string | null;
        description?: string | null;
        context?: string;
      };
      const sha = call.params.sha;
      if ((await this.ctx.git.typeOf(sha)) !== 'commit')
        return unprocessable(call, `No commit found for SHA: ${sha}`);
      const status = this.addStatus({
        sha,
        state: body.state,
        context: body.context ?? 'default',
        description: body.description ?? null,
        targetUrl: body.target_url ?? null,
        creator: call.user,
      });
      return {
        status: 201,
        body: {
          ...this.statusJson(status),
          creator: this.ctx.objects.user(status.creator),
        },
      };
    });
  }

  private addStatus(
    status: Omit<StatusRecord, 'id' | 'createdAt'>,
  ): StatusRecord {
    const record = {
      ...status,
      id: this.nextId++,
      createdAt: githubTime(Date.now()),
    };
    this.statuses.push(record);
    this.ctx.webhooks.send('status', async () => {
      const commit = (await this.ctx.git.commit(record.sha))!;
      const shown = this.ctx.objects.commit(commit);
      const branches = (await this.ctx.git.refs())
        .filter(
          ref => ref.ref.startsWith('refs/heads/') && ref.sha === record.sha,
        )
        .map(ref => ({
          name: ref.ref.slice('refs/heads/'.length),
          commit: {
            sha: ref.sha,
            url: this.ctx.objects.api(`/commits/${ref.sha}`),
          },
          protected: false,
        }));
      return {
        id: record.id,
        sha: record.sha,
        name: `${this.ctx.owner}/${this.ctx.repo}`,
        target_url: record.targetUrl,
        avatar_url: this.ctx.objects.user(record.creator).avatar_url,
        context: record.context,
        description: record.description,
        state: record.state,
        commit: shown,
        branches,
        created_at: record.createdAt,
        updated_at: record.createdAt,
        repository: this.ctx.repository(),
        sender: this.ctx.objects.user(record.creator),
      };
    });
    return record;
  }

  private event(
    run: CheckRunRecord,
    action: 'created' | 'completed',
    sender: GithubUser,
  ) {
    const shown = this.checkRunJson(run);
    this.ctx.webhooks.send('check_run', async () => ({
      action,
      check_run: {
        ...shown,
        check_suite: {
          id: shown.check_suite.id,
          node_id: this.ctx.objects.nodeId('CheckSuite', shown.check_suite.id),
          head_sha: run.headSha,
          head_branch: null,
          status: shown.status,
          conclusion: shown.conclusion,
          url: this.ctx.objects.api(`/check-suites/${shown.check_suite.id}`),
          before: null,
          after: run.headSha,
          pull_requests: shown.pull_requests,
          app: shown.app,
          created_at: shown.started_at,
          updated_at: shown.completed_at ?? shown.started_at,
        },
      },
      repository: this.ctx.repository(),
      sender: this.ctx.objects.user(sender),
    }));
  }
}
