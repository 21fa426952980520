// Jobs of the agent, vdsm style: a verb validates, creates the job under the caller's
// job id (the same id returns the existing job: retries are idempotent), journals it,
// schedules it (at most max_jobs run at once) and returns at once. The work is
// executeJob(); this module owns the state machine, the events and their replay.
//
// States: PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELLING -> CANCELLED,
//         PENDING -> CANCELLED. On start, jobs a dead agent left PENDING, RUNNING or
//         CANCELLING become FAILED/INTERRUPTED (their disks were never committed to).
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { OperationInfo } from '../../shared/catalog/operations';
import { asSysprepError, CancelledError, ConflictError, InputError, NotFoundError, SysprepError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { resolveSpec, ResolvedSpec } from '../../shared/spec';
import { CheckedDisk, DiskChecker } from '../storage/diskCheck';
import { endSteps, stepEndOf } from '../../shared/endSteps';
import type { JobPhase } from '../../shared/jobPhase';
import { phaseAfter, ProgressLine } from '../sysprep/progress';
import { executeJob, ExecutionDeps } from './executeJob';
import { Journal } from './journal';
import { FINAL, JobEventRecord, JobRecord, JobStateName, ModeName } from './types';

export interface StartRequest {
  jobId: string;
  disks: { path: string; format?: string }[];
  spec: { enable?: string[]; disable?: string[]; only?: string[]; paramsJson?: string };
  mode?: string;
  dryRun?: boolean;
  timeoutSeconds?: number;
  requestedBy?: string;
  labels?: Record<string, string>;
}

export interface JobManagerOptions {
  hostId: string;
  maxJobs: number;
  defaultTimeoutSec: number;
  defaultMode: 'safe' | 'in_place';
  logDir: string;
  operations: OperationInfo[];
}

interface LiveJob {
  record: JobRecord;
  events: JobEventRecord[];
  listeners: Set<() => void>;
  controller?: AbortController;
  spec?: ResolvedSpec;
  disks?: CheckedDisk[];
}

/** Kills the process group of a virt-sysprep a dead agent left running, if it is still ours. */
function killOrphanTool(pid: number, jobId: string): void {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes(`/${jobId}/`)) process.kill(-pid, 'SIGKILL');
  } catch {
    /* gone already */
  }
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_TIMEOUT_SEC = 24 * 3600;

export class JobManager {
  private readonly jobs = new Map<string, LiveJob>();
  private readonly starting = new Map<string, Promise<JobRecord>>();
  private readonly queue: LiveJob[] = [];
  /** Subscribers to every job's events (WatchJobs). */
  private readonly everyEvent = new Set<(e: JobEventRecord) => void>();
  private running = 0;

  constructor(
    private readonly opts: JobManagerOptions,
    private readonly journal: Journal,
    private readonly diskChecker: DiskChecker,
    private readonly exec: ExecutionDeps,
    private readonly logger: Logger,
  ) {
    mkdirSync(opts.logDir, { recursive: true, mode: 0o750 });
  }

  /**
   * Reloads the journal; jobs a dead agent left unfinished become FAILED/INTERRUPTED,
   * except those it died committing (`committed`: Overlays.finishCommits), which end as
   * their finished commit says.
   */
  recover(committed: ReadonlyMap<string, SysprepError | undefined> = new Map()): string[] {
    const interrupted: string[] = [];
    for (const { job, events } of this.journal.loadAll()) {
      const live: LiveJob = { record: job, events, listeners: new Set() };
      this.jobs.set(job.id, live);
      if (FINAL.has(job.state)) continue;
      interrupted.push(job.id);
      if (committed.has(job.id)) {
        const err = committed.get(job.id);
        this.logger.warn('finished the commit of a job the previous agent died committing', { jobId: job.id, error: err?.message });
        this.finish(live, err ? 'FAILED' : 'SUCCEEDED', err);
        continue;
      }
      if (job.toolPid) killOrphanTool(job.toolPid, job.id);
      this.finish(live, 'FAILED', new SysprepError('failed', 'INTERRUPTED', 'the agent stopped while this job was unfinished; no disk was changed'));
    }
    return interrupted;
  }

  liveJobIds(): Set<string> {
    return new Set([...this.jobs.values()].filter((j) => !FINAL.has(j.record.state)).map((j) => j.record.id));
  }

  get runningCount(): number {
    return this.running;
  }

