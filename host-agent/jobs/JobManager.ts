// The agent's jobs, vdsm style: a verb validates (validateStart.ts), creates the job
// under the caller's job id (the same id returns the existing job: retries are
// idempotent), journals it, schedules it (at most max_jobs run at once) and returns at
// once. Each job is an AgentJob (its state machine and abort signal); its events go to
// the EventLog (watchers) and the journal; the run is executeJob.
//
// Batch mode (issue 16): requests that carry a batch are gathered (batchGroups.ts) and
// the gathered batch is ONE queue entry that takes ONE of the max_jobs slots for its
// whole run. Each member is still its own AgentJob (record, journal, events, cancel):
// all members start together and each member's run awaits its share of the batch's run
// (BatchRunner, host-agent/batch/executeBatch.ts). A member cancelled while its batch
// gathers or waits for a slot ends at once, as any pending job.
//
// On start, jobs a dead agent left PENDING, RUNNING or CANCELLING become
// FAILED/INTERRUPTED (their disks were never committed to), except those it died
// committing, which end as their finished commit says.
import { mkdirSync, readFileSync } from 'node:fs';
import { CancelledError, NotFoundError, SysprepError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { killGroup } from '../../shared/tools/exec';
import { DiskChecker } from '../storage/diskCheck';
import { AgentJob, BatchRunner, JobSink, MemberRun, Runner } from './AgentJob';
import { BatchGroups } from './batchGroups';
import { EventLog } from './EventLog';
import { Journal } from './journal';
import { JobEventRecord, JobRecord } from './types';
import { checkBatchRef, checkJobId, StartDefaults, StartRequest, validateStart } from './validateStart';

export type { StartRequest } from './validateStart';

export interface JobManagerOptions extends StartDefaults {
  maxJobs: number;
  /** How long a batch gathers after its first member (default batchGroups GATHER_MS). */
  batchGatherMs?: number;
}

/** A gathered batch waiting for its slot. */
interface QueuedBatch {
  batchId: string;
  members: AgentJob[];
}

/**
 * Starts the members together and hands their runs to the batch runner once every one
 * has started: each member's run() calls its Runner synchronously, before its first await.
 */
function runTogether(batchId: string, members: AgentJob[], batchRunner: BatchRunner, logger: Logger): Promise<void> {
  const runs: MemberRun[] = [];
  const shares: { resolve(p: Promise<void>): void }[] = [];
  const runner: Runner = (job, work, signal) =>
    new Promise<void>((resolve) => {
      runs.push({ job, work, signal });
      shares.push({ resolve });
    });
  const done = members.map((j) => j.run(runner, logger.child({ jobId: j.id, batchId })));
  if (runs.length) {
    let results: Promise<void>[];
    try {
      results = batchRunner(batchId, runs);
    } catch (err) {
      results = runs.map(() => Promise.reject(err));
    }
    shares.forEach((s, i) => s.resolve(results[i] ?? Promise.reject(new Error(`batch ${batchId}: no run for member ${i}`))));
  }
  return Promise.all(done).then(() => undefined);
}

/** Without batch mode wired: the members one after another, each alone. */
function oneByOne(runner: Runner): BatchRunner {
  return (_id, members) => {
    let chain = Promise.resolve();
    return members.map(({ job, work, signal }) => (chain = chain.catch(() => undefined).then(() => runner(job, work, signal))));
  };
}

/** Kills the process group of a virt-sysprep a dead agent left running, if it is still ours. */
function killOrphanTool(pid: number, jobId: string): void {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // gone already
  }
  if (cmdline.includes(`/${jobId}/`)) killGroup(pid);
}

export class JobManager {
  private readonly jobs = new Map<string, AgentJob>();
  private readonly starting = new Map<string, Promise<JobRecord>>();
  private readonly queue: (AgentJob | QueuedBatch)[] = [];
  private readonly batches: BatchGroups<AgentJob>;
  private readonly events = new EventLog();
  private readonly sink: JobSink;
  private running = 0;

