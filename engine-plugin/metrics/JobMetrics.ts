// Job metrics from the job bus (JobBus: JobLifecycle publishes every change, this only
// listens, so no lifecycle code knows about metrics):
//  * a job's start is its first `running` state event (a bulk job's: its first child's);
//  * an operation runs from its `operation` event to the next one, or to the phase
//    `committing` (the tool is done); the last one of a run that failed or was cancelled
//    is not observed (it never ended);
//  * at a job's final state: the jobs counter by kind and state, and its duration when its
//    start is known (in memory, or the stored start of a job started before a restart);
//    the kind comes with a leaf's event, else (a bulk job, a leaf not followed here) it is read.
// Memory: one entry per job that runs now (not per queued job), dropped at its end.
import type { Counter, Histogram } from 'prom-client';
import { secondsBetween } from '../../shared/metrics';
import type { JobKind } from '../jobs/Job';
import { isFinal } from '../jobs/Job';
import type { JobBus, JobEventMessage } from '../jobs/JobBus';

/** What the metrics read of a job at its end (JobStore.kindOf). */
export type KindLookup = (jobId: string) => { kind: JobKind; startedAt?: string } | undefined;

export interface JobInstruments {
  jobs: Counter<'kind' | 'state'>;
  jobDuration: Histogram<'kind' | 'state'>;
  operationDuration: Histogram<'operation'>;
}

interface Running {
  startedAt: string;
  /** The operation running now and since when. */
  operation?: { name: string; at: string };
}

export class JobMetrics {
  private readonly running = new Map<string, Running>();
  private readonly unsubscribe: () => void;

  constructor(bus: JobBus, private readonly kindOf: KindLookup, private readonly m: JobInstruments) {
    this.unsubscribe = bus.onAny((e) => this.onEvent(e));
  }

  /** Jobs being followed now (for tests: it must drop to 0 when they end). */
  get followed(): number {
    return this.running.size;
  }

  stop(): void {
    this.unsubscribe();
  }

  private onEvent(e: JobEventMessage): void {
    if (e.type === 'state' && isFinal(e.state)) return this.ended(e);
    // A room's follow-up steps come as operations after the leaf's end: not followed then.
    if (isFinal(e.state)) return;
    let run = this.running.get(e.jobId);
    if (!run && e.state === 'running') this.running.set(e.jobId, (run = { startedAt: e.at }));
    if (!run) return;
    if (e.type === 'operation' && e.operation && e.operation !== run.operation?.name) {
      this.endOperation(run, e.at);
      run.operation = { name: e.operation, at: e.at };
    }
    if (e.progress?.phase === 'committing') this.endOperation(run, e.at);
  }

  private ended(e: JobEventMessage): void {
    const run = this.running.get(e.jobId);
    this.running.delete(e.jobId);
    if (run && (e.state === 'succeeded' || e.state === 'incomplete')) this.endOperation(run, e.at);
    // A leaf's event names its kind; its start is known here when it ran in this process.
    const job = e.kind && run ? { kind: e.kind, startedAt: run.startedAt } : this.kindOf(e.jobId);
    if (!job) return;
    const labels = { kind: job.kind, state: e.state };
    this.m.jobs.inc(labels);
    const seconds = secondsBetween(run?.startedAt ?? job.startedAt, e.at);
    if (seconds !== undefined) this.m.jobDuration.observe(labels, seconds);
  }

  private endOperation(run: Running, at: string): void {
    if (!run.operation) return;
    const seconds = secondsBetween(run.operation.at, at);
    if (seconds !== undefined) this.m.operationDuration.observe({ operation: run.operation.name }, seconds);
    run.operation = undefined;
  }
}
