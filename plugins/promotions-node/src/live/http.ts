import http from 'node:http';
import https from 'node:https';

/** The largest answer read whole: far beyond any page of applications or objects. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** How one request to a live-state source is made. */
export interface HttpRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  /** The whole request, answer included, must end within this. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** PEM certificates to trust beside the system's. */
  caData?: string;
  insecure?: boolean;
  /** A longer answer is given up as unreachable; `MAX_BODY_BYTES` by default. */
  maxBodyBytes?: number;
}

/** An answer: its status, and its body parsed as JSON when it is JSON. */
export interface HttpAnswer {
  status: number;
  body: unknown;
  text: string;
}

/** A request that got no answer: a timeout, a refused connection, a reset. */
export class HttpUnreachableError extends Error {
  name = 'HttpUnreachableError';
}

function send(
  url: string,
  options: Omit<HttpRequestOptions, 'timeoutMs'>,
  onResponse: (res: http.IncomingMessage) => void,
  onError: (error: Error) => void,
): http.ClientRequest {
  const target = new URL(url);
  const body =
    options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...options.headers,
    ...(body !== undefined
      ? {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        }
      : {}),
  };
  const tls =
    target.protocol === 'https:'
      ? {
          ...(options.caData ? { ca: options.caData } : {}),
          ...(options.insecure ? { rejectUnauthorized: false } : {}),
        }
      : {};
  const request = (target.protocol === 'https:' ? https : http).request(
    target,
    {
      method: options.method ?? 'GET',
      headers,
      signal: options.signal,
      ...tls,
    },
    onResponse,
  );
  request.on('error', onError);
  request.end(body);
  return request;
}

const describe = (error: Error) =>
  (error as NodeJS.ErrnoException).code
    ? `${(error as NodeJS.ErrnoException).code} ${error.message}`
    : error.message;

/**
 * One JSON request, with a deadline on the whole exchange. Answers with any HTTP status; an
 * `HttpUnreachableError` when none came.
 */
export function requestJson(
  url: string,
  options: HttpRequestOptions,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined = undefined;
    const finish = (error?: Error, answer?: HttpAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(answer!);
    };
    const request = send(
      url,
      options,
      res => {
        const chunks: Buffer[] = [];
        const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > limit) {
            finish(
              new HttpUnreachableError(
                `the answer was larger than ${limit} bytes`,
              ),
            );
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', error =>
          finish(new HttpUnreachableError(describe(error))),
        );
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = undefined;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          finish(undefined, { status: res.statusCode ?? 0, body, text });
        });
      },
      error =>
        finish(
          options.signal?.aborted
            ? error
            : new HttpUnreachableError(describe(error)),
        ),
    );
    timer = setTimeout(() => {
      finish(
        new HttpUnreachableError(`no answer within ${options.timeoutMs} ms`),
      );
      request.destroy();
    }, options.timeoutMs);
  });
}

/**
 * Opens a long-lived GET whose answer arrives bit by bit (a watch stream). Resolves with the
 * response once its headers came, which must be within `headersTimeoutMs`; nothing limits how
 * long it then stays open.
 */
export function openStream(
  url: string,
  options: Omit<HttpRequestOptions, 'timeoutMs' | 'method' | 'body'> & {
    headersTimeoutMs: number;
  },
): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined = undefined;
    const request = send(
      url,
      options,
      res => {
        clearTimeout(timer);
        resolve(res);
      },
      error => {
        clearTimeout(timer);
        reject(
          options.signal?.aborted
            ? error
            : new HttpUnreachableError(describe(error)),
        );
      },
    );
    // An instance that takes the connection and never answers must not hold the stream forever.
    timer = setTimeout(() => {
      reject(
        new HttpUnreachableError(
          `no answer within ${options.headersTimeoutMs} ms`,
        ),
      );
      request.destroy();
    }, options.headersTimeoutMs);
  });
}
