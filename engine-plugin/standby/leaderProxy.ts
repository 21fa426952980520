// A standby engine's API (decision 64): it answers reads from the shared database itself,
// and forwards to the leader what must happen where jobs are dispatched: every request that
// changes state (POST, PUT, PATCH, DELETE: new jobs and their secrets, cancels, inventory
// changes, which the leader's in-memory locks guard) and the live event streams (the
// leader's bus publishes them). The request goes as it came (its token too: the leader
// authorizes it again), the answer comes back as it is, streamed.
// Between a leader's death and the takeover (at most a few seconds) there is nobody to
// forward to: 503 LEADER_UNAVAILABLE (details.retryAfterSec and a Retry-After header), nothing done.
import type { NextFunction, Request, Response } from 'express';
import * as http from 'node:http';
import * as https from 'node:https';
import { UnavailableError } from '../../shared/errors';
import type { Leadership } from './Leadership';

const FORWARDED = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'proxy-authorization', 'te', 'trailer']);

/** Whether a standby sends this request to the leader. */
export const forwardsToLeader = (req: Pick<Request, 'method' | 'path'>): boolean => FORWARDED.has(req.method) || /\/events$/.test(req.path);

export function leaderProxy(leadership: Leadership) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (leadership.isLeader || !forwardsToLeader(req)) return next();
    const leader = leadership.leader();
    const unavailable = (why: string) =>
      next(new UnavailableError('LEADER_UNAVAILABLE', `this engine is a standby and ${why}: try again in a few seconds`, { retryAfterSec: 2 }));
    if (!leader) return unavailable('no engine leads yet');
    const target = new URL(req.originalUrl, leader.url);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) headers[k] = v;
    headers['x-forwarded-by'] = 'ovirt-sysprep standby';
    const up = (target.protocol === 'https:' ? https : http).request(target, { method: req.method, headers }, (answer) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    up.on('error', (err) => (res.headersSent ? res.destroy() : unavailable(`the leader ${leader.engine} at ${leader.url} does not answer (${err.message})`)));
    res.on('close', () => up.destroy());
    req.pipe(up);
  };
}