  constructor(
    private readonly opts: JobManagerOptions,
    private readonly journal: Journal,
    private readonly diskChecker: DiskChecker,
    private readonly runner: Runner,
    private readonly logger: Logger,
    private readonly batchRunner: BatchRunner = oneByOne(runner),
  ) {
    mkdirSync(opts.logDir, { recursive: true, mode: 0o750 });
    this.batches = new BatchGroups((batchId, members) => {
      this.queue.push({ batchId, members });
      this.pump();
    }, opts.batchGatherMs);
    this.sink = {
      publish: (job, fields) => this.persist(job, this.events.append(job.id, fields)),
      save: (job) => this.persist(job),
    };
  }

  /**
   * Reloads the journal; jobs a dead agent left unfinished become FAILED/INTERRUPTED,
   * except those it died committing (`committed`: Overlays.finishCommits), which end as
   * their finished commit says.
   */
  recover(committed: ReadonlyMap<string, SysprepError | undefined> = new Map()): string[] {
    const interrupted: string[] = [];
    for (const { job: record, events } of this.journal.loadAll()) {
      this.events.restore(record.id, events, record.state);
      const job = new AgentJob(record, this.sink);
      this.jobs.set(record.id, job);
      if (job.final) continue;
      interrupted.push(record.id);
      if (committed.has(record.id)) {
        const err = committed.get(record.id);
        this.logger.warn('finished the commit of a job the previous agent died committing', { jobId: record.id, error: err?.message });
        job.recovered(err ? 'FAILED' : 'SUCCEEDED', err);
        continue;
      }
      if (record.toolPid) killOrphanTool(record.toolPid, record.id);
      job.recovered('FAILED', new SysprepError('failed', 'INTERRUPTED', 'the agent stopped while this job was unfinished; no disk was changed'));
    }
    return interrupted;
  }

  liveJobIds(): Set<string> {
    return new Set([...this.jobs.values()].filter((j) => !j.final).map((j) => j.id));
  }

  /** Batches with a member not yet final (their session log is still written or read). */
  liveBatchIds(): Set<string> {
    return new Set([...this.jobs.values()].filter((j) => !j.final && j.record.batch).map((j) => j.record.batch!.id));
  }

  /**
   * Retention (LogPruner.ts): forgets the final jobs that ended before `cutoff` (ISO
   * time): their records and events, in memory and in the journal. Returns their ids.
   */
  forgetEnded(cutoff: string): string[] {
    const gone: string[] = [];
    for (const job of this.jobs.values()) {
      if (!job.final || !job.record.endedAt || job.record.endedAt >= cutoff) continue;
      this.jobs.delete(job.id);
      this.events.forget(job.id);
      try {
        this.journal.remove(job.id);
      } catch (err) {
        this.logger.warn('an ended job\'s journal entry could not be removed', { jobId: job.id, error: String(err) });
      }
      gone.push(job.id);
    }
    return gone;
  }

  get runningCount(): number {
    return this.running;
  }

  start(req: StartRequest): Promise<JobRecord> {
    const id = req.jobId;
    try {
      checkJobId(id);
    } catch (err) {
      return Promise.reject(err);
    }
    const existing = this.jobs.get(id);
    if (existing) return Promise.resolve(existing.record);
    // Concurrent retries with the same id share one validation.
    let pending = this.starting.get(id);
    if (!pending) {
      pending = this.create(req).finally(() => this.starting.delete(id));
      this.starting.set(id, pending);
    }
    return pending;
  }

