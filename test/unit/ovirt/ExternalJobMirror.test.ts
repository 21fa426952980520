// The external-job mirror against the oVirt API test server, whose job end models the
// real one (ovirt-engine 0111fc6: BackendJobResource.end reads `succeeded` and `force`,
// never `status`; EndExternalJobCommand; common/job/Job.markJobEnded). A job that fails
// or is cancelled before any step is open is the case where only the job end can tell
// oVirt that it did not succeed.
import { IDS, OvirtApiServer } from '../../helpers/ovirtApiServer';
import { ovirtHarness, OvirtHarness, until } from './ovirtHarness';

jest.setTimeout(60_000);

const jobEnd = (s: OvirtApiServer) => s.jobCalls().find((c) => /^\/jobs\/[^/]+\/end$/.test(c.path));

describe('ExternalJobMirror (oVirt API test server + fake agent)', () => {
  let h: OvirtHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** A one-VM job of 1.5 s whose oVirt job exists and whose first calls are done. */
  async function runningMirroredJob(): Promise<{ run: OvirtHarness; s: OvirtApiServer; jobId: string }> {
    const run = (h = await ovirtHarness({ agentMs: 1500 }));
    const r = await run.api('POST', `/vms/${IDS.web01}/sysprep`, {});
    const s = run.ovirt;
    await until(() => s.jobs.size > 0, 5000, 'oVirt job created');
    await run.engine.ovirt!.mirror.idle();
    return { run, s, jobId: r.body.job.id };
  }

  it('ends a job that failed before its first operation FAILED: the end says succeeded=false, no status', async () => {
    h = await ovirtHarness();
    h.agent.opts.refuseMissingDisks = true; // the agent refuses the job before any operation
    const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, {});
    expect((await h.waitJob(r.body.job.id)).state).toBe('failed');
    const s = h.ovirt;
    await until(() => !!jobEnd(s), 5000, 'oVirt job end');
    // oVirt reads `succeeded` (default true) and ignores `status` (BackendJobResource.end).
    expect(jobEnd(s)?.body).toEqual({ succeeded: false, force: true });
    const ovirtJob = [...s.jobs.values()][0];
    // Job.markJobEnded(false): FAILED, which the Tasks view shows as Failed.
    expect(ovirtJob).toMatchObject({ status: 'failed', auto_cleared: 'true' });
    expect(ovirtJob.steps).toEqual([]);
  });

  it('ends a cancelled job FAILED with a last step "cancelled" (oVirt shows no external job aborted)', async () => {
    h = await ovirtHarness({ agentMs: 60_000 }); // the first operation would start after seconds
    const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, {});
    const s = h.ovirt;
    await until(() => s.jobCalls().length > 0, 5000, 'oVirt job created');
    expect((await h.api('POST', `/jobs/${r.body.job.id}/cancel`, {})).status).toBe(202);
    expect((await h.waitJob(r.body.job.id)).state).toBe('cancelled');
    await until(() => !!jobEnd(s), 5000, 'oVirt job end');
    await h.engine.ovirt!.mirror.idle();
    const ovirtJob = [...s.jobs.values()][0];
    expect(ovirtJob.status).toBe('failed');
    const last = ovirtJob.steps.at(-1);
    expect(last).toMatchObject({ type: 'finalizing', status: 'failed', description: expect.stringMatching(/^cancelled/) });
    expect(jobEnd(s)?.body).toEqual({ succeeded: false, force: true });
  });

  it('the test server answers an end of a job already ended as oVirt does: 200, the status kept', async () => {
    h = await ovirtHarness();
    const r = await h.api('POST', `/vms/${IDS.web01}/sysprep`, {});
    await h.waitJob(r.body.job.id);
    const s = h.ovirt;
    await until(() => !!jobEnd(s), 5000, 'oVirt job end');
    await h.engine.ovirt!.mirror.idle();
    const ovirtJob = [...s.jobs.values()][0];
    expect(ovirtJob.status).toBe('finished');
    // EndExternalJobCommand.validate refuses only an unknown or non-external job;
    // Job.markJobEnded changes a STARTED job only.
    // Through the plugin's own client (HTTPS with the test CA): a refusal would throw.
    await expect(h.engine.ovirt!.client.post(`/jobs/${ovirtJob.id}/end`, { succeeded: false, force: true })).resolves.toMatchObject({ status: 'complete' });
    expect(ovirtJob.status).toBe('finished');
  });

  it('forgets a job oVirt cleared before its end could reach it, instead of ending it every minute', async () => {
    const { run, s, jobId } = await runningMirroredJob();
    s.down = 503; // the end cannot reach oVirt
    await run.waitJob(jobId);
    await run.engine.ovirt!.mirror.idle();
    const [ovirtJob] = [...s.jobs.values()];
    s.clearJob(ovirtJob.id); // oVirt's cleanup, or an admin, removed it meanwhile
    s.down = undefined;
    await run.engine.ovirt!.mirror.reconcile();
    // EndExternalJobCommand.validate: an unknown job is 400 ACTION_TYPE_NO_JOB; GET /jobs/{id} 404.
    expect(s.jobCalls().filter((c) => c.path === `/jobs/${ovirtJob.id}`)).toHaveLength(1);
    const calls = s.jobCalls().length;
    await run.engine.ovirt!.mirror.reconcile();
    expect(s.jobCalls().length).toBe(calls);
  });

  it('the test server keeps a job Unknown after an engine restart, whatever end follows (as oVirt does)', async () => {
    const { run, s, jobId } = await runningMirroredJob();
    // JobRepositoryImpl.finalizeJobs at engine start: STARTED -> UNKNOWN; markJobEnded then changes nothing.
    s.restartEngine();
    await run.waitJob(jobId);
    await until(() => !!jobEnd(s), 5000, 'oVirt job end');
    await run.engine.ovirt!.mirror.idle();
    expect([...s.jobs.values()][0].status).toBe('unknown');
  });
});
