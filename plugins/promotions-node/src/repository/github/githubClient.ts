import { LoggerService } from '@backstage/backend-plugin-api';
import { Octokit } from '@octokit/rest';

/**
 * How requests to GitHub are retried, timed out and held back by rate limits.
 *
 * @public
 */
export interface GithubRequestPolicy {
  /** Further attempts after a 5xx, timeout, network error or rate-limit answer. */
  retries: number;
  /** Wait before the first retry after a fault; doubled for each further one. */
  backoffMs: number;
  /** The longest a refresh waits for a rate limit to lift; a longer one fails the refresh. */
  maxRateLimitWaitMs: number;
  /** A request with no answer within this time is abandoned and counts as a fault. */
  requestTimeoutMs: number;
}

export const DEFAULT_GITHUB_REQUEST_POLICY: GithubRequestPolicy = {
  retries: 3,
  backoffMs: 1000,
  maxRateLimitWaitMs: 60_000,
  requestTimeoutMs: 30_000,
};

/**
 * One attempt of one request, as reported to `onRequest`.
 *
 * @public
 */
export interface GithubRequestRecord {
  method: string;
  /** The route template, for example `GET /repos/{owner}/{repo}/git/ref/{ref}`. */
  route: string;
  /** The answer's status; undefined when none came (timeout or network error). */
  status: number | undefined;
  /** `x-ratelimit-remaining` of the answer, when it carried a whole number there. */
  rateLimitRemaining?: number;
}

/** GitHub's documented wait when a secondary rate limit gives no retry-after. */
const SECONDARY_LIMIT_WAIT_MS = 60_000;

/**
 * GitHub gave no usable answer. The message names only the configured host; the request layer's
 * own words, which can name internal hosts and ports, are kept in `detail` for the log.
 */
export class GithubUnavailableError extends Error {
  constructor(message: string, readonly detail: string) {
    super(message);
    this.name = 'GithubUnavailableError';
  }
}

interface HttpError {
  status?: number;
  message: string;
  response?: {
    status: number;
    headers: Record<string, string | number | undefined>;
    data?: unknown;
  };
}

const asHttpError = (error: unknown): HttpError =>
  (typeof error === 'object' && error !== null
    ? error
    : { message: String(error) }) as HttpError;

/** The status of an Octokit answer, or undefined when no answer came. */
export function statusOf(error: unknown): number | undefined {
  return asHttpError(error).response?.status;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

function header(
  headers: Record<string, string | number | undefined> | undefined,
  name: string,
) {
  const value = headers?.[name];
  return value === undefined ? undefined : String(value);
}

/** `x-ratelimit-remaining` as a number; undefined when absent or not a whole number. */
function rateLimitRemaining(
  headers: Record<string, string | number | undefined> | undefined,
): number | undefined {
  const value = header(headers, 'x-ratelimit-remaining')?.trim();
  return value !== undefined && /^\d{1,15}$/.test(value)
    ? Number(value)
    : undefined;
}

/** The server's clock when it answered, to measure waits against GitHub's own time. */
function serverNow(
  headers: Record<string, string | number | undefined> | undefined,
): number {
  const date = Date.parse(header(headers, 'date') ?? '');
  return Number.isNaN(date) ? Date.now() : date;
}

/**
 * How long an answer asks us to wait before asking again, in ms; undefined when it is not a
 * rate-limit answer. Follows GitHub's documented order: retry-after, then an exhausted primary
 * limit's reset time, then a minute for a secondary limit that says nothing more.
 */
export function rateLimitWait(
  status: number,
  headers: Record<string, string | number | undefined> | undefined,
  body: unknown,
): number | undefined {
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(0, at - serverNow(headers));
  }
  if (header(headers, 'x-ratelimit-remaining') === '0') {
    const reset = Number(header(headers, 'x-ratelimit-reset'));
    if (Number.isFinite(reset))
      return Math.max(0, reset * 1000 - serverNow(headers));
  }
  if (status === 403 || status === 429) {
    const message =
      typeof body === 'object' && body !== null
        ? (body as { message?: unknown }).message
        : body;
    if (status === 429 || /rate limit/i.test(String(message ?? '')))
      return SECONDARY_LIMIT_WAIT_MS;
  }
  return undefined;
}

/**
 * Holds requests back while GitHub says the rate limit is exhausted, so that nothing is sent
 * only to be refused; a wait longer than the policy allows fails at once instead of sleeping.
 */
export class RateLimitGate {
  private until = 0;

  constructor(
    private readonly host: string,
    private readonly maxWaitMs: number,
  ) {}

