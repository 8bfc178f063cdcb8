import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { GithubOpenApi } from './openapi';

/**
 * A GitHub REST API simulator for tests: serves a real Git repository on disk (read with the git
 * command line at every request, so new commits show at once) over the Git database and commits
 * endpoints, with GitHub's response shapes, ETags and rate-limit headers. It counts requests,
 * can inject faults, and checks every answer it sends against GitHub's OpenAPI description;
 * anything off is recorded in `problems`, which a test asserts is empty.
 */

export interface GithubSimulatorOptions {
  /** The Git repository served (a working copy or a bare repository). */
  repoDir: string;
  owner: string;
  repo: string;
  /** Path of the API below the server's origin: '' like api.github.com, '/api/v3' like GitHub Enterprise. */
  basePath?: string;
  /** When set, requests must carry it (`token …` or `Bearer …`); others get 401. */
  token?: string;
  /** The largest recursive tree listed in full; bigger ones come back truncated, as on GitHub. */
  maxTreeEntries?: number;
}

/** One request the simulator received, with how it was answered. */
export interface SimulatedRequest {
  operationId: string;
  method: string;
  path: string;
  /** Undefined when the request was left without an answer. */
  status?: number;
  authorization?: string;
  ifNoneMatch?: string;
}

type Fault =
  | { kind: 'status'; status: 500 | 502 | 503; operationId?: string }
  | { kind: 'hang'; operationId?: string };

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Route {
  operationId: string;
  template: string;
  pattern: RegExp;
  handle(params: string[], query: URLSearchParams): Promise<Answer>;
}

const GIT_ID = /^[0-9a-f]{40}$/;
const DOCS = 'https://docs.github.com/rest';
const RATE_LIMIT = 5000;

const notFound = (documentation: string): Answer => ({
  status: 404,
  body: {
    message: 'Not Found',
    documentation_url: `${DOCS}/${documentation}`,
    status: '404',
  },
});

