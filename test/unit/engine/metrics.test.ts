// The engine's metrics: the job collector on a real JobBus (events as JobLifecycle
// publishes them), the route patterns of the request histogram, and GET /metrics of a
// real engine (real HTTP, real SQLite) in front of a FAKE agent: auth, a job's counters,
// the host gauges, route labels without ids, no token anywhere.
import 'reflect-metadata';
import { Counter, Histogram, Registry } from 'prom-client';
import type { JobKind } from '../../../engine-plugin/jobs/Job';
import { JobBus, JobEventMessage } from '../../../engine-plugin/jobs/JobBus';
import { JobMetrics } from '../../../engine-plugin/metrics/JobMetrics';
import { routePattern } from '../../../engine-plugin/metrics/requestMetrics';
import { harness, Harness, TOKENS } from './harness';

jest.setTimeout(60_000);

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function collector(kinds: Record<string, { kind: JobKind; startedAt?: string }>) {
  const registry = new Registry();
  const registers = [registry];
  const m = {
    jobs: new Counter({ name: 't_jobs_total', help: 'h', labelNames: ['kind', 'state'], registers }),
    jobDuration: new Histogram({ name: 't_job_seconds', help: 'h', labelNames: ['kind', 'state'], buckets: [1, 10, 100], registers }),
    operationDuration: new Histogram({ name: 't_op_seconds', help: 'h', labelNames: ['operation'], buckets: [1, 10, 100], registers }),
  };
  const bus = new JobBus();
  const jobs = new JobMetrics(bus, (id) => kinds[id], m);
  const publish = (e: Omit<JobEventMessage, 'type'> & { type?: JobEventMessage['type'] }, parentId?: string) => bus.publish({ type: 'state', ...e } as JobEventMessage, parentId);
  const value = async (name: string, labels: Record<string, string>) => {
    const metric = (await registry.getMetricsAsJSON()).find((x) => x.name === name)!;
    const match = (metric.values as { labels: Record<string, unknown>; value: number; metricName?: string }[]).filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val));
    return match.reduce((a, v) => a + v.value, 0);
  };
  return { bus, jobs, publish, value, m };
}

describe('JobMetrics (job bus -> counters and histograms)', () => {
  it('counts a leaf by kind and state, times it from running, and each operation up to the commit', async () => {
    const c = collector({ leaf: { kind: 'vm' } });
    c.publish({ jobId: 'leaf', state: 'running', at: at(0) }, 'parent');
    c.publish({ jobId: 'leaf', type: 'operation', state: 'running', operation: 'machine-id', at: at(30) }, 'parent');
    c.publish({ jobId: 'leaf', type: 'warning', state: 'running', at: at(31) }, 'parent');
    c.publish({ jobId: 'leaf', type: 'operation', state: 'running', operation: 'customize', at: at(32) }, 'parent');
    c.publish({ jobId: 'leaf', state: 'running', progress: { done: 2, total: 2, current: '', phase: 'committing' }, at: at(35) }, 'parent');
    expect(c.jobs.followed).toBe(1);
    c.publish({ jobId: 'leaf', state: 'succeeded', at: at(40) }, 'parent');
    // A room's follow-up step after the end: not an operation of the run.
    c.publish({ jobId: 'leaf', type: 'operation', state: 'succeeded', operation: 'snapshot', at: at(50) }, 'parent');
    expect(c.jobs.followed).toBe(0);
    expect(await c.value('t_jobs_total', { kind: 'vm', state: 'succeeded' })).toBe(1);
    expect(await c.value('t_job_seconds', { kind: 'vm', state: 'succeeded', le: '+Inf' })).toBe(1);
    expect(await c.value('t_job_seconds', { kind: 'vm', state: 'succeeded', le: '10' })).toBe(0); // 40 s
    expect(await c.value('t_op_seconds', { operation: 'machine-id', le: '1' })).toBe(0); // 2 s
    expect(await c.value('t_op_seconds', { operation: 'machine-id', le: '10' })).toBe(1);
    expect(await c.value('t_op_seconds', { operation: 'customize', le: '10' })).toBe(1); // 3 s, ended by the commit
    expect(await c.value('t_op_seconds', { operation: 'snapshot', le: '+Inf' })).toBe(0);
  });

  it('counts a job that never ran without timing it; a failed run leaves its current operation out', async () => {
    const c = collector({ queued: { kind: 'vm' }, broken: { kind: 'template' } });
    c.publish({ jobId: 'queued', state: 'cancelled', at: at(5) });
    c.publish({ jobId: 'broken', state: 'running', at: at(0) });
    c.publish({ jobId: 'broken', type: 'operation', state: 'running', operation: 'machine-id', at: at(1) });
    c.publish({ jobId: 'broken', state: 'failed', at: at(9) });
    expect(await c.value('t_jobs_total', { kind: 'vm', state: 'cancelled' })).toBe(1);
    expect(await c.value('t_job_seconds', { kind: 'vm', le: '+Inf' })).toBe(0);
    expect(await c.value('t_job_seconds', { kind: 'template', state: 'failed', le: '10' })).toBe(1);
    expect(await c.value('t_op_seconds', { operation: 'machine-id', le: '+Inf' })).toBe(0);
    expect(c.jobs.followed).toBe(0);
  });

  it('times a bulk job from its first running event, and a job started before a restart from its stored start', async () => {
    const c = collector({ pool: { kind: 'pool' }, old: { kind: 'vm', startedAt: at(0) }, gone: undefined as never });
    c.publish({ jobId: 'pool', state: 'running', at: at(10) });
    c.publish({ jobId: 'pool', state: 'running', at: at(20) });
    c.publish({ jobId: 'pool', state: 'partial', at: at(70) });
    c.publish({ jobId: 'old', state: 'succeeded', at: at(5) });
    c.publish({ jobId: 'gone', state: 'failed', at: at(5) }); // pruned meanwhile: nothing to label it with
    expect(await c.value('t_jobs_total', { kind: 'pool', state: 'partial' })).toBe(1);
    expect(await c.value('t_job_seconds', { kind: 'pool', le: '10' })).toBe(0); // 60 s, not 50
    expect(await c.value('t_job_seconds', { kind: 'pool', le: '100' })).toBe(1);
    expect(await c.value('t_job_seconds', { kind: 'vm', state: 'succeeded', le: '10' })).toBe(1);
    expect(await c.value('t_jobs_total', { state: 'failed' })).toBe(0);
  });
});