  block(waitMs: number) {
    this.until = Math.max(this.until, Date.now() + waitMs);
  }

  async pass() {
    const wait = this.until - Date.now();
    if (wait <= 0) return;
    if (wait > this.maxWaitMs) {
      throw new Error(
        `GitHub at ${this.host} is rate limited until ${new Date(
          this.until,
        ).toISOString()}; ` +
          `not waiting ${Math.ceil(wait / 1000)} s (at most ${Math.round(
            this.maxWaitMs / 1000,
          )} s)`,
      );
    }
    await sleep(wait);
  }
}

/** The message GitHub gave with an error answer, if any. */
function answerMessage(error: HttpError): string {
  const data = error.response?.data;
  if (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as { message?: unknown }).message === 'string'
  ) {
    return (data as { message: string }).message;
  }
  return error.message;
}

export interface GithubClientOptions {
  baseUrl: string;
  /** The integration's token or GitHub App installation token; anonymous when absent. */
  token?: string;
  /** The host named in errors. */
  host: string;
  policy: GithubRequestPolicy;
  gate: RateLimitGate;
  logger: LoggerService;
  onRequest?: (request: GithubRequestRecord) => void;
  fetch?: typeof globalThis.fetch;
}

/**
 * An Octokit whose every request is counted, timed out, retried on faults with backoff and
 * held back by rate limits as GitHub's headers say. A 304 passes through untouched.
 */
export function createGithubClient(options: GithubClientOptions): Octokit {
  const { policy, gate, host, logger } = options;
  const octokit = new Octokit({
    baseUrl: options.baseUrl,
    auth: options.token,
    userAgent: 'backstage-plugin-promotions',
    request: options.fetch ? { fetch: options.fetch } : undefined,
    log: {
      debug: () => {},
      info: () => {},
      warn: (message: string) => logger.warn(message),
      // Failed requests are reported once, with context, by whoever made them.
      error: () => {},
    },
  });

  octokit.hook.wrap('request', async (request, endpoint) => {
    const route = `${endpoint.method} ${endpoint.url}`;
    const describe = () => {
      const { method, url } = octokit.request.endpoint.parse(endpoint);
      return `${method} ${url}`;
    };
    for (let attempt = 1; ; attempt++) {
      await gate.pass();
      const signal = AbortSignal.timeout(policy.requestTimeoutMs);
      // Inner hooks were bound to this very options object, so the attempt's signal goes on it.
      endpoint.request = { ...endpoint.request, signal };
      try {
        const response = await request(endpoint);
        options.onRequest?.({
          method: endpoint.method,
          route,
          status: response.status,
          rateLimitRemaining: rateLimitRemaining(response.headers),
        });
        if (header(response.headers, 'x-ratelimit-remaining') === '0') {
          gate.block(
            rateLimitWait(response.status, response.headers, undefined) ?? 0,
          );
        }
        return response;
      } catch (caught) {
        const error = asHttpError(caught);
        const status = error.response?.status;
        options.onRequest?.({
          method: endpoint.method,
          route,
          status,
          rateLimitRemaining: rateLimitRemaining(error.response?.headers),
        });
        if (status === undefined || status >= 500) {
          let reason = error.message;
          if (status !== undefined)
            reason = `${status} ${answerMessage(error)}`;
          else if (signal.aborted) {
            reason = `no answer within ${policy.requestTimeoutMs} ms`;
          }
          if (attempt > policy.retries) {
            throw new GithubUnavailableError(
              status === undefined
                ? `could not reach ${host}`
                : `${host} answered ${status} after ${attempt} attempts`,
              `GitHub request ${describe()} failed after ${attempt} attempts: ${reason}`,
            );
          }
          logger.debug(
            `GitHub request ${describe()} failed (${reason}); retrying`,
          );
          await sleep(policy.backoffMs * 2 ** (attempt - 1));
          continue;
        }
        const wait =
          status === 403 || status === 429
            ? rateLimitWait(
                status,
                error.response?.headers,
                error.response?.data,
              )
            : undefined;
        if (wait !== undefined) {
          gate.block(wait);
          if (attempt > policy.retries) {
            throw new Error(
              `GitHub request ${describe()} was still rate limited after ${attempt} attempts: ${answerMessage(
                error,
              )}`,
            );
          }
          logger.info(
            `GitHub at ${host} is rate limited; waiting ${Math.ceil(
              wait / 1000,
            )} s as told`,
          );
          continue;
        }
        throw caught;
      }
    }
  });
  return octokit;
}
