// Batch gathering and scheduling in the JobManager (issue 16): ORCHESTRATION UNITS.
// The disk checker and the runs are IN-TEST STAND-INS (a checker that accepts any path
// but those named "bad", runners that record what they were given and end when the test
// says); the journal is the real one in a temp dir. The real batch run (executeBatch with
// the real guestfish session and scripts) is tested end to end after the merge:
// test/e2e-pending/batch.test.ts.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BatchRunner, MemberRun, Runner } from '../../../host-agent/jobs/AgentJob';
import { BatchGroups } from '../../../host-agent/jobs/batchGroups';
import { JobManager, JobManagerOptions } from '../../../host-agent/jobs/JobManager';
import { Journal } from '../../../host-agent/jobs/journal';
import type { DiskChecker } from '../../../host-agent/storage/diskCheck';
import { InputError } from '../../../shared/errors';
import { createLogger } from '../../../shared/logger';

const log = createLogger({ service: 't', silent: true });

/** STAND-IN disk checker: every path is a qcow2 in /images, except those containing "bad". */
const checker = {
  async check(disks: { path: string }[]) {
    return disks.map((d, i) => {
      if (d.path.includes('bad')) throw new InputError(`disks[${i}].path`, 'no such disk');
      return { path: d.path, real: d.path, root: '/images', format: 'qcow2', virtualSize: 1, actualSize: 1, backingFile: '', inUse: false };
    });
  },
} as unknown as DiskChecker;

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('JobManager: batches', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'batch-grouping-'));
    mkdirSync(path.join(dir, 'log'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function manager(over: Partial<JobManagerOptions> = {}) {
    const singles: string[] = [];
    const single: Runner = async (job) => void singles.push(job.id);
    const batches: { id: string; members: MemberRun[]; done: ReturnType<typeof deferred>[] }[] = [];
    const batchRunner: BatchRunner = (id, members) => {
      const done = members.map(() => deferred());
      batches.push({ id, members, done });
      return done.map((d) => d.promise);
    };
    const opts: JobManagerOptions = {
      hostId: 'h', maxJobs: 1, defaultTimeoutSec: 60, defaultMode: 'safe', logDir: path.join(dir, 'log'),
      operations: [{ name: 'machine-id', description: '', defaultEnabled: true }], maxBatchSize: 4, batchGatherMs: 150, ...over,
    };
    const jobs = new JobManager(opts, new Journal(path.join(dir, 'jobs')), checker, single, log, batchRunner);
    return { jobs, singles, batches };
  }
  const req = (jobId: string, batch?: { id: string; size: number }, disk = `/images/${jobId}.qcow2`) => ({ jobId, disks: [{ path: disk }], spec: { only: ['machine-id'], params: {} }, batch });

  it('gathers the members of a batch until its size has arrived, then runs them together in ONE slot', async () => {
    const { jobs, batches, singles } = manager();
    const b = { id: 'pool-1', size: 3 };
    const a = await jobs.start(req('a', b));
    expect(a.batch).toEqual({ id: 'pool-1', batched: false, aloneReason: '' });
    await jobs.start(req('b', b));
    expect(batches).toHaveLength(0); // still gathering
    expect(jobs.get('a').state).toBe('PENDING');
    await jobs.start(req('c', b));
    await tick();
    expect(batches.map((x) => [x.id, x.members.map((m) => m.job.id)])).toEqual([['pool-1', ['a', 'b', 'c']]]);
    expect(['a', 'b', 'c'].map((id) => jobs.get(id).state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(jobs.runningCount).toBe(1); // the whole batch holds one of max_jobs (1) slots
    // Another job waits for that slot.
    await jobs.start(req('solo'));
    await tick();
    expect(jobs.get('solo').state).toBe('PENDING');
    // Each member ends as its own share says, not when the batch ends.
    batches[0].done[1].reject(new Error('b failed'));
    await tick();
    expect(jobs.get('b').state).toBe('FAILED');
    expect(jobs.get('a').state).toBe('RUNNING');
    batches[0].done[0].resolve();
    batches[0].done[2].resolve();
    await tick();
    expect(jobs.get('a').state).toBe('SUCCEEDED');
    // The slot is free: the waiting job ran.
    expect(singles).toEqual(['solo']);
    expect(jobs.runningCount).toBe(0);
  });

  it('a refused member counts: the batch does not wait for it', async () => {
    const { jobs, batches } = manager({ batchGatherMs: 60_000 });
    const b = { id: 'pool-2', size: 2 };
    await jobs.start(req('a', b));
    await expect(jobs.start(req('x', b, '/images/bad.qcow2'))).rejects.toThrow(/disks\[0\]\.path/);
    await tick();
    expect(batches.map((x) => x.members.map((m) => m.job.id))).toEqual([['a']]);
  });

  it('runs what has arrived 5 s (here 150 ms) after the first member; a late member runs alone, with its reason', async () => {
    const { jobs, batches, singles } = manager({ maxJobs: 2 });
    const b = { id: 'pool-3', size: 3 };
    await jobs.start(req('a', b));
    await jobs.start(req('b', b));
    await tick(50);
    expect(batches).toHaveLength(0);
    await tick(200);
    expect(batches.map((x) => x.members.map((m) => m.job.id))).toEqual([['a', 'b']]);
    const late = await jobs.start(req('c', b));
    expect(late.batch).toEqual({ id: 'pool-3', batched: false, aloneReason: expect.stringMatching(/after its batch had started/) });
    await tick();
    expect(singles).toEqual(['c']);
    expect(jobs.get('c').state).toBe('SUCCEEDED');
  });

  it('a member cancelled while its batch gathers ends at once and is not run', async () => {
    const { jobs, batches } = manager();
    const b = { id: 'pool-4', size: 2 };
    await jobs.start(req('a', b));
    jobs.cancel('a');
    expect(jobs.get('a').state).toBe('CANCELLED');
    await jobs.start(req('b', b));
    await tick();
    expect(batches.map((x) => x.members.map((m) => m.job.id))).toEqual([['b']]);
  });

  it('validation: batch.size 1..max_batch_size, one size per batch id, never more members than its size; a retry is idempotent', async () => {
    const { jobs, batches } = manager({ batchGatherMs: 60_000 });
    for (const size of [0, 5, 1.5]) await expect(jobs.start(req(`s${size}`.replace('.', '_'), { id: 'p', size }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'batch.size' } });
    await expect(jobs.start(req('bad-id', { id: '-x', size: 2 }))).rejects.toMatchObject({ details: { field: 'batch.id' } });
    await jobs.start(req('a', { id: 'p', size: 2 }));
    await expect(jobs.start(req('b', { id: 'p', size: 3 }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'batch.size' }, message: expect.stringMatching(/has size 2/) });
    expect((await jobs.start(req('a', { id: 'p', size: 2 }))).id).toBe('a'); // the same job id: the same job, not a new member
    await jobs.start(req('b', { id: 'p', size: 2 }));
    await expect(jobs.start(req('c', { id: 'p', size: 2 }))).rejects.toThrow(/already has its 2 members/);
    await tick();
    expect(batches.map((x) => x.members.map((m) => m.job.id))).toEqual([['a', 'b']]);
    batches[0].done.forEach((d) => d.resolve());
  });

  it('batch mode off (max_batch_size 0): a request with a batch is refused naming batch.size; one without is unchanged', async () => {
    const { jobs, singles } = manager({ maxBatchSize: 0 });
    await expect(jobs.start(req('a', { id: 'p', size: 2 }))).rejects.toMatchObject({ details: { field: 'batch.size' }, message: expect.stringMatching(/max_batch_size 0/) });
    // The wire's unset BatchRef (empty id, size 0) is no batch.
    const j = await jobs.start({ ...req('b'), batch: { id: '', size: 0 } });
    expect(j.batch).toBeUndefined();
    await tick();
    expect(singles).toEqual(['b']);
  });

  it('crash recovery holds per member: RUNNING members become FAILED/INTERRUPTED, their Job.batch kept; one that died committing ends as its commit says', async () => {
    const { jobs } = manager();
    const b = { id: 'pool-5', size: 2 };
    await jobs.start(req('a', b));
    await jobs.start(req('b', b));
    await tick();
    // The agent "dies" here: both members RUNNING in the journal. A new manager reads it back.
    const { jobs: next } = manager();
    const interrupted = next.recover(new Map([['b', undefined]]));
    expect(interrupted.sort()).toEqual(['a', 'b']);
    expect(next.get('a')).toMatchObject({ state: 'FAILED', error: { code: 'INTERRUPTED' }, batch: { id: 'pool-5' } });
    expect(next.get('b')).toMatchObject({ state: 'SUCCEEDED', batch: { id: 'pool-5' } });
    expect(next.liveJobIds().size).toBe(0); // so their overlays are orphans: removed at start (Overlays.removeOrphans)
  });
});

describe('BatchGroups', () => {
  it('hands a batch over once, members in arrival order; forgets nothing it must recognise', () => {
    const ready: [string, number[]][] = [];
    const g = new BatchGroups<number>((id, m) => ready.push([id, m]), 60_000);
    expect(g.arrive({ id: 'x', size: 3 }, 1)).toBe('joined');
    expect(g.arrive({ id: 'x', size: 3 })).toBe('joined'); // refused: counts, no member
    expect(g.arrive({ id: 'x', size: 3 }, 2)).toBe('joined');
    expect(ready).toEqual([['x', [1, 2]]]);
    expect(() => g.check({ id: 'x', size: 3 })).toThrow(/already has its 3 members/);
    g.stop();
  });
});
