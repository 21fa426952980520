// The agent's metrics: the collector fed job events as the agent's JobManager delivers
// them (its record beside each), lease renew failures, and the plain-HTTP server on
// 127.0.0.1 (real HTTP).
import { createLogger } from '../../../shared/logger';
import type { JobEventRecord, JobRecord, JobStateName } from '../../../host-agent/jobs/types';
import { AgentMetrics } from '../../../host-agent/metrics/AgentMetrics';
import { startMetricsServer } from '../../../host-agent/metrics/metricsServer';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

function sources() {
  let listener: (e: JobEventRecord, job: JobRecord) => void = () => undefined;
  let renewFailed: () => void = () => undefined;
  const running: JobRecord[] = [];
  const src = {
    jobs: { onEvent: (l: typeof listener) => ((listener = l), () => undefined), list: () => running },
    leases: { onRenewFailure: (l: () => void) => ((renewFailed = l), () => undefined) },
  };
  const metrics = new AgentMetrics(src as never);
  const event = (jobId: string, fields: { type?: string; state?: JobStateName; phase?: string; phaseSince?: string; at: string }, batch?: JobRecord['batch']) =>
    listener(
      { jobId, seq: 1, type: fields.type ?? 'phase', state: fields.state ?? 'RUNNING', at: fields.at, operation: '', message: '', error: null, progress: { done: 0, total: 1, current: '', phase: fields.phase ?? '', phaseSince: fields.phaseSince ?? '' } },
      { id: jobId, batch } as JobRecord,
    );
  const text = () => metrics.registry.metrics();
  return { metrics, event, running, renewFailed: () => renewFailed(), text };
}

const line = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(name))?.split(' ').at(-1);

describe('AgentMetrics', () => {
  it('times a single appliance from the tool start to appliance-up, and a batch session once for all its members', async () => {
    const s = sources();
    s.event('single', { phase: 'starting-appliance', phaseSince: at(0), at: at(0) });
    s.event('single', { type: 'operation', phase: 'operations', phaseSince: at(40), at: at(40) });
    s.event('single', { phase: 'committing', at: at(50) }); // observed once only
    const batch = { id: 'b1', batched: false, aloneReason: '' };
    for (const m of ['m1', 'm2', 'm3']) s.event(m, { phase: 'starting-appliance', phaseSince: at(100), at: at(100) }, batch);
    for (const m of ['m1', 'm2', 'm3']) s.event(m, { phase: 'operations', phaseSince: at(103), at: at(103) }, batch);
    // Sent alone after its batched attempt: its own appliance.
    s.event('m3', { phase: 'starting-appliance', phaseSince: at(200), at: at(200) }, { id: 'b1', batched: false, aloneReason: 'its batch script failed' });
    s.event('m3', { phase: 'operations', phaseSince: at(230), at: at(230) }, { id: 'b1', batched: false, aloneReason: 'its batch script failed' });
    const text = await s.text();
    expect(line(text, 'ovirt_sysprep_agent_appliance_launch_seconds_count{appliance="single"}')).toBe('2');
    expect(line(text, 'ovirt_sysprep_agent_appliance_launch_seconds_count{appliance="batch"}')).toBe('1');
    expect(line(text, 'ovirt_sysprep_agent_appliance_launch_seconds_sum{appliance="single"}')).toBe('70');
    expect(line(text, 'ovirt_sysprep_agent_appliance_launch_seconds_sum{appliance="batch"}')).toBe('3');
  });

  it('counts jobs by final state, a job that ended before its appliance was up without a launch, running jobs and lease renew failures', async () => {
    const s = sources();
    s.event('a', { phase: 'starting-appliance', at: at(0) });
    s.event('a', { type: 'state', state: 'FAILED', at: at(5) });
    s.event('a', { phase: 'operations', at: at(6) }); // nothing follows a final state; not observed
    s.event('b', { type: 'state', state: 'SUCCEEDED', at: at(5) });
    s.event('c', { type: 'state', state: 'SUCCEEDED', at: at(5) });
    s.event('d', { type: 'state', state: 'RUNNING', at: at(5) });
    s.running.push({ id: 'd' } as JobRecord);
    s.renewFailed();
    s.renewFailed();
    const text = await s.text();
    expect(line(text, 'ovirt_sysprep_agent_jobs_total{state="failed"}')).toBe('1');
    expect(line(text, 'ovirt_sysprep_agent_jobs_total{state="succeeded"}')).toBe('2');
    expect(line(text, 'ovirt_sysprep_agent_running_jobs')).toBe('1');
    expect(line(text, 'ovirt_sysprep_agent_lease_renew_failures_total')).toBe('2');
    expect(text).not.toMatch(/appliance_launch_seconds_count/);
  });

  it('serves GET /metrics over plain HTTP, 404 for anything else', async () => {
    const s = sources();
    const server = await startMetricsServer('127.0.0.1:0', s.metrics.registry, createLogger({ level: 'error', service: 'test' }));
    try {
      expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
      const ok = await fetch(`http://${server.address}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const body = await ok.text();
      expect(body).toContain('# TYPE ovirt_sysprep_agent_running_jobs gauge');
      expect(body).toContain('process_cpu_seconds_total');
      expect((await fetch(`http://${server.address}/`)).status).toBe(404);
      expect((await fetch(`http://${server.address}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
    await expect(startMetricsServer('nonsense', s.metrics.registry, createLogger({ level: 'error', service: 'test' }))).rejects.toThrow(/metrics_listen must be HOST:PORT/);
  });
});
