// How a clone is held until its automatic reset ends, so that nobody can start it first
// (not even `virsh start` outside the product):
// 1. Each overlay is created at a STAGING path next to its final one
//    (`vms/<uuid>/disk0.pending.qcow2` for `vms/<uuid>/disk0.qcow2`).
// 2. The domain is defined with its disks at the FINAL paths, which do not exist yet:
//    libvirt refuses to start it ("Cannot access storage file").
// 3. The clone metadata records both, `<overlay file="FINAL" pending="STAGING"/>`; the
//    inventory reports the domain image_locked with its disks at the staging paths, so
//    the reset job works on the staging files (libvirtModel.ts workDisks).
// 4. When the reset ends (AutoReset calls setVmStatus(id, 'down'), even after a failure),
//    releaseHeld() renames each staging file to its final path, then the caller rewrites
//    the metadata without the pending marks. A clone whose files are not in this engine's
//    storage roots is not its to release (another engine on the same daemon, whose
//    start-up reconcile sees every held domain): it stays held, marks and files untouched. A crash between the two is repaired at the
//    next release (a staging file already renamed is skipped), which AutoReset.reconcile
//    runs at start-up for every image_locked VM without an active job.
// Metadata can be edited by anyone with write access to libvirt: a pair is renamed only
// when both paths are the names step 1 makes, in one clone directory (`.../vms/<dir>/`)
// that resolves inside one of the host's storage roots.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { underRoot } from '../inventory/storageRoots';

const FINAL = /^disk(\d{1,2})\.qcow2$/;

/** The final path of overlay `i` in a clone directory. */
export const finalOverlay = (dir: string, i: number): string => path.join(dir, `disk${i}.qcow2`);

/** The staging path of a final overlay path (step 1). */
export function stagingOf(final: string): string {
  const m = FINAL.exec(path.basename(final));
  if (!m) throw new Error(`not an overlay path: ${final}`);
  return path.join(path.dirname(final), `disk${m[1]}.pending.qcow2`);
}

/** Whether (final, staging) is a pair step 1 makes, in a clone directory (`vms/<dir>/`); on strings. */
export function isHeldPair(final: string, staging: string): boolean {
  if (!path.isAbsolute(final) || path.normalize(final) !== final || !FINAL.test(path.basename(final))) return false;
  const dir = path.dirname(final);
  return path.basename(path.dirname(dir)) === 'vms' && staging === stagingOf(final);
}

/**
 * Step 4: renames each staging file to its final path, all or none: when one pair is not
 * one step 1 makes, or its directory does not resolve inside `roots` (edited metadata, or
 * another engine's clone on a shared daemon), nothing is renamed and the refused finals
 * are returned (the caller keeps the hold). A staging file already gone (renamed before a
 * crash) is skipped.
 */
export async function releaseHeld(pending: Record<string, string>, roots: string[]): Promise<string[]> {
  const realRoots = (await Promise.all(roots.map((r) => fs.realpath(r).catch(() => undefined)))).filter((r): r is string => r !== undefined);
  const refused: string[] = [];
  for (const [final, staging] of Object.entries(pending)) {
    const dir = path.dirname(final);
    const real = await fs.realpath(dir).catch(() => undefined);
    if (!isHeldPair(final, staging) || real !== dir || !realRoots.some((r) => underRoot(real, r))) refused.push(final);
  }
  if (refused.length) return refused;
  for (const [final, staging] of Object.entries(pending)) {
    await fs.rename(staging, final).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  return [];
}