  start(req: StartRequest): Promise<JobRecord> {
    const id = req.jobId;
    if (typeof id !== 'string' || !JOB_ID.test(id)) {
      return Promise.reject(new InputError('job_id', 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit'));
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
    const disks = await this.diskChecker.check(req.disks, 'refuse');
    let params: unknown;
    try {
      params = req.spec?.paramsJson ? JSON.parse(req.spec.paramsJson) : {};
    } catch {
      throw new InputError('spec.params_json', 'is not valid JSON');
    }
    const spec = resolveSpec(
      { operations: { enable: req.spec?.enable, disable: req.spec?.disable, only: req.spec?.only }, params },
      this.opts.operations,
    );
    const mode = this.parseMode(req.mode);
    const timeoutSec = req.timeoutSeconds || this.opts.defaultTimeoutSec;
    if (timeoutSec > MAX_TIMEOUT_SEC) throw new InputError('timeout_seconds', `must be at most ${MAX_TIMEOUT_SEC}`);

    const now = new Date().toISOString();
    const record: JobRecord = {
      id: req.jobId,
      state: 'PENDING',
      disks: disks.map((d) => ({ path: d.real, format: d.format })),
      operations: spec.operations,
      mode,
      dryRun: !!req.dryRun,
      createdAt: now,
      startedAt: '',
      endedAt: '',
      progress: { done: 0, total: spec.operations.length, current: '', phase: 'queued', phaseSince: now },
      steps: [],
      error: null,
      logPath: path.join(this.opts.logDir, `${req.jobId}.log`),
      requestedBy: req.requestedBy ?? '',
      labels: req.labels ?? {},
      hostId: this.opts.hostId,
      paramKeys: Object.keys(spec.params),
      timeoutSec,
    };
    const live: LiveJob = { record, events: [], listeners: new Set(), spec, disks };
    this.jobs.set(record.id, live);
    this.emit(live, { type: 'state', message: 'job accepted' });
    this.queue.push(live);
    this.pump();
    return record;
  }

  private parseMode(mode: string | undefined): ModeName {
    if (!mode || mode === 'MODE_UNSPECIFIED') return this.opts.defaultMode === 'in_place' ? 'IN_PLACE' : 'SAFE';
    if (mode === 'SAFE' || mode === 'IN_PLACE') return mode;
    throw new InputError('mode', 'must be SAFE or IN_PLACE');
  }

  private pump(): void {
    while (this.running < this.opts.maxJobs && this.queue.length) {
      const live = this.queue.shift()!;
      if (live.record.state !== 'PENDING') continue;
      this.running++;
      void this.run(live).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(live: LiveJob): Promise<void> {
    const job = live.record;
    const logger = this.logger.child({ jobId: job.id });
    const controller = new AbortController();
    live.controller = controller;
    job.startedAt = new Date().toISOString();
    job.progress = { ...job.progress!, phase: 'preparing', phaseSince: job.startedAt };
    this.emit(live, { type: 'state', state: 'RUNNING', message: 'job started' });
    try {
      await executeJob(this.exec, {
        jobId: job.id,
        disks: live.disks!,
        spec: live.spec!,
        safe: job.mode === 'SAFE',
        dryRun: job.dryRun,
        timeoutMs: job.timeoutSec * 1000,
        logPath: job.logPath,
        signal: controller.signal,
        abort: (err) => controller.abort(err),
        onProgress: (line) => this.onProgress(live, line),
        onSpawn: (pid) => {
          job.toolPid = pid;
          this.enterPhase(live, 'starting-appliance');
        },
        onCommit: () => this.enterPhase(live, 'committing'),
        logger,
      });
      this.finish(live, 'SUCCEEDED');
      logger.info('job succeeded');
    } catch (err) {
      const e = asSysprepError(err);
      if (e instanceof CancelledError) this.finish(live, 'CANCELLED', e);
      else this.finish(live, 'FAILED', e);
      logger.warn('job ended', { state: job.state, code: e.code, error: e.message });
    } finally {
      live.spec = undefined; // drop the params (secrets) as soon as they are not needed
    }
  }

  private onProgress(live: LiveJob, line: ProgressLine): void {
    const job = live.record;
    const phase = phaseAfter(job.progress?.phase, line);
    // An operation line carries the new phase in its own event.
    if (phase && line.kind !== 'operation') return this.enterPhase(live, phase);
    if (line.kind !== 'operation') return;
    const at = new Date().toISOString();
    const previous = job.steps.at(-1);
    if (previous) previous.state = 'done';
    job.steps.push({ operation: line.operation, state: 'running', at });
    job.progress = { ...job.progress!, done: job.steps.length - 1, current: line.operation, ...(phase ? { phase, phaseSince: at } : {}) };
    this.emit(live, { type: 'operation', operation: line.operation, message: `Performing "${line.operation}"` });
  }

  /** The run moved on (contract: agent.proto Progress.phase); the tool is done once it commits. */
  private enterPhase(live: LiveJob, phase: JobPhase): void {
    const job = live.record;
    if (phase === 'committing') job.steps = endSteps(job.steps, 'done');
    job.progress = { ...job.progress!, phase, phaseSince: new Date().toISOString() };
    this.emit(live, { type: 'phase', message: `phase ${phase}` });
  }

  private finish(live: LiveJob, state: JobStateName, error?: SysprepError): void {
    const job = live.record;
    job.endedAt = new Date().toISOString();
    job.steps = endSteps(job.steps, stepEndOf(state));
    // A final job is in no phase; a succeeded one did all its operations.
    const { total } = job.progress!;
    job.progress = state === 'SUCCEEDED' ? { done: total, total, current: '', phase: '', phaseSince: '' } : { ...job.progress!, phase: '', phaseSince: '' };
    job.error = error
      ? { code: error.code, message: error.message, logPath: job.logPath, detailsJson: JSON.stringify(error.details) }
      : null;
    this.emit(live, { type: 'state', state, error: job.error, message: error?.message ?? 'job succeeded' });
  }

  private emit(live: LiveJob, e: Partial<JobEventRecord> & { type: string }): void {
    const job = live.record;
    if (e.state) job.state = e.state;
    const event: JobEventRecord = {
      jobId: job.id,
      seq: live.events.length + 1,
      at: new Date().toISOString(),
      type: e.type,
      state: job.state,
      operation: e.operation ?? '',
      progress: { ...job.progress! },
      error: e.error ?? null,
      message: e.message ?? '',
    };
    live.events.push(event);
    this.persist(job, event);
    live.listeners.forEach((notify) => notify());
    this.everyEvent.forEach((deliver) => deliver(event));
  }

  /**
   * Journals a change. A journal that cannot be written (its disk full: fault 12 of the
   * fault suite) must not stop the agent: the job goes on in memory, its callers see every
   * event, and the failure is logged; the next write that succeeds catches the record up.
   */
  private persist(job: JobRecord, event: JobEventRecord): void {
    try {
      this.journal.saveJob(job);
      this.journal.appendEvent(event);
    } catch (err) {
      this.logger.error('the job journal could not be written; the job goes on in memory', { jobId: job.id, error: String(err) });
    }
  }

  private live(id: string): LiveJob {
    const live = this.jobs.get(id);
    if (!live) throw new NotFoundError('JOB_NOT_FOUND', `no job ${JSON.stringify(id)} on this agent`, { jobId: id });
    return live;
  }

  get(id: string): JobRecord {
    return this.live(id).record;
  }

  list(states: string[] = []): JobRecord[] {
    const jobs = [...this.jobs.values()].map((j) => j.record);
    return states.length ? jobs.filter((j) => states.includes(j.state)) : jobs;
  }

  cancel(id: string): JobRecord {
    const live = this.live(id);
    const job = live.record;
    if (job.state === 'PENDING') {
      this.finish(live, 'CANCELLED', new CancelledError('cancelled before it started'));
    } else if (job.state === 'RUNNING') {
      this.emit(live, { type: 'state', state: 'CANCELLING', message: 'cancel requested' });
      live.controller?.abort(new CancelledError());
    }
    return job;
  }

  /** Past events with seq > afterSeq, then live ones, until the final state. */
  async *watch(id: string, afterSeq = 0, signal?: AbortSignal): AsyncGenerator<JobEventRecord> {
    const live = this.live(id);
    let next = afterSeq;
    let wake: (() => void) | undefined;
    const notify = () => wake?.();
    live.listeners.add(notify);
    signal?.addEventListener('abort', notify);
    try {
      for (;;) {
        while (next < live.events.length) {
          const event = live.events[next++];
          yield event;
          if (event.type === 'state' && FINAL.has(event.state)) return;
        }
        if (FINAL.has(live.record.state) || signal?.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      live.listeners.delete(notify);
      signal?.removeEventListener('abort', notify);
    }
  }

  /**
   * Many jobs on one stream: a "watching" marker once subscribed, then the events after
   * each cursor (or "missing" for a job this agent does not have), then every job's live
   * events, until `signal` aborts. Live events are queued from the moment of
   * subscription, so nothing falls between the replay and the live part.
   */
  async *watchAll(cursors: { jobId: string; afterSeq?: number }[], signal: AbortSignal): AsyncGenerator<JobEventRecord> {
    const queue: JobEventRecord[] = [];
    let wake: (() => void) | undefined;
    const deliver = (e: JobEventRecord) => {
      queue.push(e);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.everyEvent.add(deliver);
    signal.addEventListener('abort', onAbort);
    try {
      const marker = (type: 'watching' | 'missing', jobId = ''): JobEventRecord =>
        ({ jobId, seq: 0, at: new Date().toISOString(), type, state: 'PENDING', operation: '', progress: null, error: null, message: '' });
      // Replayed up to here per job; queued live events at or below it are duplicates.
      const replayed = new Map<string, number>();
      const replay: JobEventRecord[] = [marker('watching')];
      for (const c of cursors) {
        const live = this.jobs.get(c.jobId);
        if (!live) {
          replay.push(marker('missing', c.jobId));
          continue;
        }
        replay.push(...live.events.slice(c.afterSeq ?? 0));
        replayed.set(c.jobId, live.events.length);
      }
      yield* replay;
      while (!signal.aborted) {
        while (queue.length) {
          const e = queue.shift()!;
          if (e.seq > (replayed.get(e.jobId) ?? 0)) yield e;
        }
        if (signal.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.everyEvent.delete(deliver);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Cancels every running job and waits for them to end (graceful shutdown). */
  async shutdown(): Promise<void> {
    this.queue.length = 0;
    const active = [...this.jobs.values()].filter((j) => j.record.state === 'RUNNING' || j.record.state === 'CANCELLING');
    active.forEach((j) => j.controller?.abort(new CancelledError('the agent is shutting down')));
    await Promise.all(
      active.map(async (j) => {
        for await (const _ of this.watch(j.record.id, j.events.length)) void _;
      }),
    );
  }
}
