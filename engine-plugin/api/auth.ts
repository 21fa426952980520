// Bearer tokens from the config, each with a role: viewer (read), operator (run
// profiles and jobs; no scripts, no passwords: JobService checks those fields), admin
// (everything). The caller is put on res.locals.caller and recorded on every job.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AuthError, PermissionError } from '../../shared/errors';
import type { TokenConfig } from '../config';
import type { Role } from '../Role';
import type { Caller } from '../jobs/Caller';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const digest = (s: string) => createHash('sha256').update(s).digest();

export function authenticate(tokens: TokenConfig[]): (token: string | undefined) => Caller {
  const known = tokens.map((t) => ({ ...t, digest: digest(t.token) }));
  return (token) => {
    if (!token) throw new AuthError('a bearer token is required (Authorization: Bearer TOKEN)');
    const d = digest(token);
    const match = known.find((t) => timingSafeEqual(t.digest, d));
    if (!match) throw new AuthError('the bearer token is not valid');
    return { name: match.name, role: match.role };
  };
}

/**
 * Authenticates a token that none of the configured tokens matches (the oVirt
 * integration: a user's oVirt SSO token). Throws AuthError when it is not valid either.
 */
export type ExternalAuthenticator = (token: string) => Promise<Caller>;

/** Authenticates the request. EventSource cannot send headers: `access_token` in the query works for GETs. */
export function authMiddleware(tokens: TokenConfig[], external?: ExternalAuthenticator): RequestHandler {
  const check = authenticate(tokens);
  return (req, res, next) => {
    const header = req.get('authorization');
    const m = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (header && !m) return next(new AuthError('the Authorization header must be "Bearer TOKEN"'));
    const query = req.method === 'GET' && typeof req.query.access_token === 'string' ? req.query.access_token : undefined;
    const token = m?.[1] ?? query;
    try {
      res.locals.caller = check(token);
      next();
    } catch (err) {
      if (!external || !token) return next(err);
      external(token).then((caller) => {
        res.locals.caller = caller;
        next();
      }, next);
    }
  };
}

export function requireRole(caller: Caller, min: Role, what: string): void {
  if (RANK[caller.role] < RANK[min]) {
    throw new PermissionError('FORBIDDEN', `the ${caller.role} role may not ${what} (needs ${min})`, { field: 'Authorization', role: caller.role, required: min });
  }
}
