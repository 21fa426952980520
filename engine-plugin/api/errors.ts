// The one place where errors become HTTP: a typed error's kind decides the status, the
// body is {"error": {"code", "message", "details"}}, and only unexpected errors (no
// kind, or internal) are logged with their stack.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ErrorKind, InputError, NotFoundError, SysprepError, asSysprepError } from '../../shared/errors';
import type { Logger } from '../logger';

export const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  denied: 403,
  'not-found': 404,
  conflict: 409,
  cancelled: 409,
  unavailable: 503,
  failed: 500,
  internal: 500,
};

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new NotFoundError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.path}`));
};

export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let e: SysprepError;
    if (err instanceof SysprepError) e = err;
    else if (err?.type === 'entity.parse.failed') e = new InputError('body', 'is not valid JSON', 'INVALID_JSON');
    else if (err?.type === 'entity.too.large') e = new InputError('body', 'is too large', 'BODY_TOO_LARGE');
    else e = asSysprepError(err);
    const status = HTTP_STATUS[e.kind];
    if (status >= 500 && e.kind !== 'unavailable') log.error('request failed', { method: req.method, path: req.path, error: e.message, stack: (err as Error)?.stack });
    if (res.headersSent) return void res.end();
    res.status(status).json({ error: e.toJSON() });
  };
}