describe('routePattern', () => {
  it.each([
    ['mounted route', { route: { path: '/jobs/:id' }, baseUrl: '/api/v1', originalUrl: '/api/v1/jobs/abc?access_token=x' }, '/api/v1/jobs/:id'],
    ['failed handler (baseUrl reset)', { route: { path: '/jobs/:id/log' }, baseUrl: '', originalUrl: '/api/v1/jobs/abc/log' }, '/api/v1/jobs/:id/log'],
    ['app-level route', { route: { path: '/api/v1/openapi.json' }, baseUrl: '', originalUrl: '/api/v1/openapi.json' }, '/api/v1/openapi.json'],
    ['no route', { route: undefined, baseUrl: '', originalUrl: '/ui/app.css' }, 'other'],
  ])('%s', (_name, req, expected) => {
    expect(routePattern(req as never)).toBe(expected);
  });
});

describe('GET /metrics on a real engine (fake agent)', () => {
  let h: Harness;
  let vmId: string;
  const scrape = (token: string | null = TOKENS.viewer.token) =>
    fetch(`${h.engine.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), text: await r.text() }));

  beforeAll(async () => {
    // No automatic reset of the imported VM: its job would hold the VM (409 to the sysprep below) and count too.
    const off = { enabled: false, profile: 'clone-reset' };
    h = await harness({ agents: [{ jobMs: 50 }], config: { autoReset: { clone: off, import: off, pool: off } } });
    const vm = await h.api('POST', '/vms', { name: 'metrics-vm', disks: [{ path: h.image('m.qcow2') }] });
    vmId = vm.body.vm.id;
  });
  afterAll(() => h?.close());

  it('needs a token of any role (401 without), and serves the text format to a viewer', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('not-a-token-at-all')).status).toBe(401);
    const r = await scrape();
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toContain('process_resident_memory_bytes');
    expect(r.text).toMatch(/^ovirt_sysprep_engine_agent_up\{host="host1"\} 1$/m);
    expect(r.text).toMatch(/^ovirt_sysprep_engine_queue_depth\{host="host1"\} 0$/m);
  });

  it("counts a job's end, times it, and labels requests by route pattern without ids or tokens", async () => {
    const r = await h.api('POST', `/vms/${vmId}/sysprep`, { operations: { only: ['machine-id'] } });
    expect(r.status).toBe(202);
    const job = await h.waitJob(r.body.job.id);
    expect(job.state).toBe('succeeded');
    await fetch(`${h.engine.url}/api/v1/jobs/${job.id}?access_token=${TOKENS.viewer.token}`);
    const { text } = await scrape();
    expect(text).toMatch(/^ovirt_sysprep_engine_jobs_total\{kind="vm",state="succeeded"\} 1$/m);
    expect(text).toMatch(/^ovirt_sysprep_engine_job_duration_seconds_count\{kind="vm",state="succeeded"\} 1$/m);
    expect(text).toMatch(/^ovirt_sysprep_engine_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/jobs\/:id",status="200"\} \d+$/m);
    expect(text).toMatch(/route="\/api\/v1\/vms\/:id\/sysprep",status="202"/);
    expect(text).not.toContain(job.id);
    expect(text).not.toContain(vmId);
    for (const t of Object.values(TOKENS)) expect(text).not.toContain(t.token);
  });

  it('serves without a token with metrics_public = true', async () => {
    await h.restart({ metricsPublic: true });
    expect((await scrape(null)).status).toBe(200);
    expect((await h.api('GET', '/vms', undefined, null)).status).toBe(401); // the API keeps its tokens
  });
});
