// One job of the agent: its record, its state machine and its abort signal.
//
// States (TRANSITIONS is the only place that says which change is allowed):
//   PENDING    -> RUNNING (a slot is free) | CANCELLED (cancel before start)
//                 | FAILED (a dead agent left it unfinished)
//   RUNNING    -> SUCCEEDED | INCOMPLETE | FAILED | CANCELLING (cancel asked: the run is aborted)
//   CANCELLING -> CANCELLED (the run stopped) | FAILED (it failed on its own first)
//                 | SUCCEEDED | INCOMPLETE (the commit had begun: a commit is never stopped halfway)
// A run that succeeded ends INCOMPLETE when one of its warnings says a requested
// customisation or operation was not applied (sysprep/toolWarnings.ts).
// Every change is one state event. Cancellation is a parameter of the run (an
// AbortSignal whose reason is the typed error: cancel, lease lost), not an exception
// the job catches: when a run throws, an aborted signal's reason says how the job ends.
import { endSteps, stepEndOf } from '../../shared/endSteps';
import { asSysprepError, CancelledError, SysprepError } from '../../shared/errors';
import type { JobPhase } from '../../shared/jobPhase';
import type { Logger } from '../../shared/logger';
import type { BatchOutcome } from '../../shared/wireTypes';
import type { ResolvedSpec } from '../../shared/spec';
import type { CheckedDisk } from '../storage/diskCheck';
import { phaseAfter, ProgressLine } from '../sysprep/progress';
import { abortReason } from '../sysprep/runner';
import { isTraceArtifact, unappliedField } from '../sysprep/toolWarnings';
import type { EventFields } from './EventLog';
import { FINAL, JobRecord, JobStateName } from './types';

export const TRANSITIONS: Readonly<Record<JobStateName, readonly JobStateName[]>> = {
  PENDING: ['RUNNING', 'CANCELLED', 'FAILED'],
  RUNNING: ['SUCCEEDED', 'INCOMPLETE', 'FAILED', 'CANCELLING'],
  CANCELLING: ['CANCELLED', 'FAILED', 'SUCCEEDED', 'INCOMPLETE'],
  SUCCEEDED: [],
  INCOMPLETE: [],
  FAILED: [],
  CANCELLED: [],
};

/** What a run needs besides the record; held only until the run ends (the params may be secret). */
export interface JobWork {
  spec: ResolvedSpec;
  disks: CheckedDisk[];
}

/** Where a job's changes go: the event log and the journal (JobManager). */
export interface JobSink {
  publish(job: JobRecord, event: EventFields): void;
  /** Saves the record without an event (the tool's pid). */
  save(job: JobRecord): void;
}

/** The run itself (executeJob), given the job's work and its abort signal. */
export type Runner = (job: AgentJob, work: JobWork, signal: AbortSignal) => Promise<void>;

/** One member of a batch as its run starts: what a Runner gets, kept for the batch's executor. */
export interface MemberRun {
  job: AgentJob;
  work: JobWork;
  signal: AbortSignal;
}

/**
 * The run of a batch (host-agent/batch/executeBatch.ts): one promise per member, in the
 * members' order, each settling when THAT member is done (a member's job ends as its own
 * promise says, not when the whole batch ends).
 */
export type BatchRunner = (batchId: string, members: MemberRun[]) => Promise<void>[];

export class AgentJob {
  private readonly controller = new AbortController();

