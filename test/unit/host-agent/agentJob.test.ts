// The agent's job state machine: the transition table, and how a run ends (success,
// failure, cancel before and during the run, a lost lease, a cancel that comes during
// the commit). The runs are STAND-INS (functions that wait for the signal or finish);
// the real run (executeJob with virt-sysprep) is covered by test/e2e/host-agent/*.
import { AgentJob, JobSink, JobWork, Runner, TRANSITIONS } from '../../../host-agent/jobs/AgentJob';
import type { JobRecord, JobStateName } from '../../../host-agent/jobs/types';
import { CancelledError, JobFailure } from '../../../shared/errors';
import { createLogger } from '../../../shared/logger';

const log = createLogger({ service: 't', silent: true });
const STATES: JobStateName[] = ['PENDING', 'RUNNING', 'SUCCEEDED', 'INCOMPLETE', 'FAILED', 'CANCELLING', 'CANCELLED'];

function newJob() {
  const record: JobRecord = {
    id: 'j1', state: 'PENDING', disks: [], operations: ['machine-id'], mode: 'SAFE', dryRun: false, createdAt: '', startedAt: '', endedAt: '',
    progress: { done: 0, total: 1, current: '', phase: 'queued', phaseSince: '' }, steps: [], error: null, logPath: '/tmp/j1.log', requestedBy: '', labels: {}, hostId: 'h', paramKeys: [], timeoutSec: 60,
  };
  const states: string[] = [];
  const sink: JobSink = { publish: (job, e) => e.type === 'state' && states.push(e.state), save: () => undefined };
  const work: JobWork = { spec: { operations: ['machine-id'], params: { hostname: 'x' } }, disks: [] };
  return { job: new AgentJob(record, sink, work), states };
}

/** A run STAND-IN that ends only when aborted (as virt-sysprep killed by its signal does). */
const untilAborted: Runner = (_job, _work, signal) =>
  new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('killed'))));

describe('AgentJob', () => {
  it('has a final state for every path and no way out of a final state', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...STATES].sort());
    for (const s of ['SUCCEEDED', 'INCOMPLETE', 'FAILED', 'CANCELLED'] as const) expect(TRANSITIONS[s]).toEqual([]);
    expect(TRANSITIONS.PENDING).not.toContain('SUCCEEDED');
    expect(TRANSITIONS.RUNNING).not.toContain('CANCELLED'); // always through CANCELLING
  });

  it('PENDING -> RUNNING -> SUCCEEDED, every step done, the params dropped after the run', async () => {
    const { job, states } = newJob();
    let seen: JobWork | undefined;
    await job.run(async (j, work) => {
      seen = work;
      j.onProgress({ kind: 'operation', elapsed: 1, operation: 'machine-id' });
    }, log);
    expect(seen?.spec.params).toEqual({ hostname: 'x' });
    expect(states).toEqual(['RUNNING', 'SUCCEEDED']);
    expect(job.record.steps.map((s) => s.state)).toEqual(['done']);
    expect(job.record.progress).toEqual({ done: 1, total: 1, current: '', phase: '', phaseSince: '' });
    expect((job as unknown as { work?: unknown }).work).toBeUndefined();
    expect(job.record.startedAt).not.toBe('');
    expect(job.record.endedAt).not.toBe('');
  });

  it('a warning that a requested customisation was not applied: every warning kept and published, the job ends INCOMPLETE', async () => {
    const { job, states } = newJob();
    job.record.paramKeys = ['timezone'];
    job.record.operations = ['customize'];
    const warnings: unknown[] = [];
    (job as unknown as { sink: JobSink }).sink.publish = (_j, e) => (e.type === 'state' ? states.push(e.state) : e.type === 'warning' && warnings.push(e.warning));
    await job.run(async (j) => {
      j.onProgress({ kind: 'operation', elapsed: 1, operation: 'customize' });
      j.onWarning('timezone could not be set for this type of guest');
      j.onWarning('random seed could not be set for this type of guest');
      j.onWarning('something the job did not ask about');
      j.onWarning('Guestfs.Error("debug: ") (ignored)'); // our -v flags' artifact: not on the job
    }, log);
    const expected = [
      { message: 'timezone could not be set for this type of guest', field: 'params.timezone' },
      { message: 'random seed could not be set for this type of guest', field: '' },
      { message: 'something the job did not ask about', field: '' },
    ];
    expect(job.record.warnings).toEqual(expected);
    expect(warnings).toEqual(expected);
    expect(states).toEqual(['RUNNING', 'INCOMPLETE']);
    expect(job.record.error).toBeNull();
    expect(job.record.steps.map((s) => s.state)).toEqual(['done']);
  });

  it('a warning about nothing requested leaves the job SUCCEEDED', async () => {
    const { job, states } = newJob();
    await job.run(async (j) => j.onWarning('hostname could not be set for this type of guest'), log);
    expect(states).toEqual(['RUNNING', 'SUCCEEDED']);
    expect(job.record.warnings).toEqual([{ message: 'hostname could not be set for this type of guest', field: '' }]);
  });

  it('a run that throws ends FAILED with its error', async () => {
    const { job, states } = newJob();
    await job.run(async () => {
      throw new JobFailure('TOOL_FAILED', 'virt-sysprep: boom');
    }, log);
    expect(states).toEqual(['RUNNING', 'FAILED']);
    expect(job.record.error).toMatchObject({ code: 'TOOL_FAILED', message: 'virt-sysprep: boom', logPath: '/tmp/j1.log' });
  });

  it('cancel while running: CANCELLING, the run aborted through its signal, CANCELLED', async () => {
    const { job, states } = newJob();
    const running = job.run(untilAborted, log);
    job.cancel();
    await running;
    expect(states).toEqual(['RUNNING', 'CANCELLING', 'CANCELLED']);
    expect(job.record.error?.code).toBe('CANCELLED');
  });

  it('cancel before the start ends the job at once and no run happens', async () => {
    const { job, states } = newJob();
    job.cancel();
    let ran = false;
    await job.run(async () => {
      ran = true;
    }, log);
    expect(ran).toBe(false);
    expect(states).toEqual(['CANCELLED']);
    expect(job.record.error).toMatchObject({ code: 'CANCELLED', message: 'cancelled before it started' });
  });

  it('a lost lease aborts the run with its own error: FAILED, LEASE_LOST', async () => {
    const { job, states } = newJob();
    const running = job.run(untilAborted, log);
    job.abort(new JobFailure('LEASE_LOST', 'lost the lease of /d'));
    await running;
    expect(states).toEqual(['RUNNING', 'FAILED']);
    expect(job.record.error?.code).toBe('LEASE_LOST');
  });

  it('a cancel that comes while the commit runs does not stop it: CANCELLING -> SUCCEEDED', async () => {
    const { job, states } = newJob();
    let commit!: () => void;
    const running = job.run(() => new Promise<void>((resolve) => (commit = resolve)), log);
    job.cancel();
    commit();
    await running;
    expect(states).toEqual(['RUNNING', 'CANCELLING', 'SUCCEEDED']);
  });

  it('refuses a change the table does not allow', () => {
    const { job } = newJob();
    job.cancel();
    expect(() => job.recovered('FAILED', new CancelledError())).toThrow(/no transition CANCELLED -> FAILED/);
    expect(job.state).toBe('CANCELLED');
  });
});
