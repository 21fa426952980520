// Log retention on the agent (log_retention_days): a job's trace log (~125 KB with
// tool_trace) is written once and read by the engine while the job is recent; after
// that it only fills log_dir. At start and every hour:
//   1. `<log_dir>/<job>.log` and `<log_dir>/batches/<batch>.log` last written before the
//      cutoff are deleted, except the log of a job that is not final and the session log
//      of a batch with a member that is not final (a pending job's log may be old);
//   2. the final jobs that ended before the cutoff are forgotten (JobManager.forgetEnded):
//      their journal record and events go with their log.
// Only files named `*.log` directly in those two directories are looked at.
import { readdir, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from '../../shared/logger';
import { Periodic } from '../../shared/periodic';

export const LOG_PRUNE_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What the pruner needs of the job manager. */
export interface PrunableJobs {
  liveJobIds(): Set<string>;
  liveBatchIds(): Set<string>;
  forgetEnded(cutoff: string): string[];
}

export interface LogPruneResult {
  logs: number;
  batchLogs: number;
  records: number;
}

export class LogPruner {
  private readonly periodic = new Periodic(
    async () => {
      const r = await this.prune();
      if (r.logs || r.batchLogs || r.records) this.log.info('pruned old job logs', { ...r, olderThanDays: this.opts.retentionDays });
    },
    (err) => this.log.error('log retention failed; tried again at the next interval', { error: err instanceof Error ? err.message : String(err) }),
  );

  constructor(
    private readonly opts: { logDir: string; retentionDays: number },
    private readonly jobs: PrunableJobs,
    private readonly log: Logger,
  ) {}

  /** Prunes now and every `intervalMs`; nothing with log_retention_days = 0. */
  start(intervalMs = LOG_PRUNE_INTERVAL_MS): void {
    if (this.opts.retentionDays) this.periodic.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.periodic.stop();
  }

  async prune(now = new Date()): Promise<LogPruneResult> {
    if (!this.opts.retentionDays) return { logs: 0, batchLogs: 0, records: 0 };
    const cutoff = now.getTime() - this.opts.retentionDays * DAY_MS;
    const logs = await this.pruneDir(this.opts.logDir, this.jobs.liveJobIds(), cutoff);
    const batchLogs = await this.pruneDir(path.join(this.opts.logDir, 'batches'), this.jobs.liveBatchIds(), cutoff);
    const records = this.jobs.forgetEnded(new Date(cutoff).toISOString()).length;
    return { logs, batchLogs, records };
  }

  /** Deletes `<dir>/<id>.log` files last written before `cutoff` whose id is not live. */
  private async pruneDir(dir: string, live: ReadonlySet<string>, cutoff: number): Promise<number> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let n = 0;
    for (const name of names) {
      if (!name.endsWith('.log') || live.has(name.slice(0, -4))) continue;
      const file = path.join(dir, name);
      try {
        const st = await stat(file);
        if (!st.isFile() || st.mtimeMs >= cutoff) continue;
        await unlink(file);
        n++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('an old log could not be removed', { file, error: String(err) });
      }
    }
    return n;
  }
}
