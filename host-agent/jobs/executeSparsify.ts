// The run of a sparsify job (StartSysprepRequest.action "sparsify"): virt-sparsify
// --in-place on each disk, one after the other, under the same rules as a sysprep run
// (decision note: in place, not zero-free-space + convert + replace):
//  1. the leases of all its disks (guarded(): released in reverse however the run ends;
//     a lost lease aborts the run);
//  2. last check before work: no disk in use (the image lock probe);
//  3. the allocated bytes of each disk (qemu-img actual-size) before;
//  4. per disk, virt-sparsify --in-place (discard of the guest's free blocks through
//     libguestfs: the disk's file, inode and backing chain stay; no copy, so no extra
//     space is needed), its output in the job's log, the disk's step as progress;
//  5. the allocated bytes after; the job records before, after and saved.
// A dry run measures only. There is no overlay: in place is the only mode (trimming free
// blocks leaves the guest's files as they were, so a stop halfway leaves a consistent
// guest with some blocks freed).
import { openedAs } from '../storage/diskCheck';
import { guarded } from '../storage/guarded';
import { sparsifyLineParser } from '../sysprep/progress';
import { runSysprep } from '../sysprep/runner';
import { sparsifyArgv } from '../tools/virtSparsify';
import type { AgentJob, JobWork } from './AgentJob';
import { assertNotInUse, ExecutionDeps } from './executeJob';

/** The step name of disk `i` (the job's operations). */
export const sparsifyStep = (i: number): string => `sparsify-disk${i}`;

export function executeSparsify(deps: ExecutionDeps, job: AgentJob, work: JobWork, signal: AbortSignal): Promise<void> {
  const { id: jobId, record } = job;
  const logger = deps.logger.child({ jobId, action: 'sparsify' });
  const { disks } = work;
  return guarded(logger, async (hold) => {
    await hold(
      'leases',
      () => deps.leases.acquireAll(disks, jobId, (err) => job.abort(err)),
      (held) => deps.leases.releaseAll(held),
    );
    await assertNotInUse(deps.qemuImg, disks);
    signal.throwIfAborted();
    const opened = disks.map(openedAs);
    const allocated = async () => {
      let sum = 0;
      for (const d of opened) sum += (await deps.qemuImg.info(d.path, { format: d.format })).actualSize;
      return sum;
    };
    const before = await allocated();
    logger.info('virt-sparsify starting', { disks: opened.length, allocatedBefore: before, dryRun: record.dryRun });
    if (!record.dryRun) {
      const env = await deps.hypervisor.env();
      for (const [i, d] of opened.entries()) {
        await runSysprep(deps.virtSparsify, {
          argv: sparsifyArgv(d, deps.trace),
          env,
          logPath: record.logPath,
          timeoutMs: record.timeoutSec * 1000,
          signal,
          parseStdout: sparsifyLineParser(sparsifyStep(i)),
          onProgress: (line) => job.onProgress(line),
          onSpawn: (pid) => job.spawned(pid),
        });
        signal.throwIfAborted();
      }
    }
    const after = await allocated();
    if (after > before && !record.dryRun) logger.warn('sparsify allocated more than before', { before, after });
    job.sparsified({ allocatedBefore: String(before), allocatedAfter: String(after), bytesSaved: String(Math.max(0, before - after)) });
  });
}
