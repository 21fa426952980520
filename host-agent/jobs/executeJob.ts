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
//  5. one virt-sysprep process for all disks, progress streamed (skipped when the spec
//     selects no operation: Windows customisations alone); then, when the params hold
//     Windows customisations, one guestfish session on the same disks
//     (windows/guestfishPlan.ts) with its own files in the same private directory;
//  6. safe mode: commit the overlays only if virt-sysprep succeeded, the run was not
//     aborted, and every lease is still this job's (an agent stopped past the lease
//     timeout may have lost them).
import { statfs } from 'node:fs/promises';
import { SECRET_KEYS } from '../../shared/catalog/customizations';
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
import type { ProgressLine } from '../sysprep/progress';
import { runSysprep } from '../sysprep/runner';
import { VirtSparsify } from '../tools/virtSparsify';
import { VirtSysprep } from '../tools/virtSysprep';
import { Guestfish } from '../tools/guestfish';
import { buildGuestfishPlan, hasWindowsParams } from '../windows/guestfishPlan';
import type { AgentJob, JobWork } from './AgentJob';

export interface ExecutionDeps {
  leases: LeaseManager;
  overlays: Overlays;
  qemuImg: QemuImg;
  virtSysprep: VirtSysprep;
  guestfish: Guestfish;
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
    const plan = spec.operations.length ? buildArgv({ disks: targets, spec, dryRun: record.dryRun, filesDir, trace: deps.trace }) : undefined;
    const windows = hasWindowsParams(spec.params) ? buildGuestfishPlan({ disks: targets, params: spec.params, filesDir, trace: deps.trace }) : undefined;
    const files = [...(plan?.files ?? []), ...(windows?.files ?? [])];
    await hold('private files', () => deps.secrets.write(jobId, files), () => deps.secrets.remove(jobId));
    const secrets = [...files.map((f) => f.content), ...secretStrings(spec.params)];
    const env = await deps.hypervisor.env();
    const common = { env, logPath: record.logPath, secrets, timeoutMs: record.timeoutSec * 1000, signal, onProgress: (line: ProgressLine) => job.onProgress(line), onWarning: (message: string) => job.onWarning(message), onSpawn: (pid: number) => job.spawned(pid) };

    if (plan) {
      logger.info('virt-sysprep starting', { operations: spec.operations, disks: targets.length, safe, network: plan.network });
      await runSysprep(deps.virtSysprep, { argv: plan.argv, ...common });
      signal.throwIfAborted();
    }
    // guestfish has no dry run: a dry run plans (and so checks) the session and stops there.
    if (windows && !record.dryRun) {
      logger.info('guestfish starting (Windows customisations)', { writes: windows.writes, disks: targets.length, safe });
      await runSysprep(deps.guestfish, { argv: windows.argv, ...common });
      signal.throwIfAborted();
    }
    if (overlays && !record.dryRun) {
      await deps.leases.assertHeld(leases, jobId);
      job.committing();
      await deps.overlays.commit(overlays);
    }
  });
}

/** Secret param values that are plain strings (a password inside a rendered answer file): cut from the log as well. */
export function secretStrings(params: Record<string, unknown>): string[] {
  return [...SECRET_KEYS].map((k) => params[k]).filter((v): v is string => typeof v === 'string' && v.length > 0);
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
