import crypto from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Answer, Call, DOCS, notFound, unprocessable } from './answers';
import { CheckConclusion, Checks } from './Checks';
import { SimulatorContext } from './context';
import { GitEndpoints } from './GitEndpoints';
import {
  GIT_ID,
  GitRepository,
  githubTime,
  isRefName,
  NO_COMMIT,
  TreeChange,
} from './GitRepository';
import {
  GithubObjects,
  GithubUser,
  noreplyEmail,
  stableId,
} from './GithubObjects';
import { GithubOpenApi } from './openapi';
import { PullRequests, SimulatedPullRequest } from './PullRequests';
import { pushPayload } from './pushEvent';
import { SizeBoundedCache } from './SizeBoundedCache';
import {
  WebhookDeliveries,
  WebhookDelivery,
  WebhookTarget,
} from './WebhookDeliveries';

/**
 * A GitHub REST API simulator for tests: serves a real Git repository on disk (read through a
 * long-lived `git cat-file`, so new commits show at once) over the Git database, commits, tags,
 * compare, pull request, review, comment, check and status endpoints, with GitHub's response
 * shapes, ETags and rate-limit headers, and writes to it with Git's plumbing. It counts
 * requests, can inject faults, sends signed webhooks, and checks every request it receives and
 * every answer and webhook it sends against GitHub's OpenAPI descriptions; anything off is
 * recorded in `problems`, which a test asserts is empty.
 */

export interface GithubSimulatorOptions {
  /** The Git repository served (a working copy or a bare repository). */
  repoDir: string;
  owner: string;
  repo: string;
  /** Path of the API below the server's origin: '' like api.github.com, '/api/v3' like GitHub Enterprise. */
  basePath?: string;
  /** When set, requests must carry it (or one of `users`' tokens); others get 401. */
  token?: string;
  /** The largest recursive tree listed in full; bigger ones come back truncated, as on GitHub. */
  maxTreeEntries?: number;
  /**
   * The account each token authenticates, for who opens, reviews and merges pull requests.
   * When given, a request must carry one of these tokens (or `token`).
   */
  users?: Record<string, GithubUser>;
  /** The account of requests whose token is not in `users`; octocat by default. */
  defaultUser?: GithubUser;
  /** The repository's default branch; by default the branch its HEAD names. */
  defaultBranch?: string;
  /** The number of the first pull request opened; 1 by default. */
  firstPullRequestNumber?: number;
  /** Where to deliver webhooks, and the secret to sign them with. */
  webhooks?: WebhookTarget;
  /**
   * Requests allowed per hour: 5,000 as for a token on github.com by default; GitHub
   * Enterprise Server may allow more, or not limit at all.
   */
  rateLimit?: number;
}

/**
 * The operation id recorded for a download of an archive from the URL that
 * `repos/download-tarball-archive` redirects to: codeload.github.com on GitHub, not an operation
 * of the REST API.
 */
export const ARCHIVE_DOWNLOAD = 'codeload/legacy.tar.gz';

/** Where the simulator serves archives, as GitHub serves them from codeload.github.com. */
const ARCHIVE_PATH =
  /^\/_codeload\/([^/]+)\/([^/]+)\/legacy\.tar\.gz\/([^/]+)$/;

/** One request the simulator received, with how it was answered. */
export interface SimulatedRequest {
  /** The operation of GitHub's description, or ARCHIVE_DOWNLOAD for an archive's download. */
  operationId: string;
  method: string;
  path: string;
  /** Undefined when the request was left without an answer. */
  status?: number;
  authorization?: string;
  ifNoneMatch?: string;
  /** The request's JSON body, when it had one. */
  body?: unknown;
}

export type { GithubUser } from './GithubObjects';
export type { CheckConclusion } from './Checks';
export type { SimulatedPullRequest } from './PullRequests';
export type { WebhookDelivery, WebhookTarget } from './WebhookDeliveries';

type Fault =
  | { kind: 'status'; status: 500 | 502 | 503; operationId?: string }
  | { kind: 'hang'; operationId?: string };

