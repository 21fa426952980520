// The job log route, the phase the engine records and the steps of ended jobs, over real
// HTTP and real gRPC to FAKE agents (test/unit/engine/fakeAgent.ts: its log is two lines
// naming the job; the real agent's log is tested in test/e2e/engine/jobLogAndPhases.test.ts).
import { agentProgress } from '../../../engine-plugin/jobs/agentProgress';
import { until } from '../../helpers/agentHarness';
import { harness, Harness, TOKENS } from './harness';

jest.setTimeout(60_000);

/** No automatic reset on import: each test starts its own jobs. */
const config = { autoReset: { clone: { enabled: false, profile: 'clone-reset' }, import: { enabled: false, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } } };
describe('GET /jobs/{id}/log', () => {
  let h: Harness;
  const log = (id: string, role: keyof typeof TOKENS | null = 'viewer') =>
    fetch(`${h.engine.url}/api/v1/jobs/${id}/log`, { headers: role ? { authorization: `Bearer ${TOKENS[role].token}` } : {} });

  beforeAll(async () => {
    h = await harness({ agents: [{ jobMs: 60, refuseMissingDisks: true }], config });
  });
  afterAll(() => h.close());

  it("streams a VM job's log from its agent as text to a viewer", async () => {
    await h.api('POST', '/vms', { name: 'logged', disks: [{ path: h.image('logged.qcow2') }] });
    const { body } = await h.api('POST', '/vms/logged/sysprep', { operations: { only: ['machine-id'] } });
    const job = await h.waitJob(body.job.id);
    expect(job.state).toBe('succeeded');
    const res = await log(job.id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe(`fake log of ${job.id}\nstate SUCCEEDED\n`);
  });

  it('answers 404 naming the id for an unknown job, 401 without a token', async () => {
    const res = await log('no-such-job');
    expect(res.status).toBe(404);
    expect((await res.json()).error).toMatchObject({ code: 'JOB_NOT_FOUND', details: { field: 'id' } });
    expect((await log('no-such-job', null)).status).toBe(401);
  });

  it('answers 409 NO_LOG for a bulk job and for a job that never reached an agent', async () => {
    await h.api('POST', '/vms', { name: 'b1', disks: [{ path: h.image('b1.qcow2') }] });
    await h.api('POST', '/vms', { name: 'b2', disks: [{ path: h.image('b2.qcow2') }] });
    const bulk = await h.api('POST', '/sysprep', { vms: ['b1', 'b2'], operations: { only: ['machine-id'] } });
    expect(bulk.status).toBe(202);
    await h.waitJob(bulk.body.job.id);
    const parent = await log(bulk.body.job.id);
    expect(parent.status).toBe(409);
    expect((await parent.json()).error).toMatchObject({ code: 'NO_LOG', message: expect.stringContaining('each of its children has its own log'), details: { field: 'id' } });

    // The agent refuses its StartSysprep (the disk is gone): no agent ever had this job.
    const disk = h.image('gone.qcow2');
    await h.api('POST', '/vms', { name: 'gone', disks: [{ path: disk }] });
    require('node:fs').rmSync(disk);
    const { body } = await h.api('POST', '/vms/gone/sysprep', { operations: { only: ['machine-id'] } });
    expect((await h.waitJob(body.job.id)).state).toBe('failed');
    const never = await log(body.job.id);
    expect(never.status).toBe(409);
    expect((await never.json()).error).toMatchObject({ code: 'NO_LOG', message: expect.stringMatching(/never reached (a )?host agent/) });
  });

  it('is in the OpenAPI document as text/plain for viewers', async () => {
    const doc = await (await fetch(`${h.engine.url}/api/v1/openapi.json`)).json();
    const op = doc.paths['/api/v1/jobs/{id}/log'].get;
    expect(op['x-minimum-role']).toBe('viewer');
    expect(Object.keys(op.responses['200'].content)).toEqual(['text/plain']);
  });
});

describe('phases and steps on the engine', () => {
  it('a queued job is in phase queued; a failed job ends its running step failed, with no phase', async () => {
    const h = await harness({ agents: [{ jobMs: 200 }], config });
    try {
      const disk = h.image('fails.qcow2');
      h.agents[0].opts.failDisks = new Map([[disk, 'TOOL_FAILED']]);
      await h.api('POST', '/vms', { name: 'fails', disks: [{ path: disk }] });
      const { body } = await h.api('POST', '/vms/fails/sysprep', { operations: { only: ['machine-id', 'ssh-hostkeys'] } });
      expect(body.job.progress).toMatchObject({ phase: 'queued', phaseSince: body.job.createdAt });
      const job = await h.waitJob(body.job.id);
      expect(job.state).toBe('failed');
      expect(job.steps.map((s: { operation: string; state: string }) => `${s.operation}:${s.state}`)).toEqual(['machine-id:done', 'ssh-hostkeys:failed']);
      expect(job.progress.phase).toBeUndefined();
      expect(job.progress.phaseSince).toBeUndefined();
    } finally {
      await h.close();
    }
  });

  it('a job cancelled while it runs ends its running step skipped', async () => {
    const h = await harness({ agents: [{ jobMs: 3000 }], config });
    try {
      await h.api('POST', '/vms', { name: 'slow', disks: [{ path: h.image('slow.qcow2') }] });
      const { body } = await h.api('POST', '/vms/slow/sysprep', { operations: { only: ['machine-id', 'ssh-hostkeys'] } });
      await until(async () => (await h.api('GET', `/jobs/${body.job.id}`)).body.steps.length > 0, 10_000, 'a step');
      expect((await h.api('POST', `/jobs/${body.job.id}/cancel`)).status).toBe(202);
      const job = await h.waitJob(body.job.id);
      expect(job.state).toBe('cancelled');
      expect(job.steps).toEqual([expect.objectContaining({ operation: 'machine-id', state: 'skipped' })]);
    } finally {
      await h.close();
    }
  });
});

describe('agentProgress', () => {
  const wire = (phase: string, phaseSince: string) => ({ done: 0, total: 2, current: '', phase, phaseSince });

  it.each([
    ['a known phase with its start', wire('starting-appliance', 't2'), undefined, { done: 0, total: 2, current: '', phase: 'starting-appliance', phaseSince: 't2' }],
    ['the same phase keeps its earlier start', wire('queued', 't2'), { done: 0, total: 2, current: '', phase: 'queued' as const, phaseSince: 't1' }, { done: 0, total: 2, current: '', phase: 'queued', phaseSince: 't1' }],
    ['no phase (an older agent, a final job)', wire('', ''), undefined, { done: 0, total: 2, current: '' }],
    ['an unknown phase (a newer agent) is left out', wire('defragmenting', 't3'), undefined, { done: 0, total: 2, current: '' }],
  ])('%s', (_what, p, previous, expected) => {
    expect(agentProgress(p, previous)).toEqual(expected);
  });
});
