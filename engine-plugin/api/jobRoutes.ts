// Sysprep of an explicit list of VMs, and jobs: list, get, cancel, events (SSE).
import { InputError } from '../../shared/errors';
import { JOB_STATES, JobState } from '../jobs/Job';
import { bulkBodySchema } from '../jobs/requestSchema';
import type { ApiDeps } from './deps';
import type { RouteTable } from './RouteTable';

const HEARTBEAT_MS = 15_000;

type Query = Record<string, unknown>;

function checkState(q: Query): void {
  if (q.state && !JOB_STATES.includes(q.state as JobState)) throw new InputError('state', `must be one of ${JOB_STATES.join(', ')}`);
}

/** `limit`: at most `digits` digits (larger pages are cut to `max` by the store). */
function checkLimit(q: Query, digits: number, max: number): void {
  if (q.limit && !(typeof q.limit === 'string' && new RegExp(`^\\d{1,${digits}}$`).test(q.limit))) throw new InputError('limit', `must be a number from 1 to ${max}`);
}

function checkChildren(q: Query): void {
  const n = q.children;
  if (n !== undefined && !(typeof n === 'string' && /^\d{1,4}$/.test(n) && Number(n) <= 5000)) throw new InputError('children', 'must be a number from 0 to 5000');
}

export function jobRoutes(t: RouteTable, d: ApiDeps): void {
  // Every /jobs/{id}... route takes a unique prefix of the id (docs/api.md, short ids).
  t.resolveParam('/jobs/:id', 'id', (ref) => d.jobs.resolveId(ref));

  t.add({ method: 'post', path: '/sysprep', tag: 'sysprep', summary: 'Sysprep an explicit list of VMs ("vms": [ids or names]): one child job per VM', role: 'operator', body: bulkBodySchema, status: 202 }, async ({ body, caller }) => ({
    job: await d.jobs.sysprepList(body, caller),
  }));

  t.add({ method: 'get', path: '/jobs', tag: 'jobs', summary: 'Top-level jobs, newest first (filters: state, kind, vm)', role: 'viewer', status: 200, query: ['state', 'kind', 'vm', 'limit', 'cursor'], checkQuery: (q) => (checkState(q), checkLimit(q, 3, 500)) }, ({ req }) => {
    const q = req.query as Record<string, string | undefined>;
    return d.store.list({ state: q.state as JobState | undefined, kind: q.kind, vm: q.vm, limit: q.limit ? Number(q.limit) : undefined, cursor: q.cursor });
  });
  t.add({ method: 'get', path: '/jobs/:id', tag: 'jobs', summary: 'One job; a bulk job inlines its first children (?children=N, default 200, max 5000) and childrenTotal', role: 'viewer', status: 200, query: ['children'], checkQuery: checkChildren }, ({ params, req }) => {
    const n = req.query.children;
    return d.jobs.get(params.id, n === undefined ? undefined : Number(n));
  });
  t.add({ method: 'get', path: '/jobs/:id/children', tag: 'jobs', summary: "A page of a bulk job's children (filters: state)", role: 'viewer', status: 200, query: ['state', 'limit', 'cursor'], checkQuery: (q) => (checkState(q), checkLimit(q, 4, 5000)) }, ({ params, req }) => {
    const q = req.query as Record<string, string | undefined>;
    return d.store.children(params.id, { state: q.state as JobState | undefined, limit: q.limit ? Number(q.limit) : undefined, cursor: q.cursor });
  });
  t.add({ method: 'post', path: '/jobs/:id/cancel', tag: 'jobs', summary: 'Cancel a job (a bulk job: all its children); reaches the running agents', role: 'operator', status: 202 }, async ({ params, caller }) => ({
    job: await d.jobs.cancel(params.id, caller),
  }));

  t.add({ method: 'get', path: '/jobs/:id/events', tag: 'jobs', summary: "Server-Sent Events of a job: a snapshot, then each operation and state change (a bulk job's stream carries its children's), until the final state", role: 'viewer', status: 200, sse: true }, ({ params, req, res }) => {
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let id = 0;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const stop = d.jobStream.open(params.id, {
      send: (event, data) => res.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`),
      end: () => {
        clearInterval(heartbeat);
        res.end();
      },
    });
    req.on('close', () => {
      stop();
      clearInterval(heartbeat);
    });
    return undefined;
  });
}
