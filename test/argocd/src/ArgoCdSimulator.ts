import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  Application,
  ApplicationSeed,
  buildApplication,
  BuiltApplication,
  CONTROL_PLANE_NAMESPACE,
} from './applications';
import {
  FieldSelection,
  parseFields,
  selectListFields,
  selectStreamFields,
} from './fields';
import {
  applicationNotFound,
  GrpcCode,
  GrpcStatus,
  httpStatusOf,
  noSession,
  permissionDenied,
  streamErrorBody,
  unaryErrorBody,
} from './grpcErrors';
import { kubeTime } from './names';
import { resourceKey } from './resources';
import { RolloutSeed } from './rollouts';
import {
  matchesSelector,
  parseSelector,
  SelectorError,
  SelectorRequirement,
} from './selectors';
import { ArgoCdSwagger, MatchedOperation } from './swagger';
import { looksLikeJwt, TokenIssuer } from './tokens';

/**
 * An Argo CD API server simulator for tests and demos: serves Applications built from seeds over
 * the endpoints a Backstage backend reads (session, list, get, resource tree, live resource, and
 * the application watch stream), with Argo CD's authentication, error bodies and quirks. It
 * checks every request it receives and every answer it sends against Argo CD's published API
 * description; anything off is recorded in `problems`, which a test asserts is empty.
 */

export interface ArgoCdSimulatorOptions {
  /** Accounts that may log in, name to password; `{ admin: 'password' }` by default. */
  accounts?: Record<string, string>;
  /** More bearer tokens to accept, e.g. written in a test's config. JWTs, as Argo CD only reads those. */
  apiTokens?: string[];
  applications?: ApplicationSeed[];
  /** 0 (any free port) by default. */
  port?: number;
  /** 127.0.0.1 by default. */
  host?: string;
  /** What `/api/version` reports. */
  version?: string;
}

/** One request the simulator received, with how it was answered. */
export interface SimulatedRequest {
  operationId: string;
  method: string;
  path: string;
  /** Undefined while the request is left without an answer. */
  status?: number;
  authorization?: string;
  /** When it arrived, in milliseconds since the epoch. */
  receivedAt: number;
}

/** Which changes an open watch stream is sent: the query of `ApplicationService_Watch`. */
interface WatchFilter {
  name: string;
  namespace: string;
  projects: string[];
  selector: SelectorRequirement[];
  minVersion: number;
}

interface OpenStream {
  res: http.ServerResponse;
  match: MatchedOperation;
  path: string;
  filter: WatchFilter;
  fields?: FieldSelection;
  sse: boolean;
  /** The last message sent per application name, which Argo CD does not send twice in a row. */
  sent: Map<string, string>;
  keepalive?: NodeJS.Timeout;
}

type Fault =
  | { kind: 'status'; status: 500 | 503; operationId?: string }
  | { kind: 'hang'; operationId?: string };

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Call {
  match: MatchedOperation;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The account the request's token belongs to, if it has a valid one. */
  account?: string;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  path: string;
}

type Handler = (call: Call) => Answer | GrpcStatus | 'streaming';

interface StoredApplication {
  seed: ApplicationSeed;
  built: BuiltApplication;
}

const VERSION = 'v3.6.0+simulated';
const SSE_KEEPALIVE_MS = 15_000;
/** Operations Argo CD serves without a token (their `AuthFuncOverride`). */
const WITHOUT_AUTH = /^(SessionService_|VersionService_)/;

const isStatus = (value: unknown): value is GrpcStatus =>
  typeof value === 'object' &&
  value !== null &&
  'code' in value &&
  'message' in value &&
  !('status' in value);

/** A simulated Argo CD API server; see the module comment. */
export class ArgoCdSimulator {
  /** Every request received, in order. */
  readonly requests: SimulatedRequest[] = [];
  /** Requests Argo CD would not understand, and answers it would never send. */
  readonly problems: string[] = [];
  private readonly server: http.Server;
  private readonly swagger = ArgoCdSwagger.load();
  private readonly tokens = new TokenIssuer();
  private readonly faults: Fault[] = [];
  private readonly applications = new Map<string, StoredApplication>();
  private readonly streams = new Set<OpenStream>();
  private readonly handlers: Record<string, Handler>;
  private readonly accounts: Record<string, string>;
  private readonly apiTokens: Set<string>;
  private resourceVersion = 0;
  private authRejected = false;
  private hangingAll = false;
  private origin = '';

