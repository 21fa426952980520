// The cheap checks of the disks of a template registration or a VM import, made before
// anything is asked of an agent: a bounded list of absolute paths without ".." or NUL,
// each disk once. Everything that needs the file system (realpath, roots, image probe)
// is the agent's (DiskChecker.ts).
import * as path from 'node:path';
import { DISK_FORMATS_TEXT, isDiskFormat } from '../../shared/diskFormats';
import { InputError } from '../../shared/errors';
import type { DiskInput } from './InventoryActions';

/** Disks of one VM or template (virt-sysprep takes them all as one guest). */
export const MAX_DISKS = 16;

/** The disks, paths normalised (no "." or "//"); a typed error naming `disks[i].path` otherwise. */
export function validateDiskInputs(disks: unknown): DiskInput[] {
  if (!Array.isArray(disks) || disks.length === 0) throw new InputError('disks', 'must list at least one disk image');
  if (disks.length > MAX_DISKS) throw new InputError('disks', `lists ${disks.length} disks: at most ${MAX_DISKS}`, 'TOO_MANY_DISKS');
  const checked = disks.map((d: Partial<DiskInput> | undefined, i): DiskInput => {
    const field = `disks[${i}].path`;
    const p = d?.path;
    if (typeof p !== 'string' || p.length === 0) throw new InputError(field, 'is required');
    if (p.includes('\0')) throw new InputError(field, 'contains a NUL byte');
    if (!path.isAbsolute(p)) throw new InputError(field, `must be an absolute path, got ${JSON.stringify(p)}`);
    if (p.split('/').includes('..')) throw new InputError(field, `".." is not allowed in disk paths (${p})`, 'PATH_TRAVERSAL');
    if (d!.format !== undefined && !isDiskFormat(d!.format)) throw new InputError(`disks[${i}].format`, `must be one of ${DISK_FORMATS_TEXT}, not ${JSON.stringify(d!.format)}`);
    return d!.format === undefined ? { path: path.normalize(p) } : { path: path.normalize(p), format: d!.format };
  });
  assertDistinctDisks(checked.map((d) => d.path));
  return checked;
}

/** The same disk twice in one request (by path as given, or as resolved): refused naming the second. */
export function assertDistinctDisks(paths: string[]): void {
  const first = new Map<string, number>();
  paths.forEach((p, j) => {
    const i = first.get(p);
    if (i !== undefined) throw new InputError(`disks[${j}].path`, `is the same disk as disks[${i}].path (${p})`, 'DUPLICATE_DISK', { disk: p, sameAs: `disks[${i}].path` });
    first.set(p, j);
  });
}
