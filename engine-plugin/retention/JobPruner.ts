// Job retention ([engine] job_retention_days): ended jobs older than that are deleted,
// at start and every hour, so engine.db does not grow with every reset for ever.
//   1. the oldest top-level jobs that ended before the cutoff (JobStore.endedBefore): a
//      bulk job only once it has ended and none of its children is active; a child
//      never on its own, it goes with its parent; a job still pending, running or
//      cancelling never;
//   2. deleted in transactions of at most BATCH_ROWS rows (JobStore.deleteEnded), a
//      bulk job's children before the job itself, giving way to I/O between two: a
//      10,000-VM pool's records go in twenty short transactions, not one the API
//      would wait for.
// The store is the only place that knows the tables; this module knows when and how much.
import { setImmediate as giveWay } from 'node:timers/promises';
import { inject, injectable } from 'tsyringe';
import { Periodic } from '../../shared/periodic';
import { EngineConfig } from '../config';
import { JobStore } from '../jobs/JobStore';
import { Logger } from '../logger';

export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** Rows per transaction: a few milliseconds of work on SQLite. */
export const BATCH_ROWS = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface PruneResult {
  /** Jobs deleted (a bulk job counts once). */
  jobs: number;
  /** Rows deleted (a bulk job and each of its children). */
  rows: number;
}

@injectable()
export class JobPruner {
  private readonly periodic = new Periodic(
    async () => {
      const r = await this.prune();
      if (r.rows) this.log.info('pruned ended jobs', { ...r, olderThanDays: this.config.jobRetentionDays });
    },
    (err) => this.log.error('job retention failed; tried again at the next interval', { error: err instanceof Error ? err.message : String(err) }),
  );
  private stopped = false;

  constructor(
    @inject(JobStore) private readonly store: JobStore,
    @inject(EngineConfig) private readonly config: Pick<EngineConfig, 'jobRetentionDays'>,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** Prunes now and every `intervalMs`; nothing with job_retention_days = 0. */
  start(intervalMs = PRUNE_INTERVAL_MS): void {
    if (this.config.jobRetentionDays) this.periodic.start(intervalMs);
  }

  /** Stops the timer and waits for a prune under way (its current batch commits, no more follow). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.periodic.stop();
  }

  /** One pass: every job that ended more than job_retention_days before `now`. */
  async prune(now = new Date(), batchRows = BATCH_ROWS): Promise<PruneResult> {
    const done: PruneResult = { jobs: 0, rows: 0 };
    if (!this.config.jobRetentionDays) return done;
    const cutoff = new Date(now.getTime() - this.config.jobRetentionDays * DAY_MS).toISOString();
    for (let ids = this.store.endedBefore(cutoff, batchRows); ids.length && !this.stopped; ids = this.store.endedBefore(cutoff, batchRows)) {
      while (ids.length && !this.stopped) {
        const r = this.store.deleteEnded(ids, cutoff, batchRows);
        done.rows += r.rows;
        done.jobs += r.jobs;
        ids = r.rest;
        await giveWay();
      }
    }
    return done;
  }
}
