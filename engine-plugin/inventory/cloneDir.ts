// Where a clone's overlays go: `<directory of the template's first disk>/vms/<vm id>/`,
// on the template's storage so the agents that serve the template serve its clones. The
// engine creates files only there, and only inside a storage root configured for the
// hosts. Steps, before and while creating:
// 1. The base directory must resolve (realpath) to a root or inside one; else nothing
//    is created.
// 2. `vms` and `<vm id>` are made one at a time and each must then be a real directory:
//    a symlink planted in the storage to lead elsewhere is refused, not followed.
// 3. The result is resolved once more (nothing moved meanwhile) before qemu-img writes.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ConflictError } from '../../shared/errors';
import { underRoot } from './storageRoots';

const inside = (real: string, roots: string[]) => roots.some((r) => real === r || underRoot(real, r));

function refused(message: string, dir: string): ConflictError {
  return new ConflictError('PATH_OUTSIDE_ROOTS', `cannot clone: ${message}; clone files are created only inside the storage roots`, { field: 'template', dir });
}

/** The configured roots that exist here, resolved. */
async function realRoots(roots: string[]): Promise<string[]> {
  const real = await Promise.all(roots.map((r) => fs.realpath(r).catch(() => undefined)));
  return real.filter((r): r is string => r !== undefined);
}

/** Creates the clone directory of `vmId` under `base` (steps 1-3) and returns its real path. */
export async function makeCloneDir(base: string, vmId: string, configuredRoots: string[]): Promise<string> {
  const roots = await realRoots(configuredRoots);
  const realBase = await fs.realpath(base).catch(() => undefined);
  if (!realBase || !inside(realBase, roots)) throw refused(`${base}${realBase && realBase !== base ? ` resolves to ${realBase}, which` : ''} is not inside a storage root (${configuredRoots.join(', ')})`, base);
  let dir = realBase;
  for (const segment of ['vms', vmId]) {
    dir = path.join(dir, segment);
    await fs.mkdir(dir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const st = await fs.lstat(dir);
    if (!st.isDirectory()) throw refused(`${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}`, dir);
  }
  const real = await fs.realpath(dir);
  if (real !== dir || !inside(real, roots)) throw refused(`${dir} resolves to ${real}`, dir);
  return real;
}

/** Removes a clone directory made by makeCloneDir (a clone that failed before its row was written). */
export async function removeCloneDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/**
 * Removes what a clone's delete may remove: each disk that lies in the clone's own
 * directory (`.../vms/<vm id>/`, resolving inside a storage root), then that directory if
 * it is left empty. A disk anywhere else was not made by the engine and stays; so does
 * anything the directory holds besides the recorded disks.
 */
export async function removeCloneFiles(vmId: string, disks: { path: string }[], configuredRoots: string[]): Promise<void> {
  const roots = await realRoots(configuredRoots);
  const dirs = new Set<string>();
  for (const d of disks) {
    const dir = path.dirname(d.path);
    if (path.basename(dir) !== vmId || path.basename(path.dirname(dir)) !== 'vms') continue;
    const real = await fs.realpath(dir).catch(() => undefined);
    if (real !== dir || !inside(real, roots)) continue;
    await fs.rm(d.path, { force: true });
    dirs.add(dir);
  }
  for (const dir of dirs) {
    await fs.rmdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTEMPTY') throw err;
    });
  }
}
