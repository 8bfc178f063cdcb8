import { IncomingMessage } from 'node:http';
import {
  HttpAnswer,
  HttpUnreachableError,
  openStream,
  requestJson,
} from '../http';
import { ArgoCdInstanceConfig } from '../liveStateConfig';
import {
  ArgoCdApplication,
  ArgoCdResourceTree,
  ArgoCdWatchEvent,
} from './types';

/** The longest message of the watch stream read: far beyond any one application. */
export const MAX_STREAM_MESSAGE_CHARS = 4 * 1024 * 1024;

/** Argo CD's gRPC code for "permission denied", which it also answers for an absent application. */
const PERMISSION_DENIED = 7;

/** Argo CD answered, but not with what was asked for. */
export class ArgoCdError extends Error {
  name = 'ArgoCdError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** What Argo CD says went wrong, from either of grpc-gateway's error bodies. */
function reason(answer: HttpAnswer): string {
  const body = answer.body as
    | { message?: string; error?: string | { message?: string } }
    | undefined;
  const text =
    body?.message ??
    (typeof body?.error === 'object' ? body.error.message : body?.error) ??
    answer.text.trim().slice(0, 200);
  return text ? `: ${text}` : '';
}

/**
 * One Argo CD instance's REST API: the application list (by label selector), one application
 * by name, an application's resource tree and one live resource, and the application watch
 * stream. It logs in once with an account (or uses an API token) and reuses the session until
 * Argo CD refuses it.
 */
export class ArgoCdClient {
  private session?: Promise<string>;

  constructor(private readonly instance: ArgoCdInstanceConfig) {}

  get name(): string {
    return this.instance.name;
  }

  /** The Argo CD UI's page of an application. */
  applicationUrl(name: string, namespace?: string): string {
    return `${this.instance.url}/applications/${
      namespace ? `${encodeURIComponent(namespace)}/` : ''
    }${encodeURIComponent(name)}`;
  }

  /** Applications matching a label selector, in one namespace or all. */
  async listApplications(
    query: { selector?: string; appNamespace?: string },
    signal?: AbortSignal,
  ): Promise<ArgoCdApplication[]> {
    const answer = await this.get(
      `/api/v1/applications${this.query(query)}`,
      signal,
    );
    this.check(answer, 'listing applications');
    return (answer.body as { items?: ArgoCdApplication[] }).items ?? [];
  }

  /**
   * One application by name, or undefined when there is none: Argo CD answers "permission
   * denied" (403) for an application that does not exist, so as not to tell which do.
   */
  async getApplication(
    name: string,
    query: { appNamespace?: string },
    signal?: AbortSignal,
  ): Promise<ArgoCdApplication | undefined> {
    const answer = await this.get(
      `/api/v1/applications/${encodeURIComponent(name)}${this.query(query)}`,
      signal,
    );
    const code = (answer.body as { code?: number } | undefined)?.code;
    if (
      answer.status === 404 ||
      (answer.status === 403 && code === PERMISSION_DENIED)
    )
      return undefined;
    this.check(answer, `reading application ${name}`);
    return answer.body as ArgoCdApplication;
  }

  async resourceTree(
    application: ArgoCdApplication,
    signal?: AbortSignal,
  ): Promise<ArgoCdResourceTree> {
    const { name, namespace } = application.metadata;
    const answer = await this.get(
      `/api/v1/applications/${encodeURIComponent(
        name,
      )}/resource-tree${this.query({
        appNamespace: namespace,
        project: application.spec?.project,
      })}`,
      signal,
    );
    this.check(answer, `reading the resource tree of ${name}`);
    return answer.body as ArgoCdResourceTree;
  }

  /** The live manifest of one resource of an application. */
  async resource(
    application: ArgoCdApplication,
    resource: {
      group?: string;
      version?: string;
      kind: string;
      namespace?: string;
      name: string;
    },
    signal?: AbortSignal,
  ): Promise<unknown> {
    const { name, namespace } = application.metadata;
    const answer = await this.get(
      `/api/v1/applications/${encodeURIComponent(name)}/resource${this.query({
        appNamespace: namespace,
        project: application.spec?.project,
        namespace: resource.namespace,
        resourceName: resource.name,
        group: resource.group,
        version: resource.version,
        kind: resource.kind,
      })}`,
      signal,
    );
    this.check(answer, `reading ${resource.kind} ${resource.name} of ${name}`);
    const manifest = (answer.body as { manifest?: string }).manifest;
    return manifest ? JSON.parse(manifest) : undefined;
  }

  /**
   * Follows every application's changes until the stream ends (resolves) or fails (rejects);
   * `onOpen` is called once Argo CD answered. Argo CD first sends every application as ADDED.
   */
  async watch(options: {
    signal: AbortSignal;
    /** A stream silent for this long is taken as dead (Argo CD sends a keep-alive every 15 s). */
    idleTimeoutMs: number;
    onOpen: () => void;
    onEvent: (event: ArgoCdWatchEvent) => void;
  }): Promise<void> {
    let response = await this.openWatch(options.signal);
    if (response.statusCode === 401 && this.instance.username) {
      response.resume();
      this.session = undefined;
      response = await this.openWatch(options.signal);
    }
    if (response.statusCode !== 200) {
      const text = await readAll(response);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      this.check({ status: response.statusCode ?? 0, body, text }, 'watching');
    }
    options.onOpen();
    await readEvents(response, options, message => {
      if (message.error)
        throw new ArgoCdError(
          `Argo CD instance ${this.name} ended the stream: ${
            message.error.message ?? 'an error'
          }`,
          message.error.http_code ?? 500,
        );
      if (message.result) options.onEvent(message.result);
    });
  }