  private constructor(private readonly options: ArgoCdSimulatorOptions) {
    this.accounts = options.accounts ?? { admin: 'password' };
    for (const token of options.apiTokens ?? []) {
      if (!looksLikeJwt(token))
        throw new Error(
          'Argo CD reads only JWTs as bearer tokens; use createApiToken() for a valid one',
        );
    }
    this.apiTokens = new Set(options.apiTokens);
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
    this.handlers = {
      SessionService_Create: call => this.createSession(call),
      SessionService_GetUserInfo: call => ({
        status: 200,
        body: call.account
          ? { loggedIn: true, username: call.account, iss: 'argocd' }
          : { loggedIn: false },
      }),
      VersionService_Version: call => this.version(call),
      ApplicationService_List: call => this.listApplications(call),
      ApplicationService_Get: call => this.getApplicationAnswer(call),
      ApplicationService_ResourceTree: call => this.resourceTree(call),
      ApplicationService_GetResource: call => this.getResource(call),
      ApplicationService_Watch: call => this.watch(call),
    };
    for (const seed of options.applications ?? []) this.setApplication(seed);
  }

  static async start(
    options: ArgoCdSimulatorOptions = {},
  ): Promise<ArgoCdSimulator> {
    const simulator = new ArgoCdSimulator(options);
    await new Promise<void>((resolve, reject) => {
      simulator.server.once('error', reject);
      simulator.server.listen(
        options.port ?? 0,
        options.host ?? '127.0.0.1',
        resolve,
      );
    });
    const { port, address } = simulator.server.address() as AddressInfo;
    simulator.origin = `http://${address}:${port}`;
    return simulator;
  }

  /** Argo CD's base URL, what a Backstage config's Argo CD `url` is set to; the API is below `/api`. */
  get url(): string {
    return this.origin;
  }

  async stop() {
    for (const stream of this.streams) clearInterval(stream.keepalive);
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise(resolve => this.server.close(resolve));
  }

  /** A token of an account, as `argocd account generate-token` makes: no expiry. */
  createApiToken(account = 'admin'): string {
    return this.tokens.issue(`${account}:apiKey`);
  }

  // Applications

  /** Adds or replaces an application, and tells open streams (ADDED, or MODIFIED if it existed). */
  setApplication(seed: ApplicationSeed): Application {
    const stored: ApplicationSeed = { syncedAt: kubeTime(), ...seed };
    const key = this.key(seed.name, seed.namespace);
    const existed = this.applications.has(key);
    this.store(key, stored);
    return this.changed(key, existed ? 'MODIFIED' : 'ADDED');
  }

  /** Changes an application's seed and tells open streams (MODIFIED). */
  updateApplication(
    name: string,
    changes: Partial<ApplicationSeed>,
    options: { namespace?: string } = {},
  ): Application {
    const key = this.key(name, options.namespace);
    const current = this.applications.get(key);
    if (!current) throw new Error(`no application ${key} to update`);
    this.store(key, { ...current.seed, ...changes, name: current.seed.name });
    return this.changed(key, 'MODIFIED');
  }

  /** Changes the Argo Rollout of an application and tells open streams (MODIFIED). */
  setRollout(
    appName: string,
    rollout: Partial<RolloutSeed>,
    options: { namespace?: string } = {},
  ): Application {
    const current = this.applications.get(this.key(appName, options.namespace));
    const merged = { ...current?.seed.rollout, ...rollout };
    if (!merged.stableImage)
      throw new Error(`setRollout(${appName}) needs a stableImage`);
    return this.updateApplication(
      appName,
      { rollout: merged as RolloutSeed },
      options,
    );
  }

  /** Removes an application and tells open streams (DELETED). */
  deleteApplication(name: string, options: { namespace?: string } = {}) {
    const key = this.key(name, options.namespace);
    const current = this.applications.get(key);
    if (!current) throw new Error(`no application ${key} to delete`);
    const application = {
      ...current.built.application,
      metadata: {
        ...current.built.application.metadata,
        resourceVersion: String(++this.resourceVersion),
        deletionTimestamp: kubeTime(),
      },
    };
    this.applications.delete(key);
    this.broadcast('DELETED', application);
  }

