// A job's log for GetJobLog: the file its run wrote (<log_dir>/<job>.log, the tool's
// -v -x trace), read as it is now, in chunks. The path is the job record's own, never one
// from the request, and the text was redacted line by line before it was written
// (sysprep/traceRedaction.ts): what is on disk is what may be shown.
import { createReadStream } from 'node:fs';
import { NotFoundError } from '../../shared/errors';
import type { JobRecord } from './types';

/** Bytes per LogChunk: large enough for few messages, far below gRPC's 4 MiB limit. */
export const LOG_CHUNK_BYTES = 64 * 1024;

/**
 * The log's bytes. A job that never spawned the tool (pending, or failed before it: a
 * lease held, a disk in use) has no file yet: nothing is yielded. A job that did and whose
 * file is gone (removed by hand, rotated away) fails LOG_NOT_FOUND.
 */
export async function* readJobLog(job: Pick<JobRecord, 'id' | 'logPath' | 'toolPid'>, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const stream = createReadStream(job.logPath, { highWaterMark: LOG_CHUNK_BYTES, signal });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    if (signal?.aborted) return;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (job.toolPid) throw new NotFoundError('LOG_NOT_FOUND', `the log of job ${job.id} is no longer on this host (${job.logPath})`, { jobId: job.id });
  } finally {
    stream.destroy();
  }
}