/** GitHub prints times in UTC without fractions. */
const githubTime = (iso: string) =>
  new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class GithubSimulator {
  /** Every request received, in order. */
  readonly requests: SimulatedRequest[] = [];
  /** Answers that do not match GitHub's OpenAPI description, and requests GitHub would not serve. */
  readonly problems: string[] = [];
  private readonly server: http.Server;
  private readonly openapi = GithubOpenApi.load();
  private readonly faults: Fault[] = [];
  private readonly routes: Route[];
  private rateLimit?: {
    until: number;
    kind: 'primary' | 'secondary';
    status: 403 | 429;
  };
  private used = 0;
  private readonly resetAt = Math.floor(Date.now() / 1000) + 3600;
  private origin = '';

  private constructor(private readonly options: GithubSimulatorOptions) {
    this.server = http.createServer((req, res) => {
      this.serve(req, res).catch(error => {
        this.problems.push(
          `the simulator failed on ${req.method} ${req.url}: ${
            error.stack ?? error
          }`,
        );
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    this.routes = this.createRoutes();
  }

  static async start(
    options: GithubSimulatorOptions,
  ): Promise<GithubSimulator> {
    const simulator = new GithubSimulator(options);
    await new Promise<void>(resolve =>
      simulator.server.listen(0, '127.0.0.1', resolve),
    );
    const { port } = simulator.server.address() as AddressInfo;
    simulator.origin = `http://127.0.0.1:${port}`;
    return simulator;
  }

  /** What an integration's `apiBaseUrl` is set to. */
  get apiBaseUrl(): string {
    return `${this.origin}${this.options.basePath ?? ''}`;
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
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

  private git(args: string[]): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        args,
        {
          cwd: this.options.repoDir,
          encoding: 'buffer',
          maxBuffer: 256 * 1024 * 1024,
        },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
    });
  }

  /** The type of a full object id, or undefined when there is no such object. */
  private async objectType(id: string): Promise<string | undefined> {
    if (!GIT_ID.test(id)) return undefined;
    return this.git(['cat-file', '-t', id]).then(
      out => out.toString().trim(),
      () => undefined,
    );
  }

  private api(path: string) {
    return `${this.apiBaseUrl}/repos/${this.options.owner}/${this.options.repo}${path}`;
  }

  private html(path: string) {
    return `${this.origin}/${this.options.owner}/${this.options.repo}${path}`;
  }

  private nodeId(type: string, id: string) {
    return Buffer.from(
      `${type}:${this.options.owner}/${this.options.repo}:${id}`,
    ).toString('base64');
  }

  private createRoutes(): Route[] {
    const repoPath = '/repos/([^/]+)/([^/]+)';
    const route = (
      template: string,
      pattern: string,
      handle: (params: string[], query: URLSearchParams) => Promise<Answer>,
    ): Route => {
      const operationId = this.openapi.operationId(template, 'GET');
      if (!operationId)
        throw new Error(
          `GET ${template} is not in GitHub's OpenAPI description`,
        );
      return {
        operationId,
        template,
        pattern: new RegExp(`^${repoPath}${pattern}$`),
        handle,
      };
    };
    return [
      route('/repos/{owner}/{repo}/git/ref/{ref}', '/git/ref/(.+)', ([ref]) =>
        this.getRef(ref),
      ),
      route(
        '/repos/{owner}/{repo}/git/commits/{commit_sha}',
        '/git/commits/([^/]+)',
        ([sha]) => this.getCommit(sha),
      ),
      route(
        '/repos/{owner}/{repo}/git/trees/{tree_sha}',
        '/git/trees/([^/]+)',
        ([sha], query) => this.getTree(sha, query.has('recursive')),
      ),
      route(
        '/repos/{owner}/{repo}/git/blobs/{file_sha}',
        '/git/blobs/([^/]+)',
        ([sha]) => this.getBlob(sha),
      ),
      route('/repos/{owner}/{repo}/commits', '/commits', (_, query) =>
        this.listCommits(query),
      ),
    ];
  }

  private async getRef(ref: string): Promise<Answer> {
    const name = `refs/${ref}`;
    if (!/^(heads|tags)\/./.test(ref) || ref.includes('..'))
      return notFound('git/refs#get-a-reference');
    const sha = await this.git(['rev-parse', '--verify', '--quiet', name]).then(
      out => out.toString().trim(),
      () => undefined,
    );
    if (!sha) return notFound('git/refs#get-a-reference');
    const type = (await this.objectType(sha)) ?? 'commit';
    return {
      status: 200,
      body: {
        ref: name,
        node_id: this.nodeId('Ref', name),
        url: this.api(`/git/${name}`),
        object: { sha, type, url: this.api(`/git/${type}s/${sha}`) },
      },
    };
  }

  /** Reads commits with `git log`: one record per commit. */
  private async commits(args: string[]) {
    const out = await this.git([
      'log',
      '--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B%x1e',
      ...args,
    ]);
    return out
      .toString('utf8')
      .split('\x1e')
      .map(record => record.replace(/^\n/, ''))
      .filter(Boolean)
      .map(record => {
        const [
          sha,
          tree,
          parents,
          authorName,
          authorEmail,
          authorDate,
          committerName,
          committerEmail,
          committerDate,
          message,
        ] = record.split('\0');
        return {
          sha,
          tree,
          parents: parents ? parents.split(' ') : [],
          author: {
            name: authorName,
            email: authorEmail,
            date: githubTime(authorDate),
          },
          committer: {
            name: committerName,
            email: committerEmail,
            date: githubTime(committerDate),
          },
          // GitHub shows the message as stored, without git's closing newline.
          message: message.replace(/\n+$/, ''),
        };
      });
  }

  private static readonly unsigned = {
    verified: false,
    reason: 'unsigned',
    signature: null,
    payload: null,
    verified_at: null,
  };

  private async getCommit(sha: string): Promise<Answer> {
    if ((await this.objectType(sha)) !== 'commit')
      return notFound('git/commits#get-a-commit-object');
    const [commit] = await this.commits(['-1', sha]);
    return {
      status: 200,
      body: {
        sha: commit.sha,
        node_id: this.nodeId('Commit', commit.sha),
        url: this.api(`/git/commits/${commit.sha}`),
        html_url: this.html(`/commit/${commit.sha}`),
        author: commit.author,
        committer: commit.committer,
        tree: { sha: commit.tree, url: this.api(`/git/trees/${commit.tree}`) },
        message: commit.message,
        parents: commit.parents.map(parent => ({
          sha: parent,
          url: this.api(`/git/commits/${parent}`),
          html_url: this.html(`/commit/${parent}`),
        })),
        verification: GithubSimulator.unsigned,
      },
    };
  }

  private async getTree(sha: string, recursive: boolean): Promise<Answer> {
    // GitHub also accepts a commit here and lists its tree.
    const type = await this.objectType(sha);
    if (type !== 'tree' && type !== 'commit')
      return notFound('git/trees#get-a-tree');
    const tree = (await this.git(['rev-parse', `${sha}^{tree}`]))
      .toString()
      .trim();
    const out = await this.git([
      'ls-tree',
      '-l',
      '-z',
      ...(recursive ? ['-r', '-t'] : []),
      tree,
    ]);
    let entries = out
      .toString('utf8')
      .split('\0')
      .filter(Boolean)
      .map(line => {
        // "<mode> <type> <id> <size>\t<path>"
        const tab = line.indexOf('\t');
        const [mode, entryType, id, size] = line
          .slice(0, tab)
          .trim()
          .split(/\s+/);
        const path = line.slice(tab + 1);
        if (entryType === 'commit')
          return { path, mode, type: entryType, sha: id };
        return {
          path,
          mode,
          type: entryType,
          sha: id,
          ...(entryType === 'blob' ? { size: Number(size) } : {}),
          url: this.api(`/git/${entryType}s/${id}`),
        };
      });
    const max = this.options.maxTreeEntries ?? 100_000;
    const truncated = recursive && entries.length > max;
    if (truncated) entries = entries.slice(0, max);
    return {
      status: 200,
      body: {
        sha: tree,
        url: this.api(`/git/trees/${tree}`),
        tree: entries,
        truncated,
      },
    };
  }

  private async getBlob(sha: string): Promise<Answer> {
    if ((await this.objectType(sha)) !== 'blob')
      return notFound('git/blobs#get-a-blob');
    const content = await this.git(['cat-file', 'blob', sha]);
    // GitHub wraps base64 content at 60 characters.
    const base64 = content.toString('base64').replace(/.{60}/g, '$&\n');
    return {
      status: 200,
      body: {
        sha,
        node_id: this.nodeId('Blob', sha),
        size: content.length,
        url: this.api(`/git/blobs/${sha}`),
        content:
          base64.endsWith('\n') || base64 === '' ? base64 : `${base64}\n`,
        encoding: 'base64',
      },
    };
  }

  private async listCommits(query: URLSearchParams): Promise<Answer> {
    const perPage = Math.min(
      100,
      Math.max(1, Number(query.get('per_page') ?? 30) || 30),
    );
    const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const start = query.get('sha') ?? 'HEAD';
    const path = query.get('path');
    const head = start.startsWith('-')
      ? undefined
      : await this.git([
          'rev-parse',
          '--verify',
          '--quiet',
          `${start}^{commit}`,
        ]).then(
          out => out.toString().trim(),
          () => undefined,
        );
    if (!head) return notFound('commits/commits#list-commits');
    const commits = await this.commits([
      `--skip=${(page - 1) * perPage}`,
      `--max-count=${perPage + 1}`,
      head,
      ...(path ? ['--', `:(literal)${path}`] : []),
    ]);
    const headers: Record<string, string> = {};
    if (commits.length > perPage) {
      commits.length = perPage;
      const next = new URLSearchParams(query);
      next.set('page', String(page + 1));
      headers.link = `<${this.api(`/commits?${next}`)}>; rel="next"`;
    }
    return {
      status: 200,
      headers,
      body: commits.map(commit => ({
        sha: commit.sha,
        node_id: this.nodeId('Commit', commit.sha),
        commit: {
          author: commit.author,
          committer: commit.committer,
          message: commit.message,
          tree: {
            sha: commit.tree,
            url: this.api(`/git/trees/${commit.tree}`),
          },
          url: this.api(`/git/commits/${commit.sha}`),
          comment_count: 0,
          verification: GithubSimulator.unsigned,
        },
        url: this.api(`/commits/${commit.sha}`),
        html_url: this.html(`/commit/${commit.sha}`),
        comments_url: this.api(`/commits/${commit.sha}/comments`),
        // The fixture's authors are not GitHub accounts.
        author: null,
        committer: null,
        parents: commit.parents.map(parent => ({
          sha: parent,
          url: this.api(`/commits/${parent}`),
          html_url: this.html(`/commit/${parent}`),
        })),
      })),
    };
  }

  private rateLimitHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': String(RATE_LIMIT),
      'x-ratelimit-remaining': String(Math.max(0, RATE_LIMIT - this.used)),
      'x-ratelimit-reset': String(this.resetAt),
      'x-ratelimit-used': String(this.used),
      'x-ratelimit-resource': 'core',
    };
  }

  /** The answer to a request before any repository is read, when one is due. */
  private interception(
    route: Route,
    authorization: string | undefined,
  ): Answer | 'hang' | undefined {
    const { token } = this.options;
    if (
      token &&
      !new RegExp(`^(token|bearer) ${token}$`, 'i').test(authorization ?? '')
    ) {
      return {
        status: 401,
        body: {
          message: 'Bad credentials',
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
    const index = this.faults.findIndex(
      f => !f.operationId || f.operationId === route.operationId,
    );
    if (index < 0) return undefined;
    const [fault] = this.faults.splice(index, 1);
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

  private async serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', this.origin);
    const authorization = req.headers.authorization;
    const ifNoneMatch = req.headers['if-none-match'];
    const record: SimulatedRequest = {
      operationId: '?',
      method: req.method ?? '?',
      path: `${url.pathname}${url.search}`,
      authorization,
      ifNoneMatch,
    };
    this.requests.push(record);

    const basePath = this.options.basePath ?? '';
    const apiPath = url.pathname.startsWith(`${basePath}/`)
      ? url.pathname.slice(basePath.length)
      : undefined;
    const route =
      apiPath !== undefined
        ? this.routes.find(r => r.pattern.test(apiPath))
        : undefined;
    if (req.method !== 'GET' || !route) {
      this.problems.push(
        `unexpected request ${req.method} ${record.path}: not an endpoint the provider may use`,
      );
      record.status = 404;
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        JSON.stringify({ message: 'Not Found', documentation_url: DOCS }),
      );
      return;
    }
    record.operationId = route.operationId;
    const params = route.pattern
      .exec(apiPath!)!
      .slice(1)
      .map(decodeURIComponent);
    const [owner, repo, ...rest] = params;

    let answer = this.interception(route, authorization);
    if (answer === 'hang') return; // the client's timeout is what ends this request
    if (!answer) {
      answer =
        owner !== this.options.owner || repo !== this.options.repo
          ? notFound('repos/repos#get-a-repository')
          : await route.handle(rest, url.searchParams);
      if (answer.status < 400) this.used++;
    }

    const json = answer.body === undefined ? '' : JSON.stringify(answer.body);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-request-id': crypto.randomUUID(),
      ...this.rateLimitHeaders(),
      ...answer.headers,
    };
    let status = answer.status;
    let body = json;
    if (status === 200) {
      const etag = `W/"${crypto
        .createHash('sha256')
        .update(json)
        .digest('hex')}"`;
      headers.etag = etag;
      headers.vary = 'Accept, Authorization, Cookie, X-GitHub-OTP';
      headers['cache-control'] = 'private, max-age=60, s-maxage=60';
      const wanted = String(ifNoneMatch ?? '')
        .split(',')
        .map(t => t.trim().replace(/^W\//, ''));
      if (wanted.includes(etag.replace(/^W\//, ''))) {
        // A conditional request answered 304 does not count against the rate limit.
        this.used--;
        Object.assign(headers, this.rateLimitHeaders());
        status = 304;
        body = '';
        delete headers['content-type'];
      }
    }
    const check = this.openapi.check(
      route.template,
      'GET',
      status,
      body === '' ? undefined : JSON.parse(body),
    );
    this.problems.push(
      ...check.problems.map(problem => `${problem} (${record.path})`),
    );
    record.status = status;
    res.writeHead(status, headers);
    res.end(body);
  }
}