interface Route {
  method: string;
  operationId: string;
  template: string;
  pattern: RegExp;
  names: string[];
  handle(call: Call): Promise<Answer>;
}

const RATE_LIMIT = 5000;
/** Path parameters that may span several path segments, as GitHub's description marks them. */
const MULTI_SEGMENT = new Set(['ref', 'basehead', 'branch']);

export class GithubSimulator {
  /** Every request received, in order. */
  readonly requests: SimulatedRequest[] = [];
  /** Answers that do not match GitHub's OpenAPI description, and requests GitHub would not serve. */
  readonly problems: string[] = [];
  private readonly openapi = GithubOpenApi.load();
  private readonly git: GitRepository;
  private readonly webhooks: WebhookDeliveries;
  private readonly defaultUser: GithubUser;
  /** What the endpoints share. */
  private readonly context: SimulatorContext;
  private readonly gitEndpoints: GitEndpoints;
  private readonly pulls: PullRequests;
  private readonly checks: Checks;
  private readonly faults: Fault[] = [];
  private readonly routes: Route[];
  private rateLimit?: {
    until: number;
    kind: 'primary' | 'secondary';
    status: 403 | 429;
  };
  private used = 0;
  private readonly resetAt = Math.floor(Date.now() / 1000) + 3600;
  /** The JSON, ETag and validation of answer bodies already sent, by body. */
  private readonly sent = new WeakMap<
    object,
    { json: string; etag: string; problems: Map<number, string[]> }
  >();
  /** Writes run one at a time, as each reads the state the previous one left. */
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: GithubSimulatorOptions,
    private readonly server: http.Server,
    private readonly origin: string,
    git: GitRepository,
    defaultBranch: string,
  ) {
    this.git = git;
    this.defaultUser = options.defaultUser ?? { login: 'octocat', id: 583231 };
    const objects = new GithubObjects({
      api: this.apiBaseUrl,
      web: origin,
      owner: options.owner,
      repo: options.repo,
    });
    this.webhooks = new WebhookDeliveries(
      {
        id: stableId(`hook:${options.owner}/${options.repo}`),
        repositoryId: objects.repositoryId,
      },
      this.problems,
    );
    this.webhooks.target = options.webhooks;
    const context: SimulatorContext = {
      owner: options.owner,
      repo: options.repo,
      git,
      objects,
      webhooks: this.webhooks,
      answers: new SizeBoundedCache<Answer>(128 * 1024 * 1024),
      defaultBranch,
      defaultUser: this.defaultUser,
      maxTreeEntries: () => this.options.maxTreeEntries ?? 100_000,
      exclusive: work => this.exclusive(work),
      pushed: (ref, before, after, pusher) =>
        this.pushed(ref, before, after, pusher),
      repository: () =>
        objects.repository(defaultBranch, this.pulls.openCount()),
      person: (user, date = Date.now()) => ({
        name: user.login,
        email: noreplyEmail(user),
        date: githubTime(date),
      }),
    };
    this.context = context;
    this.gitEndpoints = new GitEndpoints(context);
    this.checks = new Checks(context, sha => this.pulls.openAt(sha));
    this.pulls = new PullRequests(
      context,
      this.checks,
      options.firstPullRequestNumber,
    );
    this.routes = this.createRoutes();
    server.on('request', (req, res) => {
      this.serve(req, res).catch(error => {
        this.problems.push(
          `the simulator failed on ${req.method} ${req.url}: ${
            error.stack ?? error
          }`,
        );
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  static async start(
    options: GithubSimulatorOptions,
  ): Promise<GithubSimulator> {
    const git = new GitRepository(options.repoDir);
    const defaultBranch =
      options.defaultBranch ??
      (await git.run(['symbolic-ref', '--short', 'HEAD']).then(
        out => out.toString().trim() || 'main',
        () => 'main',
      ));
    const server = http.createServer();
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new GithubSimulator(
      options,
      server,
      `http://127.0.0.1:${port}`,
      git,
      defaultBranch,
    );
  }

  /** What an integration's `apiBaseUrl` is set to. */
  get apiBaseUrl(): string {
    return `${this.origin}${this.options.basePath ?? ''}`;
  }

  /** Webhook deliveries made so far, in order. */
  get deliveries(): readonly WebhookDelivery[] {
    return this.webhooks.deliveries;
  }

  /** Waits for the webhook deliveries under way, then stops serving. */
  async stop() {
    await this.settled();
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
    this.git.close();
  }

  /** Requests received since the start or the last `resetCounts`, of one operation or all. */
  count(operationId?: string, status?: number): number {
    return this.requests.filter(
      r =>
        (!operationId || r.operationId === operationId) &&
        (status === undefined || r.status === status),
    ).length;
  }

  /** Requests per operation, for printing. */
  countsByOperation(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.requests)
      counts[r.operationId] = (counts[r.operationId] ?? 0) + 1;
    return counts;
  }

  resetCounts() {
    this.requests.length = 0;
  }

  /** The next `times` requests (of one operation, if given) are answered with a server error. */
  failNext(times: number, status: 500 | 502 | 503 = 500, operationId?: string) {
    for (let i = 0; i < times; i++)
      this.faults.push({ kind: 'status', status, operationId });
  }

  /** The next `times` requests (of one operation, if given) get no answer at all. */
  hangNext(times: number, operationId?: string) {
    for (let i = 0; i < times; i++)
      this.faults.push({ kind: 'hang', operationId });
  }

  /**
   * For the next `seconds`, every request is refused: a primary limit answers 403 with
   * `x-ratelimit-remaining: 0` and the reset time; a secondary one answers 429 (or 403) with
   * `retry-after`.
   */
  limitRate(
    kind: 'primary' | 'secondary',
    seconds: number,
    status: 403 | 429 = kind === 'primary' ? 403 : 429,
  ) {
    const until =
      kind === 'primary'
        ? Math.ceil((Date.now() + seconds * 1000) / 1000) * 1000
        : Date.now() + seconds * 1000;
    this.rateLimit = { until, kind, status };
  }

  /** Recursive trees with more than `entries` entries come back truncated from now on. */
  truncateTreesOver(entries: number) {
    this.options.maxTreeEntries = entries;
  }

  /** Sends webhooks from now on to `url`, signed with `secret`. */
  deliverWebhooks(url: string, secret: string) {
    this.webhooks.target = { url, secret };
  }

  /** Resolves when every webhook delivery queued so far has been answered. */
  settled(): Promise<void> {
    return this.webhooks.settled();
  }

  /** The pull requests that exist, in the order they were opened. */
  pullRequests(): SimulatedPullRequest[] {
    return this.pulls.snapshot();
  }

  /**
   * Makes a pull request unmergeable (as a conflict GitHub found would), or gives the decision
   * back to Git with `undefined`.
   */
  setMergeable(number: number, mergeable: boolean | undefined) {
    this.pulls.setMergeable(number, mergeable);
  }

  /**
   * Commits files (null deletes one) on a branch, as someone pushing from elsewhere would, and
   * sends the push and pull-request webhooks. A branch that does not exist starts from the
   * default branch. Returns the new commit's id.
   */
  pushCommit(
    branch: string,
    files: Record<string, string | null>,
    message: string,
    author: GithubUser = this.defaultUser,
  ): Promise<string> {
    return this.exclusive(async () => {
      const ref = `refs/heads/${branch}`;
      const before = await this.git.resolveCommit(ref);
      const parent =
        before ??
        (await this.git.resolveCommit(
          `refs/heads/${this.context.defaultBranch}`,
        ));
      const base = parent ? await this.git.commit(parent) : undefined;
      const changes = new Map<string, TreeChange>();
      for (const [path, content] of Object.entries(files)) {
        changes.set(
          path,
          content === null
            ? null
            : {
                mode: '100644',
                type: 'blob',
                sha: await this.git.writeBlob(Buffer.from(content)),
              },
        );
      }
      const tree = await this.git.applyToTree(base?.tree, changes);
      const person = this.context.person(author);
      const sha = await this.git.writeCommit({
        tree,
        parents: parent ? [parent] : [],
        message,
        author: person,
        committer: person,
      });
      if (!(await this.git.compareAndSwap(ref, sha, before ?? NO_COMMIT)))
        throw new Error(`${ref} moved while committing to it`);
      this.pushed(ref, before ?? NO_COMMIT, sha, author);
      return sha;
    });
  }

  /**
   * Tells the simulator that a ref moved outside it (a test committed with git directly): sends
   * the push webhook and updates the pull requests whose head it is.
   */
  notifyPush(
    before: string,
    after: string,
    ref: string,
    pusher: GithubUser = this.defaultUser,
  ) {
    this.pushed(
      ref.startsWith('refs/') ? ref : `refs/heads/${ref}`,
      before,
      after,
      pusher,
    );
  }

  /**
   * Reports a check run on a commit (a sha or a branch): completed with a conclusion, or in
   * progress with `null`. A run of the same name on the same commit is updated.
   */
  setCheckRun(
    ref: string,
    name: string,
    conclusion: CheckConclusion | null,
  ): Promise<void> {
    return this.checks.setCheckRun(ref, name, conclusion);
  }

  /** Reports a commit status on a commit (a sha or a branch). */
  setStatus(
    ref: string,
    context: string,
    state: 'error' | 'failure' | 'pending' | 'success',
    description: string | null = null,
  ): Promise<void> {
    return this.checks.setStatus(ref, context, state, description);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writing.then(work);
    this.writing = result.catch(() => {});
    return result;
  }

  /**
   * A ref moved (NO_COMMIT: created or deleted): the push webhook, then `synchronize` for the
   * open pull requests whose head branch it is.
   */
  private pushed(
    ref: string,
    before: string,
    after: string,
    pusher: GithubUser,
  ) {
    this.webhooks.send('push', () =>
      pushPayload(this.context, ref, before, after, pusher),
    );
    if (ref.startsWith('refs/heads/') && after !== NO_COMMIT)
      this.pulls.followPush(ref.slice('refs/heads/'.length), after, pusher);
  }

  private createRoutes(): Route[] {
    const route = (
      method: string,
      template: string,
      handle: (call: Call) => Promise<Answer>,
    ): Route => {
      const operationId = this.openapi.operationId(template, method);
      if (!operationId)
        throw new Error(
          `${method} ${template} is not in GitHub's OpenAPI description`,
        );
      const names: string[] = [];
      const pattern = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
        names.push(name);
        return MULTI_SEGMENT.has(name) ? '(.+)' : '([^/]+)';
      });
      return {
        method,
        operationId,
        template,
        pattern: new RegExp(`^${pattern}$`),
        names,
        handle,
      };
    };
    const git = this.gitEndpoints;
    const pulls = this.pulls;
    const checks = this.checks;
    const repo = '/repos/{owner}/{repo}';
    const pull = `${repo}/pulls/{pull_number}`;
    return [
      route('GET', `${repo}/git/ref/{ref}`, call =>
        git.getRef(call.params.ref),
      ),
      route('GET', `${repo}/git/matching-refs/{ref}`, call =>
        git.matchingRefs(call.params.ref),
      ),
      route('POST', `${repo}/git/refs`, call => git.createRef(call)),
      route('PATCH', `${repo}/git/refs/{ref}`, call => git.updateRef(call)),
      route('DELETE', `${repo}/git/refs/{ref}`, call => git.deleteRef(call)),
      route('GET', `${repo}/git/commits/{commit_sha}`, call =>
        git.getCommit(call.params.commit_sha),
      ),
      route('POST', `${repo}/git/commits`, call => git.createCommit(call)),
      route('GET', `${repo}/git/trees/{tree_sha}`, call =>
        git.getTree(call.params.tree_sha, call.query.has('recursive')),
      ),
      route('POST', `${repo}/git/trees`, call => git.createTree(call)),
      route('GET', `${repo}/git/blobs/{file_sha}`, call =>
        git.getBlob(call.params.file_sha),
      ),
      route('POST', `${repo}/git/blobs`, call => git.createBlob(call)),
      route('GET', `${repo}/commits`, call => git.listCommits(call.query)),
      route('GET', repo, async () => ({
        status: 200,
        body: this.context.repository(),
      })),
      route('GET', `${repo}/branches/{branch}`, call => git.getBranch(call)),
      route('GET', `${repo}/tags`, call => git.listTags(call.query)),
      route('GET', `${repo}/tarball/{ref}`, call => this.tarball(call)),
      route('GET', `${repo}/compare/{basehead}`, call => git.compare(call)),
      route('GET', `${repo}/pulls`, call => pulls.listPulls(call)),
      route('POST', `${repo}/pulls`, call => pulls.createPull(call)),
      route('GET', pull, call =>
        pulls.withPull(call, async pr => ({
          status: 200,
          body: await pulls.pullJson(pr, true),
        })),
      ),
      route('PATCH', pull, call => pulls.updatePull(call)),
      route('GET', `${pull}/merge`, call => pulls.checkMerged(call)),
      route('PUT', `${pull}/merge`, call => pulls.mergePull(call)),
      route('GET', `${pull}/reviews`, call => pulls.listReviews(call)),
      route('POST', `${pull}/reviews`, call => pulls.createReview(call)),
      route('GET', `${repo}/issues/{issue_number}/comments`, call =>
        pulls.listComments(call),
      ),
      route('POST', `${repo}/issues/{issue_number}/comments`, call =>
        pulls.createComment(call),
      ),
      route('GET', `${repo}/commits/{ref}/check-runs`, call =>
        checks.listCheckRuns(call),
      ),
      route('POST', `${repo}/check-runs`, call => checks.createCheckRun(call)),
      route('GET', `${repo}/commits/{ref}/status`, call =>
        checks.combinedStatus(call),
      ),
      route('POST', `${repo}/statuses/{sha}`, call =>
        checks.createStatus(call),
      ),
    ];
  }

  /**
   * `repos/download-tarball-archive`: as GitHub, a redirect to where the archive of the commit a
   * ref designates (a sha, a branch or a tag) is downloaded.
   */
  private async tarball(call: Call): Promise<Answer> {
    const ref = call.params.ref;
    // Only a commit id or a well-formed ref name reaches git, never an option.
    const sha =
      !ref.startsWith('-') && (GIT_ID.test(ref) || isRefName(ref))
        ? await this.git.resolveCommit(ref)
        : undefined;
    if (!sha)
      return notFound('repos/contents#download-a-repository-archive-tar');
    const { owner, repo } = this.options;
    return {
      status: 302,
      headers: {
        location: `${this.origin}/_codeload/${owner}/${repo}/legacy.tar.gz/${sha}`,
      },
    };
  }

  /**
   * Serves the archive of a commit where `tarball` redirects to, as codeload.github.com does:
   * `git archive` with every file below `<owner>-<repo>-<short sha>/`, and the commit id in a pax
   * global header. It takes the credentials of the API and its faults, not its rate limit.
   */
  private async serveArchive(
    match: RegExpExecArray,
    record: SimulatedRequest,
    authorization: string | undefined,
    res: http.ServerResponse,
  ) {
    record.operationId = ARCHIVE_DOWNLOAD;
    const answer = (status: number, message: string) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${status}: ${message}`);
    };
    if (!this.authenticate(authorization)) return answer(401, 'Unauthorized');
    const fault = this.takeFault(ARCHIVE_DOWNLOAD);
    if (fault?.kind === 'hang') return undefined;
    if (fault) return answer(fault.status, 'Server Error');
    const [, owner, repo, sha] = match;
    const found =
      owner === this.options.owner &&
      repo === this.options.repo &&
      GIT_ID.test(sha) &&
      (await this.git.typeOf(sha)) === 'commit';
    if (!found) return answer(404, 'Not Found');
    const name = `${owner}-${repo}-${sha.slice(0, 7)}`;
    const archive = await this.git.run([
      'archive',
      '--format=tar.gz',
      `--prefix=${name}/`,
      sha,
    ]);
    record.status = 200;
    res.writeHead(200, {
      'content-type': 'application/x-gzip',
      'content-disposition': `attachment; filename=${name}.tar.gz`,
      'content-length': String(archive.length),
    });
    res.end(archive);
    return undefined;
  }

  /** The fault injected for the next request of an operation, taken from the queue. */
  private takeFault(operationId: string): Fault | undefined {
    const index = this.faults.findIndex(
      f => !f.operationId || f.operationId === operationId,
    );
    return index < 0 ? undefined : this.faults.splice(index, 1)[0];
  }

  private rateLimitHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(this.options.rateLimit ?? RATE_LIMIT),
      'x-ratelimit-remaining': String(
        Math.max(0, (this.options.rateLimit ?? RATE_LIMIT) - this.used),
      ),
      'x-ratelimit-reset': String(this.resetAt),
      'x-ratelimit-used': String(this.used),
      'x-ratelimit-resource': 'core',
    };
  }

  /** The account a request acts as, or undefined when its credentials are refused. */
  private authenticate(
    authorization: string | undefined,
  ): GithubUser | undefined {
    const token = /^(?:token|bearer) (.+)$/i.exec(authorization ?? '')?.[1];
    const { users = {}, token: expected } = this.options;
    const known = token !== undefined && Object.hasOwn(users, token);
    if (known) return users[token];
    const guarded = expected !== undefined || Object.keys(users).length > 0;
    if (guarded && token !== expected) return undefined;
    return this.defaultUser;
  }

  /** The answer to a request before any repository is read, when one is due. */
  private interception(
    route: Route,
    authorization: string | undefined,
  ): Answer | 'hang' | undefined {
    if (!this.authenticate(authorization)) {
      return {
        status: 401,
        body: {
          message: 'Bad credentials',
          documentation_url: DOCS,
          status: '401',
        },
      };
    }
    if (route.method !== 'GET' && !authorization) {
      return {
        status: 401,
        body: {
          message: 'Requires authentication',
          documentation_url: DOCS,
          status: '401',
        },
      };
    }
    const limit = this.rateLimit;
    if (limit && Date.now() < limit.until) {
      if (limit.kind === 'primary') {
        return {
          status: limit.status,
          headers: {
            ...this.rateLimitHeaders(),
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(limit.until / 1000),
          },
          body: {
            message: 'API rate limit exceeded for installation ID 1.',
            documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
            status: String(limit.status),
          },
        };
      }
      return {
        status: limit.status,
        headers: {
          'retry-after': String(Math.ceil((limit.until - Date.now()) / 1000)),
        },
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
          status: String(limit.status),
        },
      };
    }
    const fault = this.takeFault(route.operationId);
    if (!fault) return undefined;
    if (fault.kind === 'hang') return 'hang';
    return {
      status: fault.status,
      body:
        fault.status === 503
          ? {
              message: 'Service unavailable',
              documentation_url: DOCS,
              code: 'unavailable',
            }
          : {
              message: 'Server Error',
              documentation_url: DOCS,
              status: String(fault.status),
            },
    };
  }

  private async readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The answer to a request that reached an operation. */
  private async answer(
    route: Route,
    params: Record<string, string>,
    query: URLSearchParams,
    text: string,
    authorization: string | undefined,
    path: string,
  ): Promise<Answer> {
    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        this.problems.push(
          `${route.operationId} request: the body is not JSON (${path})`,
        );
        return {
          status: 400,
          body: {
            message: 'Problems parsing JSON',
            documentation_url: DOCS,
            status: '400',
          },
        };
      }
    }
    const check = this.openapi.checkRequest(route.template, route.method, {
      path: params,
      query,
      body,
    });
    this.problems.push(
      ...check.problems.map(problem => `${problem} (${path})`),
    );
    const call: Call = {
      params,
      query,
      body,
      user: this.authenticate(authorization)!,
      docs: check.documentationUrl,
    };
    if (check.unrouted) return notFound('');
    if (check.refusals.length > 0)
      return unprocessable(
        call,
        `Invalid request.\n\n${check.refusals.join('\n')}`,
      );
    if (
      params.owner !== this.options.owner ||
      params.repo !== this.options.repo
    )
      return notFound('repos/repos#get-a-repository');
    return route.handle(call);
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', this.origin);
    const authorization = req.headers.authorization;
    const ifNoneMatch = req.headers['if-none-match'];
    const method = req.method ?? '?';
    const record: SimulatedRequest = {
      operationId: '?',
      method,
      path: `${url.pathname}${url.search}`,
      authorization,
      ifNoneMatch,
    };
    this.requests.push(record);
    const text = await this.readBody(req);
    if (text.trim() !== '') {
      try {
        record.body = JSON.parse(text);
      } catch {
        // Reported with the operation's answer.
      }
    }

    const archive = ARCHIVE_PATH.exec(url.pathname);
    if (archive && method === 'GET') {
      await this.serveArchive(archive, record, authorization, res);
      return;
    }

    const basePath = this.options.basePath ?? '';
    const apiPath = url.pathname.startsWith(`${basePath}/`)
      ? url.pathname.slice(basePath.length)
      : undefined;
    const route =
      apiPath !== undefined
        ? this.routes.find(r => r.method === method && r.pattern.test(apiPath))
        : undefined;
    if (!route) {
      this.problems.push(
        `unexpected request ${method} ${record.path}: not an endpoint the simulator serves`,
      );
      record.status = 404;
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({ message: 'Not Found', documentation_url: DOCS }),
      );
      return;
    }
    record.operationId = route.operationId;
    const values = route.pattern.exec(apiPath!)!.slice(1);
    const params = Object.fromEntries(
      route.names.map((name, index) => [
        name,
        decodeURIComponent(values[index]),
      ]),
    );

    let answer = this.interception(route, authorization);
    if (answer === 'hang') return; // the client's timeout is what ends this request
    if (!answer) {
      answer = await this.answer(
        route,
        params,
        url.searchParams,
        text,
        authorization,
        record.path,
      );
      if (answer.status < 400) this.used++;
    }

    const bodyObject =
      answer.body !== null && typeof answer.body === 'object'
        ? answer.body
        : undefined;
    let sent = bodyObject && this.sent.get(bodyObject);
    if (!sent) {
      const json = answer.body === undefined ? '' : JSON.stringify(answer.body);
      sent = {
        json,
        etag: `W/"${crypto.createHash('sha256').update(json).digest('hex')}"`,
        problems: new Map(),
      };
      if (bodyObject) this.sent.set(bodyObject, sent);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-request-id': crypto.randomUUID(),
      ...this.rateLimitHeaders(),
      ...answer.headers,
    };
    let status = answer.status;
    let body = sent.json;
    if (body === '') delete headers['content-type'];
    if (status === 200 && method === 'GET') {
      headers.etag = sent.etag;
      headers.vary = 'Accept, Authorization, Cookie, X-GitHub-OTP';
      headers['cache-control'] = 'private, max-age=60, s-maxage=60';
      const wanted = String(ifNoneMatch ?? '')
        .split(',')
        .map(t => t.trim().replace(/^W\//, ''));
      if (wanted.includes(sent.etag.replace(/^W\//, ''))) {
        // A conditional request answered 304 does not count against the rate limit.
        this.used--;
        Object.assign(headers, this.rateLimitHeaders());
        status = 304;
        body = '';
        delete headers['content-type'];
      }
    }
    // The same body object is the same answer: it was checked when it was first sent.
    let problems = sent.problems.get(status);
    if (!problems) {
      problems = this.openapi.check(
        route.template,
        route.method,
        status,
        body === '' ? undefined : JSON.parse(body),
      ).problems;
      if (bodyObject) sent.problems.set(status, problems);
    }
    this.problems.push(
      ...problems.map(problem => `${problem} (${record.path})`),
    );
    record.status = status;
    res.writeHead(status, headers);
    res.end(body);
  }
}
