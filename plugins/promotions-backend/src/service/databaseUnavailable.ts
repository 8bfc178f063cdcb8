import { LoggerService } from '@backstage/backend-plugin-api';
import { ServiceUnavailableError } from '@backstage/errors';
import { ErrorRequestHandler } from 'express';

/** What `pg` and `knex` say when a connection is lost or none can be had. */
const CONNECTION_LOST =
  /Connection terminated|Connection ended unexpectedly|Timeout acquiring a connection|Client has encountered a connection error/;
/** Network errors, and PostgreSQL's classes 08 (connection exception) and 57P (shutdown). */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/** Whether an error says the database could not be reached, rather than refused a query. */
export function isDatabaseUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as Record<string, unknown>;
  return (
    (typeof code === 'string' && CONNECTION_CODES.has(code)) ||
    name === 'KnexTimeoutError' ||
    (typeof message === 'string' && CONNECTION_LOST.test(message))
  );
}

/**
 * Answers 503 with a readable message when a request failed because the database was away, so
 * that the page can say to try again; the driver's words, which name hosts and SQL, go to the log.
 */
export function databaseUnavailable(
  logger: LoggerService,
): ErrorRequestHandler {
  return (error, req, _res, next) => {
    if (!isDatabaseUnreachable(error)) {
      next(error);
      return;
    }
    logger.warn(
      `${req.method} ${req.path} failed: the database could not be reached: ${error}`,
    );
    next(
      new ServiceUnavailableError(
        'The promotions database cannot be reached; try again in a moment',
      ),
    );
  };
}