  private async openWatch(signal: AbortSignal): Promise<IncomingMessage> {
    return openStream(`${this.instance.url}/api/v1/stream/applications`, {
      headers: {
        authorization: `Bearer ${await this.token(signal)}`,
        accept: 'text/event-stream',
      },
      signal,
      headersTimeoutMs: this.instance.timeoutMs,
      caData: this.instance.caData,
      insecure: this.instance.insecure,
    });
  }

  private query(params: Record<string, string | undefined>): string {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params))
      if (value) search.set(key, value);
    const text = search.toString();
    return text ? `?${text}` : '';
  }

  private async get(path: string, signal?: AbortSignal): Promise<HttpAnswer> {
    const send = async () =>
      requestJson(`${this.instance.url}${path}`, {
        headers: { authorization: `Bearer ${await this.token(signal)}` },
        timeoutMs: this.instance.timeoutMs,
        signal,
        caData: this.instance.caData,
        insecure: this.instance.insecure,
      });
    const answer = await send();
    // A session expires or is revoked: log in again once, never in a loop.
    if (answer.status === 401 && this.instance.username) {
      this.session = undefined;
      return send();
    }
    return answer;
  }

  private check(answer: HttpAnswer, what: string) {
    if (answer.status === 200) return;
    if (answer.status === 401)
      throw new ArgoCdError(
        `Argo CD instance ${this.name} refused the backend's ${
          this.instance.token ? 'token' : 'session'
        } (401)${reason(answer)}`,
        401,
      );
    throw new ArgoCdError(
      `Argo CD instance ${this.name} answered ${answer.status} ${what}${reason(
        answer,
      )}`,
      answer.status,
    );
  }

  /** The bearer token: the configured one, or a session logged in once and shared. */
  private token(signal?: AbortSignal): Promise<string> {
    if (this.instance.token) return Promise.resolve(this.instance.token);
    if (!this.session) {
      const login = requestJson(`${this.instance.url}/api/v1/session`, {
        method: 'POST',
        body: {
          username: this.instance.username,
          password: this.instance.password,
        },
        timeoutMs: this.instance.timeoutMs,
        signal,
        caData: this.instance.caData,
        insecure: this.instance.insecure,
      }).then(answer => {
        if (answer.status !== 200)
          throw new ArgoCdError(
            `Argo CD instance ${this.name} refused to log in ${
              this.instance.username
            } (${answer.status})${reason(answer)}`,
            answer.status,
          );
        return (answer.body as { token: string }).token;
      });
      this.session = login;
      // A failed login is not kept: the next request tries again.
      login.catch(() => {
        if (this.session === login) this.session = undefined;
      });
    }
    return this.session;
  }
}

function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', chunk => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

interface StreamMessage {
  result?: ArgoCdWatchEvent;
  error?: { message?: string; http_code?: number };
}

/**
 * Reads a stream of server-sent events (`data: {…}` and a blank line; `:` lines keep it alive)
 * or of JSON lines, calling `onMessage` for each message until the stream ends.
 */
function readEvents(
  response: IncomingMessage,
  options: { signal: AbortSignal; idleTimeoutMs: number },
  onMessage: (message: StreamMessage) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let data: string[] = [];
    let dataLength = 0;
    let idle: NodeJS.Timeout | undefined;
    const fail = (error: unknown) => {
      clearTimeout(idle);
      response.destroy();
      reject(error);
    };
    const done = () => {
      clearTimeout(idle);
      resolve();
    };
    const awake = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () =>
          fail(
            new Error(`the stream was silent for ${options.idleTimeoutMs} ms`),
          ),
        options.idleTimeoutMs,
      );
    };
    awake();
    const deliver = (text: string) => {
      if (!text.trim()) return;
      onMessage(JSON.parse(text) as StreamMessage);
    };
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      awake();
      buffer += chunk;
      let end = buffer.indexOf('\n');
      try {
        while (end >= 0) {
          const line = buffer.slice(0, end).replace(/\r$/, '');
          buffer = buffer.slice(end + 1);
          if (line.startsWith('data:')) {
            data.push(line.slice(5).trim());
            dataLength += line.length;
          } else if (line === '') {
            if (data.length) deliver(data.join('\n'));
            data = [];
            dataLength = 0;
          } else if (!line.startsWith(':')) deliver(line);
          end = buffer.indexOf('\n');
        }
        if (buffer.length + dataLength > MAX_STREAM_MESSAGE_CHARS)
          throw new HttpUnreachableError(
            `a message of the stream was longer than ${MAX_STREAM_MESSAGE_CHARS} characters`,
          );
      } catch (error) {
        fail(error);
      }
    });
    response.on('end', done);
    response.on('close', done);
    response.on('error', error =>
      options.signal.aborted ? done() : fail(error),
    );
  });
}
