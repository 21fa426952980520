// Watching a job: read its Server-Sent Events (a `snapshot`, then `operation` and
// `state` events until the final state), feed them to a JobProgress and a view, and
// return the final job record. The stream may break (engine restart, proxy timeout):
// then the job is read once; if it is not over, the watch reconnects (the new snapshot
// brings the view up to date without repeating lines) with a bounded number of tries.
import type { ApiClient } from './ApiClient';
import { ApiError, ConnectionError } from './exitCodes';
import { isFinalState, JobEventData, JobLike, JobProgress } from './JobProgress';
import type { JobView } from './JobView';

export interface WatchOptions {
  signal?: AbortSignal;
  /** Reconnections in a row without any event before giving up. */
  retries?: number;
  retryDelayMs?: number;
}

export async function watchJob(client: ApiClient, jobId: string, view: JobView, opts: WatchOptions = {}): Promise<JobLike> {
  // A short id (a unique prefix, docs/api.md) names the job until its snapshot gives the
  // full id, which its events carry.
  let progress = new JobProgress(jobId);
  const retries = opts.retries ?? 5;
  let failures = 0;
  let lastError: Error | undefined;
  for (;;) {
    try {
      for await (const ev of client.events(jobId, opts.signal)) {
        failures = 0;
        if (ev.event === 'snapshot') {
          const job = JSON.parse(ev.data) as JobLike;
          if (job.id !== progress.jobId) progress = new JobProgress(job.id);
          view.update(progress.snapshot(job), progress);
        } else if (ev.event === 'operation' || ev.event === 'state' || ev.event === 'warning') view.update(progress.event(JSON.parse(ev.data) as JobEventData), progress);
        if (progress.final) break;
      }
    } catch (err) {
      if (opts.signal?.aborted || err instanceof ApiError) throw err;
      lastError = err as Error;
    }
    if (progress.final) break;
    const job = await client.get<JobLike>(`/jobs/${encodeURIComponent(jobId)}`);
    if (isFinalState(job.state)) break;
    if (++failures > retries) throw new ConnectionError(`lost the event stream of job ${jobId}${lastError ? `: ${lastError.message}` : ''}`);
    await sleep(opts.retryDelayMs ?? 1000, opts.signal);
  }
  // The full record: every child with its error, and the final progress.
  const job = await client.get<JobLike>(`/jobs/${encodeURIComponent(jobId)}`);
  view.update(progress.snapshot(job), progress);
  view.finish(job, progress);
  return job;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}
