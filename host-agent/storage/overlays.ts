// Safe mode: virt-sysprep works on a qcow2 overlay per disk; the overlays are
// committed into the disks only when the run succeeded, and discarded otherwise, so a
// failed, cancelled or crashed job leaves every disk byte-identical.
//
// The commit itself rolls forward: before the first `qemu-img commit` a COMMITTING
// marker (fsynced) goes into the job's overlay directory. An agent that dies during the
// commit leaves it there; its successor commits every overlay again before anything
// else (a committed overlay is empty, so committing it again writes nothing) and the
// disks end complete, never half-written.
//
// `qemu-img commit` writes the disk's active layer only: the internal snapshots in the
// disk's snapshot table (libvirt's, docs/libvirt.md 6) stay as they were
// (test/e2e/libvirt/libvirtSnapshots.test.ts).
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { JobFailure } from '../../shared/errors';
import { QemuImg } from '../../shared/tools/qemuImg';

const COMMITTING = 'COMMITTING';

export interface OverlaySet {
  dir: string;
  disks: { path: string; format: 'qcow2' }[];
}

export class Overlays {
  constructor(private readonly qemuImg: QemuImg, private readonly root: string) {}

  async create(jobId: string, disks: { path: string; format: string }[]): Promise<OverlaySet> {
    const dir = path.join(this.root, jobId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const out: OverlaySet = { dir, disks: [] };
    for (const [i, d] of disks.entries()) {
      const overlay = path.join(dir, `disk${i}.qcow2`);
      try {
        await this.qemuImg.createOverlay(d.path, d.format, overlay);
      } catch (err) {
        await this.discard(out);
        throw new JobFailure('OVERLAY_FAILED', `cannot create the safe-mode overlay of ${d.path}: ${(err as Error).message}`, { disk: d.path });
      }
      out.disks.push({ path: overlay, format: 'qcow2' });
    }
    return out;
  }

  async commit(set: OverlaySet): Promise<void> {
    const marker = await open(path.join(set.dir, COMMITTING), 'w', 0o600);
    try {
      await marker.writeFile(JSON.stringify(set.disks.map((d) => d.path)));
      await marker.sync();
    } finally {
      await marker.close();
    }
    await this.commitAll(set);
  }

  /**
   * Start-up, before leases are freed: finishes the commits a dead agent left half done.
   * Returns, per job, undefined when its disks are complete, or the commit's error.
   */
  async finishCommits(): Promise<Map<string, JobFailure | undefined>> {
    const done = new Map<string, JobFailure | undefined>();
    for (const jobId of await readdir(this.root).catch(() => [] as string[])) {
      const dir = path.join(this.root, jobId);
      const listed = await readFile(path.join(dir, COMMITTING), 'utf8').catch(() => undefined);
      if (listed === undefined) continue;
      try {
        const disks = (JSON.parse(listed) as string[]).map((p) => ({ path: p, format: 'qcow2' as const }));
        await this.commitAll({ dir, disks });
        done.set(jobId, undefined);
      } catch (err) {
        done.set(jobId, err instanceof JobFailure ? err : new JobFailure('COMMIT_FAILED', `the commit a stopped agent left unfinished cannot be completed: ${(err as Error).message}`));
      }
      await this.discard(jobId);
    }
    return done;
  }

  private async commitAll(set: OverlaySet): Promise<void> {
    for (const d of set.disks) {
      try {
        await this.qemuImg.commit(d.path);
      } catch (err) {
        throw new JobFailure('COMMIT_FAILED', `qemu-img commit of ${d.path} failed: ${(err as Error).message}`, { overlay: d.path });
      }
    }
  }

  async discard(set: OverlaySet | string): Promise<void> {
    await rm(typeof set === 'string' ? path.join(this.root, set) : set.dir, { recursive: true, force: true });
  }

  /** Removes overlay directories no live job owns (left by a crash). */
  async removeOrphans(live: ReadonlySet<string>): Promise<string[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    const orphans = names.filter((n) => !live.has(n));
    await Promise.all(orphans.map((n) => this.discard(n)));
    return orphans;
  }
}
