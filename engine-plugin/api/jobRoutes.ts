// Sysprep of an explicit list of VMs, and jobs: list, get, cancel, events (SSE).
import { NotFoundError, InputError } from '../../shared/errors';
import { isFinal, JobState } from '../jobs/Job';
import type { JobEventMessage } from '../jobs/JobBus';
import { bulkBodySchema } from '../jobs/requestSchema';
import type { ApiDeps } from './deps';
import type { RouteTable } from './RouteTable';

const STATES: JobState[] = ['pending', 'running', 'succeeded', 'failed', 'cancelling', 'cancelled', 'partial'];
const HEARTBEAT_MS = 15_000;

export function jobRoutes(t: RouteTable, d: ApiDeps): void {
  t.add({ method: 'post', path: '/sysprep', tag: 'sysprep', summary: 'Sysprep an explicit list of VMs ("vms": [ids or names]): one child job per VM', role: 'operator', body: bulkBodySchema, status: 202 }, async ({ body, caller }) => ({
    job: await d.jobs.sysprepList(body, caller),
  }));

  t.add({ method: 'get', path: '/jobs', tag: 'jobs', summary: 'Top-level jobs, newest first (filters: state, kind, vm)', role: 'viewer', status: 200, query: ['state', 'kind', 'vm', 'limit', 'cursor'] }, ({ req }) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.state && !STATES.includes(q.state as JobState)) throw new InputError('state', `must be one of ${STATES.join(', ')}`);
    if (q.limit && !/^\d{1,3}$/.test(q.limit)) throw new InputError('limit', 'must be a number from 1 to 500');
    return d.store.list({ state: q.state as JobState | undefined, kind: q.kind, vm: q.vm, limit: q.limit ? Number(q.limit) : undefined, cursor: q.cursor });
  });
  t.add({ method: 'get', path: '/jobs/:id', tag: 'jobs', summary: 'One job; a bulk job inlines its first children (?children=N, default 200, max 5000) and childrenTotal', role: 'viewer', status: 200, query: ['children'] }, ({ params, req }) => {
    const n = req.query.children;
    if (n !== undefined && !(typeof n === 'string' && /^\d{1,4}$/.test(n) && Number(n) <= 5000)) throw new InputError('children', 'must be a number from 0 to 5000');
    return d.jobs.get(params.id, n === undefined ? undefined : Number(n));
  });
  t.add({ method: 'get', path: '/jobs/:id/children', tag: 'jobs', summary: "A page of a bulk job's children (filters: state)", role: 'viewer', status: 200, query: ['state', 'limit', 'cursor'] }, ({ params, req }) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.state && !STATES.includes(q.state as JobState)) throw new InputError('state', `must be one of ${STATES.join(', ')}`);
    if (q.limit && !/^\d{1,4}$/.test(q.limit)) throw new InputError('limit', 'must be a number from 1 to 5000');
    d.jobs.get(params.id, 0);
    return d.store.children(params.id, { state: q.state as JobState | undefined, limit: q.limit ? Number(q.limit) : undefined, cursor: q.cursor });
  });
  t.add({ method: 'post', path: '/jobs/:id/cancel', tag: 'jobs', summary: 'Cancel a job (a bulk job: all its children); reaches the running agents', role: 'operator', status: 202 }, async ({ params, caller }) => ({
    job: await d.jobs.cancel(params.id, caller),
  }));

  t.add({ method: 'get', path: '/jobs/:id/events', tag: 'jobs', summary: "Server-Sent Events of a job: a snapshot, then each operation and state change (a bulk job's stream carries its children's), until the final state", role: 'viewer', status: 200, sse: true }, ({ params, req, res }) => {
    const job = d.store.get(params.id);
    if (!job) throw new NotFoundError('JOB_NOT_FOUND', `no job "${params.id}"`, { field: 'id' });
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let id = 0;
    const send = (event: string, data: unknown) => res.write(`id: ${++id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    // Subscribe before the snapshot so nothing falls between them.
    const queue: JobEventMessage[] = [];
    let ready = false;
    const close = () => {
      unsubscribe();
      clearInterval(heartbeat);
      res.end();
    };
    const onEvent = (e: JobEventMessage) => {
      if (!ready) return void queue.push(e);
      send(e.type, e);
      if (e.jobId === params.id && isFinal(e.state)) close();
    };
    const unsubscribe = d.bus.subscribe(params.id, onEvent);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    req.on('close', () => {
      unsubscribe();
      clearInterval(heartbeat);
    });
    const snapshot = d.store.get(params.id)!;
    send('snapshot', snapshot);
    if (isFinal(snapshot.state)) return void close();
    ready = true;
    for (const e of queue.splice(0)) onEvent(e);
    return undefined;
  });
}