  constructor(
    readonly record: JobRecord,
    private readonly sink: JobSink,
    private work?: JobWork,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get state(): JobStateName {
    return this.record.state;
  }

  get final(): boolean {
    return FINAL.has(this.record.state);
  }

  /** Announces a new job (its first event). */
  accepted(): void {
    this.sink.publish(this.record, this.fields('state', { message: 'job accepted' }));
  }

  /** PENDING -> RUNNING, the run, then its final state. Never throws. */
  async run(runner: Runner, logger: Logger): Promise<void> {
    if (this.state !== 'PENDING' || !this.work) return;
    this.record.startedAt = new Date().toISOString();
    this.record.progress = { ...this.record.progress!, phase: 'preparing', phaseSince: this.record.startedAt };
    this.transition('RUNNING', 'job started');
    const work = this.work;
    let error: SysprepError | undefined;
    try {
      await runner(this, work, this.controller.signal);
    } catch (err) {
      error = asSysprepError(err);
    } finally {
      this.work = undefined; // drop the params (secrets) as soon as they are not needed
    }
    if (!error) {
      const unapplied = (this.record.warnings ?? []).filter((w) => w.field);
      this.finish(unapplied.length ? 'INCOMPLETE' : 'SUCCEEDED');
      if (unapplied.length) logger.warn('job incomplete: requested work not applied', { fields: unapplied.map((w) => w.field) });
      else logger.info('job succeeded');
      return;
    }
    // A stopped run throws whatever its stop caused; the abort's reason says why.
    const reason = this.controller.signal.aborted ? abortReason(this.controller.signal) : error;
    this.finish(reason instanceof CancelledError ? 'CANCELLED' : 'FAILED', reason);
    logger.warn('job ended', { state: this.state, code: reason.code, error: reason.message });
  }

  /** Cancel: before the start it ends at once; while running the run is aborted with `reason`. */
  cancel(reason: CancelledError = new CancelledError()): void {
    if (this.state === 'PENDING') {
      this.work = undefined;
      this.finish('CANCELLED', new CancelledError('cancelled before it started'));
    } else if (this.state === 'RUNNING') {
      this.transition('CANCELLING', 'cancel requested');
      this.controller.abort(reason);
    }
  }

  /** Stops the run with this error (a lost lease): the job ends FAILED with it. */
  abort(reason: SysprepError): void {
    if (this.state === 'RUNNING' || this.state === 'CANCELLING') this.controller.abort(reason);
  }

  /** A job a dead agent left unfinished ends as its recovery says. */
  recovered(state: 'SUCCEEDED' | 'FAILED', error?: SysprepError): void {
    // Committed, but its warnings (journaled) said something asked for was not applied.
    const incomplete = state === 'SUCCEEDED' && (this.record.warnings ?? []).some((w) => w.field);
    this.finish(incomplete ? 'INCOMPLETE' : state, error);
  }

  /** The tool runs: the libguestfs appliance boots (the event also saves the tool's pid). */
  spawned(pid: number): void {
    this.record.toolPid = pid;
    this.enterPhase('starting-appliance');
  }

  /** A sparsify run measured what it freed (reported on the job when it succeeds). */
  sparsified(result: NonNullable<JobRecord['sparsify']>): void {
    this.record.sparsify = result;
    this.sink.save(this.record);
  }

  /** A batch member: how it runs (Job.batch), saved with the record (journal). */
  batchOutcome(outcome: BatchOutcome): void {
    this.record.batch = outcome;
    this.sink.save(this.record);
  }

  /**
   * A batch member whose batched attempt did not go through runs again alone: its steps,
   * progress and warnings start over (nothing of the batched attempt was committed).
   */
  retryingAlone(): void {
    const job = this.record;
    job.steps = [];
    job.warnings = [];
    job.progress = { ...job.progress!, done: 0, current: '' };
    this.enterPhase('preparing');
  }

  /** The tool succeeded and the overlays are about to be committed (the job's last phase). */
  committing(): void {
    this.enterPhase('committing');
  }

  onProgress(line: ProgressLine): void {
    const job = this.record;
    const phase = phaseAfter(job.progress?.phase, line);
    // An operation line carries the new phase in its own event.
    if (phase && line.kind !== 'operation') return this.enterPhase(phase);
    if (line.kind !== 'operation') return;
    const at = new Date().toISOString();
    const previous = job.steps.at(-1);
    if (previous) previous.state = 'done';
    job.steps.push({ operation: line.operation, state: 'running', at });
    job.progress = { ...job.progress!, done: job.steps.length - 1, current: line.operation, ...(phase ? { phase, phaseSince: at } : {}) };
    this.sink.publish(job, this.fields('operation', { operation: line.operation, message: `Performing "${line.operation}"` }));
  }

  /** A warning line of the run: kept on the record with what it says was not applied, and published. */
  onWarning(message: string): void {
    if (isTraceArtifact(message)) return;
    const job = this.record;
    const field = unappliedField(message, { params: job.paramKeys, operations: job.operations }) ?? '';
    const warning = { message, field };
    job.warnings = [...(job.warnings ?? []), warning];
    this.sink.publish(job, this.fields('warning', { message, warning }));
  }

  /** The run moved on (agent.proto Progress.phase); the tool is done once it commits. */
  private enterPhase(phase: JobPhase): void {
    const job = this.record;
    if (phase === 'committing') job.steps = endSteps(job.steps, 'done');
    job.progress = { ...job.progress!, phase, phaseSince: new Date().toISOString() };
    this.sink.publish(job, this.fields('phase', { message: `phase ${phase}` }));
  }

  private finish(state: JobStateName, error?: SysprepError): void {
    const job = this.record;
    this.assertAllowed(state);
    job.endedAt = new Date().toISOString();
    job.steps = endSteps(job.steps, stepEndOf(state));
    // A final job is in no phase; a succeeded (or incomplete) one ran all its operations.
    const { total } = job.progress!;
    job.progress = state === 'SUCCEEDED' || state === 'INCOMPLETE' ? { done: total, total, current: '', phase: '', phaseSince: '' } : { ...job.progress!, phase: '', phaseSince: '' };
    job.error = error
      ? { code: error.code, message: error.message, logPath: job.logPath, detailsJson: JSON.stringify(error.details) }
      : null;
    this.transition(state, error?.message ?? (state === 'INCOMPLETE' ? 'job incomplete: see its warnings' : job.sparsify ? `job succeeded: ${job.sparsify.bytesSaved} bytes freed` : 'job succeeded'));
  }

  private assertAllowed(to: JobStateName): void {
    if (!TRANSITIONS[this.record.state].includes(to)) throw new Error(`job ${this.record.id}: no transition ${this.record.state} -> ${to}`);
  }

  private transition(to: JobStateName, message: string): void {
    const job = this.record;
    this.assertAllowed(to);
    job.state = to;
    const sparsify = to === 'SUCCEEDED' && job.sparsify ? { sparsify: job.sparsify } : {};
    const batch = FINAL.has(to) && job.batch ? { batch: job.batch } : {};
    this.sink.publish(job, this.fields('state', { message, error: job.error, ...sparsify, ...batch }));
  }

  private fields(type: string, f: Partial<EventFields>): EventFields {
    const job = this.record;
    return { type, state: job.state, operation: '', progress: { ...job.progress! }, error: null, message: '', ...f };
  }
}
