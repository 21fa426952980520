// The one check of the disks a request names, shared by StartSysprep, Inspect and
// CheckDisks (what the engine asks before a disk enters its inventory). For each disk,
// in order, the first at fault failing the call with its field (`disks[i].path` or
// `disks[i].format`):
//  1. the declared format, if any, is "qcow2" or "raw";
//  2. the path is confined to a storage root (PathGuard: absolute, no `..`, realpath
//     inside a root, a regular file or an allowed block device);
//  3. qemu-img probes the image lock-checked. A disk a running QEMU holds is refused
//     with DISK_IN_USE, or, when only checking, reported `inUse` and read shared (-U);
//  4. the format is settled: an undeclared image must probe as qcow2 (raw is what
//     qemu-img calls any file, and other formats can point outside the root: vmdk
//     extents, descriptors); a qcow2 with an external data file is refused (its data
//     lives elsewhere); a declared raw must look like a disk (rawPlausibility.ts).
// Read-only throughout: qemu-img info opens nothing for writing, the raw test reads the
// first 4 KiB through a read-only descriptor, no lease is taken.
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { InputError } from '../../shared/errors';
import { DiskInUseError, ImageInfo, QemuImg, qemuImgMessage } from '../../shared/tools/qemuImg';
import { ConfinedPath, PathGuard } from './pathGuard';
import { RAW_HEAD_BYTES, rawImageProblem } from './rawPlausibility';

export type DiskFormat = 'qcow2' | 'raw';

export interface CheckedDisk extends ConfinedPath {
  /** As asked. */
  path: string;
  format: DiskFormat;
  virtualSize: number;
  actualSize: number;
  /** Backing file resolved (realpath when it exists), '' for none. */
  backingFile: string;
  /** A running QEMU (or another tool) holds the image's write lock. */
  inUse: boolean;
}

/** `refuse`: a disk in use fails with DISK_IN_USE (jobs, Inspect); `report`: it is reported (CheckDisks). */
export type InUsePolicy = 'refuse' | 'report';

export class DiskChecker {
  constructor(private readonly guard: PathGuard, private readonly qemuImg: QemuImg) {}

  async check(disks: readonly { path: string; format?: string }[] | undefined, inUse: InUsePolicy): Promise<CheckedDisk[]> {
    if (!disks?.length) throw new InputError('disks', 'at least one disk is required');
    const out: CheckedDisk[] = [];
    for (const [i, d] of disks.entries()) out.push(await this.checkOne(d, `disks[${i}]`, inUse));
    return out;
  }

  private async checkOne(d: { path: string; format?: string }, field: string, policy: InUsePolicy): Promise<CheckedDisk> {
    const declared = d.format ?? '';
    if (declared && declared !== 'qcow2' && declared !== 'raw') throw new InputError(`${field}.format`, 'must be "qcow2" or "raw"');
    const confined = await this.guard.confine(d.path, `${field}.path`);
    const notADisk = (why: string) => new InputError(`${field}.path`, `${confined.real} ${why}`, 'NOT_A_DISK');

    let info: ImageInfo;
    let inUse = false;
    const probe = (shared: boolean) => this.qemuImg.info(confined.real, { format: declared || undefined, shared });
    try {
      try {
        info = await probe(false);
      } catch (err) {
        if (!(err instanceof DiskInUseError)) throw err;
        if (policy === 'refuse') throw err.at(`${field}.path`);
        inUse = true;
        info = await probe(true);
      }
    } catch (err) {
      if (err instanceof DiskInUseError) throw err;
      throw notADisk(`is not a ${declared || 'disk'} image: ${qemuImgMessage(err)}`);
    }

    if (!declared && info.format === 'raw') {
      throw notADisk('is not a recognised disk image (qemu-img sees raw data); declare format "raw" to use a raw image');
    }
    if (!declared && info.format !== 'qcow2') throw notADisk(`is a ${info.format} image; only qcow2 and raw images are accepted`);
    if (info.dataFile) throw notADisk(`is a qcow2 image whose data lives in an external data file (${info.dataFile}); not accepted`);
    if (declared === 'raw') {
      const problem = await rawProblem(confined.real, info.virtualSize);
      if (problem) throw notADisk(`is declared raw but is not a disk image: ${problem}`);
    }

    return {
      ...confined,
      path: d.path,
      format: (declared || info.format) as DiskFormat,
      virtualSize: info.virtualSize,
      actualSize: info.actualSize,
      backingFile: await resolveBacking(confined.real, info),
      inUse,
    };
  }
}

/** Reads the size and the first 4 KiB through a read-only descriptor (a block device's size is qemu-img's). */
async function rawProblem(real: string, probedSize: number): Promise<string | undefined> {
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    const head = Buffer.alloc(RAW_HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, RAW_HEAD_BYTES, 0);
    return rawImageProblem(st.isBlockDevice() ? probedSize : st.size, head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

async function resolveBacking(real: string, info: ImageInfo): Promise<string> {
  const named = info.fullBackingFilename ?? info.backingFilename;
  if (!named) return '';
  const resolved = path.resolve(path.dirname(real), named);
  return realpath(resolved).catch(() => resolved);
}