  /** The application as the API would send it now. */
  application(name: string, options: { namespace?: string } = {}) {
    return this.applications.get(this.key(name, options.namespace))?.built
      .application;
  }

  // Faults

  /** The next `times` requests (of one operation, if given) are answered with a server error. */
  failNext(times: number, status: 500 | 503 = 500, operationId?: string) {
    for (let i = 0; i < times; i++)
      this.faults.push({ kind: 'status', status, operationId });
  }

  /** The next `times` requests (of one operation, if given) get no answer: a client's timeout must end them. */
  hangNext(times: number, operationId?: string) {
    for (let i = 0; i < times; i++)
      this.faults.push({ kind: 'hang', operationId });
  }

  /** While on, every token is refused as expired (401), and no one can log in. */
  rejectAuth(on = true) {
    this.authRejected = on;
  }

  /** While on, no request gets an answer. */
  hangAll(on = true) {
    this.hangingAll = on;
  }

  /** Ends every open watch stream abruptly, as a restarting server or a proxy would. */
  dropStreams() {
    for (const stream of this.streams) {
      clearInterval(stream.keepalive);
      stream.res.socket?.destroy();
    }
    this.streams.clear();
  }

  // Counting

  /** Watch streams open now. */
  get openStreams(): number {
    return this.streams.size;
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

  // Keeping applications

  private key(name: string, namespace?: string) {
    return `${namespace || CONTROL_PLANE_NAMESPACE}/${name}`;
  }

  private store(key: string, seed: ApplicationSeed) {
    const before = this.applications.get(key)?.built.application;
    const built = buildApplication(seed, {
      uid: before?.metadata.uid,
      createdAt: before?.metadata.creationTimestamp,
      healthSince: before?.status.health.lastTransitionTime,
      resourceVersion: String(++this.resourceVersion),
    });
    const { metadata, spec, status } = built.application;
    // Kubernetes counts changes of the spec only; the health records when it last changed.
    const specChanged = JSON.stringify(before?.spec) !== JSON.stringify(spec);
    metadata.generation =
      (before?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    if (before && before.status.health.status !== status.health.status)
      status.health.lastTransitionTime = kubeTime();
    this.problems.push(...built.problems);
    this.applications.set(key, { seed, built });
  }

  private changed(key: string, type: 'ADDED' | 'MODIFIED'): Application {
    const { application } = this.applications.get(key)!.built;
    this.broadcast(type, application);
    return application;
  }

  // Serving

  private async serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', this.origin);
    const record: SimulatedRequest = {
      operationId: '?',
      method: req.method ?? '?',
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
      receivedAt: Date.now(),
    };
    this.requests.push(record);
    if (this.hangingAll) return; // the client's timeout is what ends this request
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const problem = (text: string) =>
      this.problems.push(`${text} (${req.method} ${record.path})`);

    const match = this.swagger.match(req.method ?? 'GET', url.pathname);
    if (!match) {
      problem("a request that is no operation of Argo CD's API");
      record.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not Found\n');
      return;
    }
    record.operationId = match.operationId;
    for (const found of this.swagger.checkRequest(match, {
      query: url.searchParams,
      body: rawBody || undefined,
      // Argo CD's list and watch forwarders read `fields` themselves.
      alsoAccepted: /^ApplicationService_(List|Watch)$/.test(match.operationId)
        ? ['fields']
        : [],
    }))
      problem(found);

    // Argo CD refuses other content types before anything else (`enforceContentTypes`).
    const contentType = req.headers['content-type']?.toLowerCase();
    if (req.method !== 'GET' && contentType !== 'application/json') {
      problem(
        `Content-Type "${
          contentType ?? ''
        }"; Argo CD answers anything but application/json with 415`,
      );
      record.status = 415;
      res.writeHead(415, {
        'content-type': 'text/plain; charset=utf-8',
        'x-content-type-options': 'nosniff',
      });
      res.end('Invalid content type\n');
      return;
    }
    const answer = this.answer({
      match,
      query: url.searchParams,
      rawBody,
      req,
      res,
      path: record.path,
    });
    if (answer === 'hang') return; // the client's timeout is what ends this request
    if (answer === 'streaming') {
      record.status = 200;
      return;
    }
    const full: Answer = isStatus(answer)
      ? {
          status: httpStatusOf(answer),
          body: match.streaming
            ? streamErrorBody(answer)
            : unaryErrorBody(answer),
        }
      : answer;
    for (const found of this.swagger.checkResponse(
      match,
      full.status,
      full.body,
    ))
      problem(found);
    record.status = full.status;
    res.writeHead(full.status, {
      'content-type': 'application/json',
      ...full.headers,
    });
    res.end(full.body === undefined ? '' : JSON.stringify(full.body));
  }

  /** What to answer a request for an operation: after its body, its token and any fault due. */
  private answer(
    request: Omit<Call, 'body' | 'account'> & { rawBody: string },
  ): Answer | GrpcStatus | 'streaming' | 'hang' {
    const { match, rawBody, req } = request;
    let body: Record<string, unknown> = {};
    try {
      body = rawBody ? JSON.parse(rawBody) : {};
    } catch (error) {
      return {
        code: GrpcCode.InvalidArgument,
        message: (error as Error).message,
      };
    }
    const handler = this.handlers[match.operationId];
    if (!handler) {
      this.problems.push(
        `${match.operationId} is not simulated (${req.method} ${request.path})`,
      );
      return {
        code: GrpcCode.Unimplemented,
        message: `${match.operationId} is not simulated`,
      };
    }
    const account = this.account(req);
    if (isStatus(account) && !WITHOUT_AUTH.test(match.operationId))
      return account;
    const index = this.faults.findIndex(
      f => !f.operationId || f.operationId === match.operationId,
    );
    if (index >= 0) {
      const [fault] = this.faults.splice(index, 1);
      if (fault.kind === 'hang') return 'hang';
      return fault.status === 503
        ? {
            code: GrpcCode.Unavailable,
            message: 'simulated fault: the API server is unavailable',
          }
        : {
            code: GrpcCode.Unknown,
            message: 'simulated fault: the API server failed',
          };
    }
    return handler({
      ...request,
      body,
      account: isStatus(account) ? undefined : account,
    });
  }

  /** The account of a request's token, or why Argo CD would refuse it. */
  private account(req: http.IncomingMessage): string | GrpcStatus {
    const header = req.headers.authorization ?? '';
    const bearer = header.startsWith('Bearer ') ? header.slice(7) : '';
    // Argo CD prefers a bearer token that looks like a JWT, then its own cookie.
    const cookie = /(?:^|;\s*)argocd\.token=([^;]+)/.exec(
      req.headers.cookie ?? '',
    )?.[1];
    const token = [bearer, cookie].find(t => t && looksLikeJwt(t));
    if (!token) return noSession;
    const invalid = (reason: string): GrpcStatus => ({
      code: GrpcCode.Unauthenticated,
      message: `invalid session: ${reason}`,
    });
    if (this.authRejected)
      return invalid('token has invalid claims: token is expired');
    if (this.apiTokens.has(token)) return 'admin';
    const check = this.tokens.check(token);
    if (!check.valid) return invalid(check.reason);
    return check.subject.split(':')[0];
  }

  private createSession({ body }: Call): Answer | GrpcStatus {
    const unauthenticated = (message: string): GrpcStatus => ({
      code: GrpcCode.Unauthenticated,
      message,
    });
    if (body.token)
      return unauthenticated(
        'token-based session creation no longer supported. please upgrade argocd cli to v0.7+',
      );
    const username = String(body.username ?? '');
    const password = String(body.password ?? '');
    if (!username || !password)
      return unauthenticated('no credentials supplied');
    if (this.authRejected || this.accounts[username] !== password)
      return unauthenticated('Invalid username or password');
    const token = this.tokens.issue(`${username}:login`, 24 * 60 * 60);
    return {
      status: 200,
      body: { token },
      headers: {
        'set-cookie': `argocd.token=${token}; path=/; SameSite=lax; httpOnly`,
      },
    };
  }

  private version({ account }: Call): Answer {
    const version = this.options.version ?? VERSION;
    if (!account) return { status: 200, body: { Version: version } };
    return {
      status: 200,
      body: {
        Version: version,
        BuildDate: '2026-01-01T00:00:00Z',
        GitCommit: '0000000000000000000000000000000000000000',
        GitTreeState: 'clean',
        GoVersion: process.version,
        Compiler: 'gc',
        Platform: `${process.platform}/${process.arch}`,
        KustomizeVersion: 'v5.7.1',
        HelmVersion: 'v3.18.4',
        KubectlVersion: 'v0.34.0',
        JsonnetVersion: 'v0.21.0',
        ExtraBuildInfo:
          'Argo CD API simulator of GitOps Promotions for Backstage, not a real Argo CD',
      },
    };
  }

  /** The projects a query names: the legacy `project` when given, else `projects`. */
  private projects(query: URLSearchParams): string[] {
    const legacy = query.getAll('project');
    return legacy.length ? legacy : query.getAll('projects');
  }

  private selector(
    query: URLSearchParams,
    call: Call,
    context: string,
  ): SelectorRequirement[] | GrpcStatus {
    try {
      return parseSelector(query.get('selector') ?? '');
    } catch (error) {
      if (!(error instanceof SelectorError)) throw error;
      this.problems.push(
        `a selector Argo CD cannot parse: ${error.message} (${call.req.method} ${call.path})`,
      );
      return {
        code: GrpcCode.Unknown,
        message: `${context}: ${error.message}`,
      };
    }
  }

  private listApplications(call: Call): Answer | GrpcStatus {
    const { query } = call;
    const selector = this.selector(query, call, 'error parsing the selector');
    if (isStatus(selector)) return selector;
    const appNamespace = query.get('appNamespace');
    let apps = [...this.applications.values()]
      .map(a => a.built.application)
      .filter(a => !appNamespace || a.metadata.namespace === appNamespace)
      .filter(a => matchesSelector(selector, a.metadata.labels));
    const name = query.get('name');
    // Argo CD keeps the first application of that name it finds, whatever its namespace.
    if (name) apps = apps.filter(a => a.metadata.name === name).slice(0, 1);
    const projects = this.projects(query);
    if (projects.length)
      apps = apps.filter(a => projects.includes(a.spec.project || 'default'));
    const repo = query.get('repo');
    // Argo CD compares the first source of a multi-source application only.
    if (repo)
      apps = apps.filter(
        a => (a.spec.source ?? a.spec.sources?.[0])?.repoURL === repo,
      );
    apps.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const fields = parseFields(query);
    return {
      status: 200,
      body: {
        metadata: { resourceVersion: String(this.resourceVersion) },
        items: fields ? apps.map(a => selectListFields(a, fields)) : apps,
      },
    };
  }

  /**
   * The application a request names, with Argo CD's answer when it may not see it: without a
   * project, an absent application is "permission denied" (403), so as not to reveal which
   * exist; with one, it is "not found" (404).
   */
  private find(
    name: string,
    appNamespace: string | null,
    project: string | undefined,
  ): StoredApplication | GrpcStatus {
    const stored = this.applications.get(this.key(name, appNamespace ?? ''));
    if (!stored) return project ? applicationNotFound(name) : permissionDenied;
    const actual = stored.built.application.spec.project || 'default';
    if (project && actual !== project) return applicationNotFound(name);
    return stored;
  }

  private getApplicationAnswer({ match, query }: Call): Answer | GrpcStatus {
    const projects = this.projects(query);
    if (projects.length > 1)
      return {
        code: GrpcCode.InvalidArgument,
        message:
          'multiple projects specified - the get endpoint accepts either zero or one project',
      };
    const found = this.find(
      match.pathParams.name,
      query.get('appNamespace'),
      projects[0],
    );
    if (isStatus(found)) return found;
    return { status: 200, body: found.built.application };
  }

  private resourceTree({ match, query }: Call): Answer | GrpcStatus {
    const found = this.find(
      match.pathParams.applicationName,
      query.get('appNamespace'),
      query.get('project') ?? undefined,
    );
    if (isStatus(found)) return found;
    return { status: 200, body: found.built.tree };
  }

  private getResource({ match, query }: Call): Answer | GrpcStatus {
    const name = match.pathParams.name;
    const found = this.find(
      name,
      query.get('appNamespace'),
      query.get('project') ?? undefined,
    );
    if (isStatus(found)) return found;
    const ref = {
      group: query.get('group') ?? '',
      kind: query.get('kind') ?? '',
      namespace: query.get('namespace') ?? '',
      name: query.get('resourceName') ?? '',
    };
    const manifest = found.built.manifests.get(resourceKey(ref));
    if (!manifest)
      return {
        code: GrpcCode.InvalidArgument,
        message: `${ref.kind} ${ref.group} ${ref.name} not found as part of application ${name}`,
      };
    return { status: 200, body: { manifest: JSON.stringify(manifest) } };
  }

  // Watching

  private watch(call: Call): Answer | GrpcStatus | 'streaming' {
    const { query, res, req } = call;
    const selector = this.selector(
      query,
      call,
      'error parsing labels with selectors',
    );
    if (isStatus(selector)) return selector;
    const resourceVersion = query.get('resourceVersion') ?? '';
    const stream: OpenStream = {
      res,
      match: call.match,
      path: call.path,
      filter: {
        name: query.get('name') ?? '',
        namespace: query.get('appNamespace') || CONTROL_PLANE_NAMESPACE,
        projects: this.projects(query),
        selector,
        minVersion: Number.parseInt(resourceVersion, 10) || 0,
      },
      fields: parseFields(query),
      sse: req.headers.accept === 'text/event-stream',
      sent: new Map(),
    };
    this.streams.add(stream);
    res.on('close', () => {
      clearInterval(stream.keepalive);
      this.streams.delete(stream);
    });
    if (stream.sse) {
      // Argo CD keeps an event stream alive with a comment line every 15 seconds.
      stream.keepalive = setInterval(
        () => this.write(stream, ':\n'),
        SSE_KEEPALIVE_MS,
      );
    }
    // Like a Kubernetes watch, Argo CD first sends every matching application as ADDED, unless
    // the client gives a resourceVersion to resume from; a watch of one application by name
    // gets it even then (if not older than that version), so no change is missed in a sync.
    if (!resourceVersion || stream.filter.name) {
      const current = [...this.applications.values()]
        .map(a => a.built.application)
        .sort((a, b) =>
          this.key(a.metadata.name, a.metadata.namespace).localeCompare(
            this.key(b.metadata.name, b.metadata.namespace),
          ),
        );
      for (const application of current)
        this.send(stream, 'ADDED', application);
    }
    return 'streaming';
  }

  private permitted(filter: WatchFilter, application: Application): boolean {
    const { metadata, spec } = application;
    if (
      filter.projects.length &&
      !filter.projects.includes(spec.project || 'default')
    )
      return false;
    if (Number(metadata.resourceVersion) < filter.minVersion) return false;
    // `appNamespace` only qualifies `name`, as in Argo CD's watch.
    const named =
      !filter.name ||
      (metadata.name === filter.name &&
        metadata.namespace === filter.namespace);
    return named && matchesSelector(filter.selector, metadata.labels);
  }

  private broadcast(
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    application: Application,
  ) {
    for (const stream of this.streams) this.send(stream, type, application);
  }

  private send(
    stream: OpenStream,
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    application: Application,
  ) {
    if (!this.permitted(stream.filter, application)) return;
    const message = JSON.parse(
      JSON.stringify({ result: { type, application } }),
    );
    if (stream.fields) selectStreamFields(message, stream.fields);
    const data = JSON.stringify(message);
    // Argo CD's stream forwarder drops a message identical to the last one for that name.
    if (stream.sent.get(application.metadata.name) === data) return;
    stream.sent.set(application.metadata.name, data);
    for (const found of this.swagger.checkStreamMessage(stream.match, message))
      this.problems.push(`${found} (GET ${stream.path})`);
    this.write(stream, stream.sse ? `data: ${data} \n\n` : `${data}\n`);
  }

  /** Writes to a stream; like grpc-gateway, the headers only go out with the first write. */
  private write(stream: OpenStream, text: string) {
    const { res } = stream;
    if (res.destroyed) return;
    if (!res.headersSent)
      res.writeHead(200, {
        'content-type': stream.sse ? 'text/event-stream' : 'application/json',
        'grpc-metadata-content-type': 'application/grpc',
        ...(stream.sse ? { 'x-content-type-options': 'nosniff' } : {}),
      });
    res.write(text);
  }
}
