// The one place where errors become HTTP: a typed error's kind decides the status, the
// body is {"error": {"code", "message", "details"}}, and only unexpected errors (no
// kind, or internal) are logged with their stack. Body errors are typed where the body
// is read (body.ts); what express itself refuses (a path that is not valid percent
// encoding, ...) carries a 4xx status and is answered as bad input, never as a 500.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ErrorKind, InputError, NotFoundError, SysprepError, asSysprepError } from '../../shared/errors';
import type { Logger } from '../logger';

export const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unsupported: 415,
  'too-large': 413,
  unauthenticated: 401,
  denied: 403,
  'not-found': 404,
  conflict: 409,
  unprocessable: 422,
  cancelled: 409,
  unavailable: 503,
  failed: 500,
  internal: 500,
};

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new NotFoundError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`, { field: 'path' }));
};

/** An error express or node raised with a client-error status (http-errors shape). */
function clientError(err: unknown): SysprepError | undefined {
  const status = (err as { status?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  return new InputError('path', String((err as Error).message ?? 'is not a valid request').slice(0, 200), 'BAD_REQUEST');
}

export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const e: SysprepError = err instanceof SysprepError ? err : clientError(err) ?? asSysprepError(err);
    const status = HTTP_STATUS[e.kind];
    if (status >= 500 && e.kind !== 'unavailable') log.error('request failed', { method: req.method, path: req.path, error: e.message, stack: (err as Error)?.stack });
    if (res.headersSent) return void res.end();
    if (e.kind === 'too-large') res.set('Connection', 'close'); // the rest of the body is not read
    // A wait the error names (a standby without a leader): in the HTTP header too, for clients and proxies.
    const retry = e.details.retryAfterSec;
    if (status === 503 && typeof retry === 'number') res.set('Retry-After', String(retry));
    res.status(status).json({ error: e.toJSON() });
  };
}