  private async create(req: StartRequest): Promise<JobRecord> {
    const ref = checkBatchRef(req.batch, this.opts.maxBatchSize);
    if (ref) this.batches.check(ref);
    let validated: Awaited<ReturnType<typeof validateStart>>;
    try {
      validated = await validateStart(req, this.opts, this.diskChecker);
    } catch (err) {
      if (ref) this.batches.arrive(ref); // a refused member counts: its batch does not wait for it
      throw err;
    }
    const { record, work } = validated;
    const job = new AgentJob(record, this.sink, work);
    let queued = true;
    if (ref) {
      const joined = this.batches.arrive(ref, job); // may refuse (the batch filled meanwhile): nothing registered yet
      record.batch = { id: ref.id, batched: false, aloneReason: joined === 'late' ? 'arrived after its batch had started (5 s after its first member): run alone' : '' };
      queued = joined === 'late';
    }
    this.jobs.set(job.id, job);
    job.accepted();
    if (queued) {
      this.queue.push(job);
      this.pump();
    }
    return record;
  }

  private pump(): void {
    while (this.running < this.opts.maxJobs && this.queue.length) {
      const entry = this.queue.shift()!;
      let run: Promise<void>;
      if (entry instanceof AgentJob) {
        if (entry.state !== 'PENDING') continue;
        run = entry.run(this.runner, this.logger.child({ jobId: entry.id }));
      } else {
        const members = entry.members.filter((j) => j.state === 'PENDING');
        if (!members.length) continue;
        run = runTogether(entry.batchId, members, this.batchRunner, this.logger);
      }
      this.running++;
      void run.finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  /**
   * Journals a change. A journal that cannot be written (its disk full: fault 12 of the
   * fault suite) must not stop the agent: the job goes on in memory, its callers see every
   * event, and the failure is logged; the next write that succeeds catches the record up.
   */
  private persist(job: JobRecord, event?: JobEventRecord): void {
    try {
      this.journal.saveJob(job);
      if (event) this.journal.appendEvent(event);
    } catch (err) {
      this.logger.error('the job journal could not be written; the job goes on in memory', { jobId: job.id, error: String(err) });
    }
  }

  private job(id: string): AgentJob {
    const job = this.jobs.get(id);
    if (!job) throw new NotFoundError('JOB_NOT_FOUND', `no job ${JSON.stringify(id)} on this agent`, { jobId: id });
    return job;
  }

  get(id: string): JobRecord {
    return this.job(id).record;
  }

  list(states: string[] = []): JobRecord[] {
    const records = [...this.jobs.values()].map((j) => j.record);
    return states.length ? records.filter((j) => states.includes(j.state)) : records;
  }

  cancel(id: string): JobRecord {
    const job = this.job(id);
    job.cancel();
    return job.record;
  }

  /** Past events with seq > afterSeq, then live ones, until the final state. */
  watch(id: string, afterSeq = 0, signal?: AbortSignal): AsyncGenerator<JobEventRecord> {
    this.job(id); // JOB_NOT_FOUND before the stream starts
    return this.events.watch(id, afterSeq, signal);
  }

  /** Every job event from now on with its job's record (the metrics: host-agent/metrics/). */
  onEvent(listener: (e: JobEventRecord, job: JobRecord) => void): () => void {
    return this.events.onEvent((e) => {
      const job = this.jobs.get(e.jobId);
      if (job) listener(e, job.record);
    });
  }

  /** Many jobs on one stream (EventLog.watchAll); runs until `signal` aborts. */
  watchAll(cursors: { jobId: string; afterSeq?: number }[], signal: AbortSignal): AsyncGenerator<JobEventRecord> {
    return this.events.watchAll(cursors, signal);
  }

  /** Cancels every running job and waits for them to end (graceful shutdown). */
  async shutdown(): Promise<void> {
    this.queue.length = 0;
    this.batches.stop();
    const active = [...this.jobs.values()].filter((j) => j.state === 'RUNNING' || j.state === 'CANCELLING');
    active.forEach((j) => j.cancel(new CancelledError('the agent is shutting down')));
    await Promise.all(
      active.map(async (j) => {
        for await (const _ of this.events.watch(j.id, this.events.count(j.id))) void _;
      }),
    );
  }
}

