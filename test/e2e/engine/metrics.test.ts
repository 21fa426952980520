// Issue 17's metrics over the whole stack with REAL virt-sysprep (TCG): the agent with
// metrics_listen, the engine over real HTTP, ONE small job (`only machine-id` on a clone),
// then both scrapes: the job counted and timed on both sides, its operation timed, the
// appliance launch observed, the host gauges, the request histogram labelled by route
// pattern, and no id, token or path in either page.
import * as path from 'node:path';
import { copyGuestImage } from '../../helpers/guestImage';
import { ADMIN, OPERATOR, Stack, startStack, VIEWER } from './stack';

jest.setTimeout(15 * 60_000);

/** The value of the one sample whose line starts with `series` (name and labels, as exported). */
const sample = (text: string, series: string) => {
  const l = text.split('\n').find((x) => x.startsWith(`${series} `));
  return l === undefined ? undefined : Number(l.slice(series.length + 1));
};

describe('metrics of the engine and the agent after a real job', () => {
  let s: Stack;
  let jobId: string;
  let vmId: string;

  beforeAll(async () => {
    s = await startStack({ maxJobs: 1, agent: { metricsListen: '127.0.0.1:0' } });
    const tplDisk = path.join(s.storage, 'metrics-tpl.qcow2');
    await copyGuestImage(tplDisk);
    expect((await s.api('POST', '/templates', { name: 'metrics-tpl', disks: [{ path: tplDisk }] })).status).toBe(201);
    const vm = await s.api('POST', '/vms', { name: 'metrics-vm', template: 'metrics-tpl' });
    expect(vm.status).toBe(201);
    vmId = vm.body.vm.id;
    const r = await s.api('POST', `/vms/${vmId}/sysprep`, { operations: { only: ['machine-id'] } });
    expect(r.status).toBe(202);
    jobId = r.body.job.id;
    expect(await s.waitJob(jobId)).toMatchObject({ state: 'succeeded' });
  });
  afterAll(() => s?.close());

  it("engine GET /metrics: the job's counter and durations, host gauges, routes without ids, no token", async () => {
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    const res = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, 'ovirt_sysprep_engine_jobs_total{kind="vm",state="succeeded"}')).toBe(1);
    expect(sample(text, 'ovirt_sysprep_engine_job_duration_seconds_count{kind="vm",state="succeeded"}')).toBe(1);
    expect(sample(text, 'ovirt_sysprep_engine_job_duration_seconds_sum{kind="vm",state="succeeded"}')).toBeGreaterThan(1);
    expect(sample(text, 'ovirt_sysprep_engine_operation_duration_seconds_count{operation="machine-id"}')).toBe(1);
    expect(sample(text, 'ovirt_sysprep_engine_agent_up{host="e2e-host"}')).toBe(1);
    expect(sample(text, 'ovirt_sysprep_engine_queue_depth{host="e2e-host"}')).toBe(0);
    expect(sample(text, 'ovirt_sysprep_engine_jobs_in_flight{host="e2e-host"}')).toBe(0);
    // waitJob polled GET /api/v1/jobs/<id>: counted under the pattern, never the path.
    expect(sample(text, 'ovirt_sysprep_engine_http_request_duration_seconds_count{method="GET",route="/api/v1/jobs/:id",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/route="\/api\/v1\/vms\/:id\/sysprep",status="202"/);
    for (const secret of [jobId, vmId, ADMIN, OPERATOR, VIEWER, s.storage]) expect(text).not.toContain(secret);
  });

  it('agent metrics_listen: the job by state, one appliance launch, nothing running, no id or path', async () => {
    expect(s.agent.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await fetch(`http://${s.agent.metricsAddress}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, 'ovirt_sysprep_agent_jobs_total{state="succeeded"}')).toBe(1);
    expect(sample(text, 'ovirt_sysprep_agent_running_jobs')).toBe(0);
    expect(sample(text, 'ovirt_sysprep_agent_lease_renew_failures_total')).toBe(0);
    // One VM: one appliance, its own or a batch of one, observed once either way.
    const launches = ['single', 'batch'].map((a) => sample(text, `ovirt_sysprep_agent_appliance_launch_seconds_count{appliance="${a}"}`) ?? 0);
    expect(launches[0] + launches[1]).toBe(1);
    const seconds = ['single', 'batch'].map((a) => sample(text, `ovirt_sysprep_agent_appliance_launch_seconds_sum{appliance="${a}"}`) ?? 0);
    expect(seconds[0] + seconds[1]).toBeGreaterThan(0.5); // an appliance boot, even under KVM
    for (const secret of [jobId, vmId, s.storage]) expect(text).not.toContain(secret);
  });
});
