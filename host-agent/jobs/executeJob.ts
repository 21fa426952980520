// The run of one job, after validation and scheduling:
//  1. take the leases of all its disks (sorted; released in reverse at the end);
//  2. last check before work: no disk in use (image lock probe), space for packages;
//  3. safe mode: a qcow2 overlay per disk, virt-sysprep on the overlays;
//  4. secrets and scripts into 0600 files in the job's 0700 directory under secrets_dir
//     (storage/secretsDir.ts), argv built purely;
//  5. one virt-sysprep process for all disks, progress streamed;
//  6. safe mode: commit the overlays only if virt-sysprep succeeded and every lease is
//     still this job's (an agent stopped past the lease timeout may have lost them);
//  7. always: discard overlays, remove the secret files, release the leases, never
//     hiding the run's own error behind a cleanup error.
import { statfs } from 'node:fs/promises';
import { ConflictError, SysprepError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { ResolvedSpec } from '../../shared/spec';
import { Hypervisor } from '../hypervisor';
import { ConfinedPath } from '../storage/pathGuard';
import { LeaseManager } from '../storage/leases';
import { Overlays, OverlaySet } from '../storage/overlays';
import { SecretsDir } from '../storage/secretsDir';
import { buildArgv } from '../sysprep/argv';
import { ProgressLine } from '../sysprep/progress';
import { runSysprep } from '../sysprep/runner';
import { QemuImg } from '../../shared/tools/qemuImg';
import { VirtSysprep } from '../tools/virtSysprep';

export interface ExecutionDeps {
  leases: LeaseManager;
  overlays: Overlays;
  qemuImg: QemuImg;
  virtSysprep: VirtSysprep;
  hypervisor: Hypervisor;
  /** Private per-job directories for secret and script files. */
  secrets: SecretsDir;
  /** Pass `-v -x` to virt-sysprep. */
  trace: boolean;
}

export interface Execution {
  jobId: string;
  disks: (ConfinedPath & { format: string })[];
  spec: ResolvedSpec;
  safe: boolean;
  dryRun: boolean;
  timeoutMs: number;
  logPath: string;
  signal: AbortSignal;
  /** Aborts the run with this error (lease lost). */
  abort(err: SysprepError): void;
  onProgress(line: ProgressLine): void;
  onSpawn(pid: number): void;
  /** The tool succeeded and the overlays are about to be committed (the job's last phase). */
  onCommit?(): void;
  logger: Logger;
}

/** Free space wanted on a storage root before installing or updating packages. */
export const MIN_FREE_BYTES_FOR_PACKAGES = 1 << 30;

export async function executeJob(deps: ExecutionDeps, ex: Execution): Promise<void> {
  const leases = await deps.leases.acquireAll(ex.disks, ex.jobId, (err) => ex.abort(err));
  let overlays: OverlaySet | undefined;
  const filesDir = deps.secrets.jobDir(ex.jobId);
  let succeeded = false;
  try {
    await assertNotInUse(deps.qemuImg, ex.disks);
    if (ex.spec.params.install || ex.spec.params.update) await assertFreeSpace(ex.disks);
    ex.signal.throwIfAborted();

    let targets = ex.disks.map((d) => ({ path: d.real, format: d.format }));
    if (ex.safe) {
      overlays = await deps.overlays.create(ex.jobId, targets);
      targets = overlays.disks;
    }
    const plan = buildArgv({ disks: targets, spec: ex.spec, dryRun: ex.dryRun, filesDir, trace: deps.trace });
    await deps.secrets.write(ex.jobId, plan.files);
    ex.logger.info('virt-sysprep starting', { operations: ex.spec.operations, disks: targets.length, safe: ex.safe, network: plan.network });

    await runSysprep(deps.virtSysprep, {
      argv: plan.argv,
      env: await deps.hypervisor.env(),
      logPath: ex.logPath,
      secrets: plan.files.map((f) => f.content),
      timeoutMs: ex.timeoutMs,
      signal: ex.signal,
      onProgress: ex.onProgress,
      onSpawn: ex.onSpawn,
    });
    ex.signal.throwIfAborted();
    if (overlays && !ex.dryRun) {
      await deps.leases.assertHeld(leases, ex.jobId);
      ex.onCommit?.();
      await deps.overlays.commit(overlays);
    }
    succeeded = true;
  } finally {
    const cleanups = [
      () => deps.secrets.remove(ex.jobId),
      () => (overlays ? deps.overlays.discard(overlays) : Promise.resolve()),
      () => deps.leases.releaseAll(leases),
    ];
    let cleanupError: unknown;
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (err) {
        ex.logger.error('cleanup failed', { error: String(err) });
        cleanupError ??= err;
      }
    }
    // Never hide the run's own error: a cleanup error surfaces only after a success.
    if (succeeded && cleanupError) throw cleanupError;
  }
}

/** The lock-checked probe again, just before work: DiskInUseError (DISK_IN_USE) if a VM came up meanwhile. */
export async function assertNotInUse(qemuImg: QemuImg, disks: { real: string; format: string }[]): Promise<void> {
  for (const d of disks) await qemuImg.info(d.real, { format: d.format });
}

async function assertFreeSpace(disks: { root: string }[]): Promise<void> {
  for (const root of new Set(disks.map((d) => d.root))) {
    const s = await statfs(root);
    const free = s.bavail * s.bsize;
    if (free < MIN_FREE_BYTES_FOR_PACKAGES) {
      throw new ConflictError('INSUFFICIENT_SPACE', `storage root ${root} has ${free} bytes free; installing packages needs at least ${MIN_FREE_BYTES_FOR_PACKAGES}`, { root, free });
    }
  }
}
