// The run of one job, after validation and scheduling. Everything the run holds is
// taken through guarded() (storage/guarded.ts): acquired in this order, released in
// reverse however the run ends, the run's own error never hidden by a release error.
//  1. the leases of all its disks (sorted; a lost lease aborts the run);
//  2. last check before work: no disk in use (image lock probe), space for packages
//     (the agent's min_free_bytes_for_packages);
//  3. safe mode: a qcow2 overlay per disk, virt-sysprep on the overlays (discarded at
//     the end: after a commit they are empty);
//  4. secrets and scripts into 0600 files in the job's 0700 directory under secrets_dir
//     (storage/secretsDir.ts), argv built purely;
//  5. one virt-sysprep process for all disks, progress streamed;
//  6. safe mode: commit the overlays only if virt-sysprep succeeded, the run was not
//     aborted, and every lease is still this job's (an agent stopped past the lease
//     timeout may have lost them).
import { statfs } from 'node:fs/promises';
import { ConflictError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import { QemuImg } from '../../shared/tools/qemuImg';
import { Hypervisor } from '../hypervisor';
import { openedAs } from '../storage/diskCheck';
import { guarded } from '../storage/guarded';
import { LeaseManager } from '../storage/leases';
import { Overlays } from '../storage/overlays';
import { SecretsDir } from '../storage/secretsDir';
import { buildArgv } from '../sysprep/argv';
import { runSysprep } from '../sysprep/runner';
import { VirtSparsify } from '../tools/virtSparsify';
import { VirtSysprep } from '../tools/virtSysprep';
import type { AgentJob, JobWork } from './AgentJob';

export interface ExecutionDeps {
  leases: LeaseManager;
  overlays: Overlays;
  qemuImg: QemuImg;
  virtSysprep: VirtSysprep;
  /** The sparsify action's tool (executeSparsify.ts). */
  virtSparsify: VirtSparsify;
  hypervisor: Hypervisor;
  /** Private per-job directories for secret and script files. */
  secrets: SecretsDir;
  /** Pass `-v -x` to virt-sysprep. */
  trace: boolean;
  /** Free bytes a storage root needs before a job installs or updates packages there. */
  minFreeBytesForPackages: number;
  logger: Logger;
}

export function executeJob(deps: ExecutionDeps, job: AgentJob, work: JobWork, signal: AbortSignal): Promise<void> {
  const { id: jobId, record } = job;
  const logger = deps.logger.child({ jobId });
  const { disks, spec } = work;
  return guarded(logger, async (hold) => {
    const leases = await hold(
      'leases',
      () => deps.leases.acquireAll(disks, jobId, (err) => job.abort(err)),
      (held) => deps.leases.releaseAll(held),
    );
    await assertNotInUse(deps.qemuImg, disks);
    if (spec.params.install || spec.params.update) await assertFreeSpace(disks, deps.minFreeBytesForPackages);
    signal.throwIfAborted();

    const safe = record.mode === 'SAFE';
    const opened = disks.map(openedAs);
    const overlays = safe ? await hold('overlays', () => deps.overlays.create(jobId, opened), (o) => deps.overlays.discard(o)) : undefined;
    const targets = overlays?.disks ?? opened;
    const filesDir = deps.secrets.jobDir(jobId);
    const plan = buildArgv({ disks: targets, spec, dryRun: record.dryRun, filesDir, trace: deps.trace });
    await hold('private files', () => deps.secrets.write(jobId, plan.files), () => deps.secrets.remove(jobId));
    logger.info('virt-sysprep starting', { operations: spec.operations, disks: targets.length, safe, network: plan.network });

    await runSysprep(deps.virtSysprep, {
      argv: plan.argv,
      env: await deps.hypervisor.env(),
      logPath: record.logPath,
      secrets: plan.files.map((f) => f.content),
      timeoutMs: record.timeoutSec * 1000,
      signal,
      onProgress: (line) => job.onProgress(line),
      onSpawn: (pid) => job.spawned(pid),
    });
    signal.throwIfAborted();
    if (overlays && !record.dryRun) {
      await deps.leases.assertHeld(leases, jobId);
      job.committing();
      await deps.overlays.commit(overlays);
    }
  });
}

/** The lock-checked probe again, just before work: DiskInUseError (DISK_IN_USE) if a VM came up meanwhile. */
export async function assertNotInUse(qemuImg: QemuImg, disks: { real: string; format: string }[]): Promise<void> {
  for (const d of disks) await qemuImg.info(d.real, { format: d.format });
}

async function assertFreeSpace(disks: { root: string }[], minFree: number): Promise<void> {
  for (const root of new Set(disks.map((d) => d.root))) {
    const s = await statfs(root);
    const free = s.bavail * s.bsize;
    if (free < minFree) {
      throw new ConflictError('INSUFFICIENT_SPACE', `storage root ${root} has ${free} bytes free; installing packages needs at least ${minFree} (agent key min_free_bytes_for_packages)`, { root, free, needed: minFree });
    }
  }
}
