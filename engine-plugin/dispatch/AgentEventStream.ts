// One WatchJobs stream per agent carries the events of every job the engine follows
// there: one HTTP/2 stream per agent instead of one per job.
//
// Per job the agent numbers its events 1, 2, 3...: duplicates are dropped, and a gap,
// a reconnect or a job that already had events when it was followed re-subscribes with
// a cursor per followed job, so the agent replays what was missed. A job the agent
// answers "missing" for is reported only if StartSysprep had returned before that
// subscription was asked for (otherwise the job may simply not exist yet). Out of reach
// longer than the lost timeout, the followers fail AGENT_LOST.
import type { AgentClient } from '../../shared/agentClient';
import { asSysprepError, JobFailure, NotFoundError, SysprepError, UnavailableError } from '../../shared/errors';
import type { JobEvent } from '../../shared/wireTypes';

export interface Follower {
  /** The job's next event (in order, each once). */
  event(ev: JobEvent): void;
  /** The stream cannot deliver this job's events: AGENT_LOST, JOB_NOT_FOUND or another failure. */
  failed(err: SysprepError): void;
}

export interface AgentEventStreamOptions {
  hostId: string;
  lostTimeoutMs: number;
  /** A subscription found the agent unreachable. */
  onUnreachable(err: SysprepError): void;
  retryMs?: number;
  /** Closes the stream after this long without a followed job. */
  idleCloseMs?: number;
}

interface Followed {
  seq: number;
  /** StartSysprep returned (or the job was known to exist when followed). */
  confirmed: boolean;
  follower: Follower;
}

/**
 * The agent sends progress events at most this often (final states at once, so a freed
 * slot never waits): under load one message, and one wake-up here, carries many events.
 */
const BATCH_MS = 250;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export class AgentEventStream {
  private readonly followed = new Map<string, Followed>();
  private waiters: { resolve(): void; reject(e: Error): void }[] = [];
  /** The subscription being asked for or running, and the jobs its cursors named. */
  private current?: { abort: AbortController; cursors: Set<string> };
  private live = false;
  private running = false;
  private lostSince?: number;
  private idleTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly client: AgentClient,
    private readonly opts: AgentEventStreamOptions,
  ) {}

  /**
   * Follows a job from `afterSeq` until the returned function is called. `exists`: the
   * job is already on the agent (resumed, re-attached), so its past events are replayed;
   * otherwise call confirm() when StartSysprep returns.
   */
  follow(jobId: string, afterSeq: number, follower: Follower, exists: boolean): () => void {
    clearTimeout(this.idleTimer);
    const entry: Followed = { seq: afterSeq, confirmed: exists, follower };
    this.followed.set(jobId, entry);
    if (exists && this.current && !this.current.cursors.has(jobId)) this.resubscribe();
    this.ensureRunning();
    return () => {
      if (this.followed.get(jobId) !== entry) return;
      this.followed.delete(jobId);
      if (this.followed.size === 0) {
        clearTimeout(this.idleTimer);
        this.idleTimer = setTimeout(() => this.current?.abort.abort(), this.opts.idleCloseMs ?? 10_000).unref();
      }
    };
  }

  /** StartSysprep returned: the job exists on the agent. */
  confirm(jobId: string): void {
    const f = this.followed.get(jobId);
    if (f) f.confirmed = true;
  }

  /** Resolves once a subscription is live: every event of a job created after it arrives. */
  ready(): Promise<void> {
    if (this.live) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.ensureRunning();
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.current?.abort.abort();
    this.settleWaiters(new JobFailure('AGENT_CLOSED', `the engine stopped following host agent ${this.opts.hostId}`));
  }

  // ---------------------------------------------------------------------------------

  private resubscribe(): void {
    this.current?.abort.abort();
  }

  private ensureRunning(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.loop().finally(() => {
      this.running = false;
      // A follower or waiter that came while the loop was ending.
      if (!this.closed && (this.followed.size || this.waiters.length)) this.ensureRunning();
    });
  }

  private async loop(): Promise<void> {
    while (!this.closed && (this.followed.size > 0 || this.waiters.length > 0)) {
      const abort = new AbortController();
      // "missing" is believed only for jobs confirmed before this request was made.
      const confirmed = new Set<string>();
      const cursors = [...this.followed].map(([jobId, f]) => {
        if (f.confirmed) confirmed.add(jobId);
        return { jobId, afterSeq: f.seq };
      });
      this.current = { abort, cursors: new Set(cursors.map((c) => c.jobId)) };
      let failure: SysprepError | undefined;
      try {
        for await (const batch of this.client.watchJobs(cursors, abort.signal, BATCH_MS)) {
          for (const ev of batch.events) {
            if (abort.signal.aborted) break;
            this.deliver(ev, confirmed);
          }
        }
        if (!abort.signal.aborted) failure = new JobFailure('STREAM_ENDED', `host agent ${this.opts.hostId} ended its event stream`);
      } catch (err) {
        const e = asSysprepError(err);
        // Cancelled by the agent, not by us: it stopped or crashed, as good as out of reach.
        failure = e.kind === 'cancelled' ? new UnavailableError('AGENT_UNAVAILABLE', `host agent ${this.opts.hostId} dropped the event stream: ${e.message}`) : e;
      } finally {
        this.live = false;
        this.current = undefined;
      }
      if (failure) {
        this.onFailure(failure);
        await sleep(this.opts.retryMs ?? 1000);
      }
    }
  }

  private deliver(ev: JobEvent, confirmed: Set<string>): void {
    if (ev.type === 'watching') {
      this.live = true;
      this.lostSince = undefined;
      this.settleWaiters();
      return;
    }
    const f = this.followed.get(ev.jobId);
    if (!f) return; // not ours (another engine, a CLI)
    if (ev.type === 'missing') {
      if (confirmed.has(ev.jobId)) {
        this.followed.delete(ev.jobId);
        f.follower.failed(new NotFoundError('JOB_NOT_FOUND', `host agent ${this.opts.hostId} has no job ${ev.jobId}`, { jobId: ev.jobId }));
      }
      return;
    }
    if (ev.seq <= f.seq) return;
    if (ev.seq > f.seq + 1) return this.resubscribe(); // a gap: have it replayed
    f.seq = ev.seq;
    f.follower.event(ev);
  }

  private onFailure(err: SysprepError): void {
    this.settleWaiters(err);
    if (err.kind !== 'unavailable') {
      this.failFollowers(err);
      return;
    }
    this.opts.onUnreachable(err);
    this.lostSince ??= Date.now();
    if (Date.now() - this.lostSince > this.opts.lostTimeoutMs) {
      const seconds = Math.round(this.opts.lostTimeoutMs / 1000);
      this.failFollowers(new JobFailure('AGENT_LOST', `host agent ${this.opts.hostId} was out of reach for ${seconds} s while it ran this job`, { hostId: this.opts.hostId }));
    }
  }

  /** Fails the followers whose jobs the agent has (the others wait on StartSysprep). */
  private failFollowers(err: SysprepError): void {
    for (const [jobId, f] of [...this.followed]) {
      if (!f.confirmed) continue;
      this.followed.delete(jobId);
      f.follower.failed(err);
    }
  }

  private settleWaiters(err?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) (err ? w.reject(err) : w.resolve());
  }
}
