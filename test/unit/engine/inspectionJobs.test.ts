// Inspect jobs on the engine (engine-plugin/inspection/InspectionService.ts) in front of
// the fake agent: the job and its cache, a write making it stale, a cancel dropping the
// result, a restart failing a job nothing can resume (and never dispatching it as a
// sysprep), and a VM's lastSysprep never naming an inspection. The real agent's
// inspection runs in test/e2e/engine/inspection.test.ts.
import { utimesSync } from 'node:fs';
import { harness, Harness } from './harness';

const OFF = { enabled: false, profile: 'clone-reset' };

describe('inspect jobs', () => {
  let h: Harness;
  const vm = async (name: string) => (await h.api('POST', '/vms', { name, disks: [{ path: h.image(`${name}.qcow2`) }] })).body.vm as { id: string; disks: { path: string }[] };
  const inspect = async (id: string) => (await h.api('POST', `/vms/${id}/inspection`, undefined, 'operator')).body.job;

  beforeEach(async () => {
    h = await harness({ config: { autoReset: { clone: OFF, import: OFF, pool: OFF } } });
  });
  afterEach(() => h.close());

  it('a job, then the cached answer while the disk is unchanged; stale after a write', async () => {
    const v = await vm('web1');
    const job = await inspect(v.id);
    expect(job).toMatchObject({ kind: 'inspect', target: { type: 'vm', id: v.id, name: 'web1' }, operations: [] });
    expect((await h.waitJob(job.id)).state).toBe('succeeded');
    const got = await h.api('GET', `/vms/${v.id}/inspection`, undefined, 'viewer');
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ cached: true, jobId: job.id, host: 'host1', os: { type: 'linux', family: 'debian', version: '12.5' }, packageManagement: 'apt' });
    await h.api('GET', `/vms/${v.id}/inspection`);
    expect(h.agents[0].inspectCalls).toHaveLength(1);
    // An inspection is no sysprep.
    expect((await h.api('GET', `/vms/${v.id}`)).body.lastSysprep).toBeUndefined();
    expect(await h.engine.deps.inspection.guestOsOf((await h.engine.deps.inventory.getVm(v.id))!)).toMatchObject({ type: 'linux', distro: 'debian' });

    utimesSync(v.disks[0].path, new Date(), new Date(Date.now() + 5000));
    const stale = await h.api('GET', `/vms/${v.id}/inspection`);
    expect(stale.status).toBe(404);
    expect(stale.body.error).toMatchObject({ code: 'INSPECTION_STALE', details: { jobId: job.id } });
    expect(await h.engine.deps.inspection.guestOsOf((await h.engine.deps.inventory.getVm(v.id))!)).toBeUndefined();
  });

  it('one job per VM at a time; a sysprep waits; a cancelled job leaves no result', async () => {
    h.agents[0].opts.inspectMs = 1500;
    const v = await vm('web2');
    const job = await inspect(v.id);
    expect((await inspect(v.id)).id).toBe(job.id);
    expect((await h.api('POST', `/vms/${v.id}/sysprep`, {}, 'operator')).status).toBe(409);
    const waiting = await h.api('GET', `/vms/${v.id}/inspection`);
    expect(waiting.body.error).toMatchObject({ code: 'INSPECTION_NOT_FOUND', details: { jobId: job.id } });
    expect((await h.api('POST', `/jobs/${job.id}/cancel`, undefined, 'operator')).status).toBe(202);
    expect((await h.waitJob(job.id)).state).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 2000));
    expect((await h.api('GET', `/jobs/${job.id}`)).body.state).toBe('cancelled');
    expect((await h.api('GET', `/vms/${v.id}/inspection`)).body.error.code).toBe('INSPECTION_NOT_FOUND');
  });

  it('a restart fails an inspect job left running, and never dispatches it', async () => {
    h.agents[0].opts.inspectMs = 3000;
    const v = await vm('web3');
    const job = await inspect(v.id);
    await h.restart();
    const ended = await h.waitJob(job.id);
    expect(ended).toMatchObject({ state: 'failed', error: { code: 'ENGINE_RESTARTED' } });
    expect(h.agents[0].startCalls).toEqual([]);
  });

  it('templates too; a viewer may read, not start', async () => {
    const t = (await h.api('POST', '/templates', { name: 'gold', disks: [{ path: h.image('gold.qcow2') }] })).body;
    expect((await h.api('POST', `/templates/${t.id}/inspection`, undefined, 'viewer')).status).toBe(403);
    const job = (await h.api('POST', `/templates/${t.id}/inspection`, undefined, 'operator')).body.job;
    expect(job.target).toEqual({ type: 'template', id: t.id, name: 'gold' });
    expect((await h.waitJob(job.id)).state).toBe('succeeded');
    expect((await h.api('GET', `/templates/gold/inspection`, undefined, 'viewer')).body).toMatchObject({ target: { type: 'template', name: 'gold' }, cached: true });
  });
});
