// Every job's events, in order, and their delivery to watchers (WatchJob, WatchJobs).
// Per job, `seq` starts at 1 and has no gap; a job's stream ends with its final state
// event. Watchers replay what they missed after a cursor and then follow live events;
// nothing falls between the two because live events are queued from the moment of
// subscription. Storing them on disk is the journal's (JobManager wires the two).
import type { JobEventRecord, JobStateName } from './types';
import { FINAL } from './types';

/** What a job says about itself; the log adds jobId, seq and the time. */
export type EventFields = Omit<JobEventRecord, 'jobId' | 'seq' | 'at'>;

const isFinalEvent = (e: JobEventRecord) => e.type === 'state' && FINAL.has(e.state);

export class EventLog {
  private readonly byJob = new Map<string, JobEventRecord[]>();
  /** Jobs whose stream has ended (a final state), even if the journal lost that event. */
  private readonly ended = new Set<string>();
  private readonly jobListeners = new Map<string, Set<() => void>>();
  private readonly everyEvent = new Set<(e: JobEventRecord) => void>();

  /** A job's events as the journal kept them (agent start). */
  restore(jobId: string, events: JobEventRecord[], state: JobStateName): void {
    this.byJob.set(jobId, events);
    if (FINAL.has(state)) this.ended.add(jobId);
  }

  append(jobId: string, fields: EventFields): JobEventRecord {
    let events = this.byJob.get(jobId);
    if (!events) this.byJob.set(jobId, (events = []));
    const event: JobEventRecord = { jobId, seq: events.length + 1, at: new Date().toISOString(), ...fields };
    events.push(event);
    if (isFinalEvent(event)) this.ended.add(jobId);
    this.jobListeners.get(jobId)?.forEach((notify) => notify());
    this.everyEvent.forEach((deliver) => deliver(event));
    return event;
  }

  /** Retention: an ended job's events (nobody watches them: its stream has ended). */
  forget(jobId: string): void {
    this.byJob.delete(jobId);
    this.ended.delete(jobId);
  }

  /** Every event appended from now on, as it is appended (the metrics); returns the unsubscribe. */
  onEvent(listener: (e: JobEventRecord) => void): () => void {
    this.everyEvent.add(listener);
    return () => this.everyEvent.delete(listener);
  }

  count(jobId: string): number {
    return this.byJob.get(jobId)?.length ?? 0;
  }

  /** Past events with seq > afterSeq, then live ones, until the final state (or `signal`). */
  async *watch(jobId: string, afterSeq = 0, signal?: AbortSignal): AsyncGenerator<JobEventRecord> {
    const events = this.byJob.get(jobId) ?? [];
    let next = afterSeq;
    let wake: (() => void) | undefined;
    const notify = () => wake?.();
    let listeners = this.jobListeners.get(jobId);
    if (!listeners) this.jobListeners.set(jobId, (listeners = new Set()));
    listeners.add(notify);
    signal?.addEventListener('abort', notify);
    try {
      for (;;) {
        const current = this.byJob.get(jobId) ?? events;
        while (next < current.length) {
          const event = current[next++];
          yield event;
          if (isFinalEvent(event)) return;
        }
        if (this.ended.has(jobId) || signal?.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      listeners.delete(notify);
      if (listeners.size === 0) this.jobListeners.delete(jobId);
      signal?.removeEventListener('abort', notify);
    }
  }

  /**
   * Many jobs on one stream: a "watching" marker once subscribed, then the events after
   * each cursor (or "missing" for a job this log does not have), then every job's live
   * events, until `signal` aborts.
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
        const events = this.byJob.get(c.jobId);
        if (!events) {
          replay.push(marker('missing', c.jobId));
          continue;
        }
        replay.push(...events.slice(c.afterSeq ?? 0));
        replayed.set(c.jobId, events.length);
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
}
