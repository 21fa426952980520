// Safe mode: virt-sysprep works on a qcow2 overlay per disk; the overlays are
// committed into the disks only when the run succeeded, and discarded otherwise, so a
// failed, cancelled or crashed job leaves every disk byte-identical.
import { mkdir, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { JobFailure } from '../../shared/errors';
import { QemuImg } from '../../shared/tools/qemuImg';

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
