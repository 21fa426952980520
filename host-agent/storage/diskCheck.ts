// The one check of the disks a request names, shared by StartSysprep, Inspect and
// CheckDisks (what the engine asks before a disk enters its inventory). For each disk,
// in order, the first at fault failing the call with its field (`disks[i].path` or
// `disks[i].format`):
//  1. the declared format, if any, is one of the table's (shared/diskFormats.ts);
//  2. the path is confined to a storage root (PathGuard: absolute, no `..`, realpath
//     inside a root, a regular file or an allowed block device);
//  3. qemu-img probes the image lock-checked and WITHOUT a forced format. A disk a
//     running QEMU holds is refused with DISK_IN_USE, or, when only checking, reported
//     `inUse` and read shared (-U);
//  4. the format is settled from the probe (formatProbe.ts): a declared format the image
//     is not is FORMAT_MISMATCH; an undeclared image must not probe as raw (raw is what
//     qemu-img calls any file); refused variants (vmdk streamOptimized or with extent
//     files, non-qcow2 images with a parent, a qcow2 with an external data file); a
//     declared raw must look like a disk (rawPlausibility.ts);
//  5. every backing file down the chain is confined the same way (a qcow2 in a root
//     backed by /etc/shadow or /dev/sda would show that file to the guest): a local
//     path inside a root, an accepted format and variant, probed as recorded without
//     opening its own backing file (plain `qemu-img info` opens no backing file, so no
//     network URL is ever followed).
// Read-only throughout: qemu-img info opens nothing for writing, the raw test reads the
// first 4 KiB through a read-only descriptor, no lease is taken.
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { InputError, SysprepError } from '../../shared/errors';
import { DiskInUseError, ImageInfo, QemuImg, qemuImgMessage } from '../../shared/tools/qemuImg';
import { DISK_FORMATS_TEXT, DiskFormat, isDiskFormat } from '../../shared/diskFormats';
import { settleFormat, structureProblem } from './formatProbe';
import { ConfinedPath, PathGuard } from './pathGuard';
import { RAW_HEAD_BYTES, rawImageProblem } from './rawPlausibility';

export type { DiskFormat };

export interface CheckedDisk extends ConfinedPath {
  /** As asked. */
  path: string;
  format: DiskFormat;
  virtualSize: number;
  actualSize: number;
  /** Backing file (real path, inside a storage root), '' for none. */
  backingFile: string;
  /** A running QEMU (or another tool) holds the image's write lock. */
  inUse: boolean;
}

/** A checked disk as the tools open it: its real path (symlinks resolved) and its settled format. */
export function openedAs(d: { real: string; format: DiskFormat }): { path: string; format: DiskFormat } {
  return { path: d.real, format: d.format };
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
    if (declared && !isDiskFormat(declared)) throw new InputError(`${field}.format`, `must be one of ${DISK_FORMATS_TEXT}`);
    const confined = await this.guard.confine(d.path, `${field}.path`);
    const notADisk = (why: string) => new InputError(`${field}.path`, `${confined.real} ${why}`, 'NOT_A_DISK');

    let info: ImageInfo;
    let inUse = false;
    const probe = (shared: boolean) => this.qemuImg.info(confined.real, { shared });
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

    const verdict = settleFormat(declared, info, confined.real);
    if (!('format' in verdict)) throw new InputError(`${field}.${verdict.field}`, `${confined.real} ${verdict.why}`, verdict.code);
    const backingFile = await this.confineBackingChain(confined.real, info, `${field}.path`);
    if (declared === 'raw') {
      const problem = await rawProblem(confined.real, info.virtualSize);
      if (problem) throw notADisk(`is declared raw but is not a disk image: ${problem}`);
    }

    return {
      ...confined,
      path: d.path,
      format: verdict.format,
      virtualSize: info.virtualSize,
      actualSize: info.actualSize,
      backingFile,
      inUse,
    };
  }

  /** Confines each backing file down the chain; returns the first one's real path ('' for none). */
  private async confineBackingChain(real: string, info: ImageInfo, field: string): Promise<string> {
    let first = '';
    let image = real;
    let current = info;
    for (let depth = 0; ; depth++) {
      const named = current.fullBackingFilename ?? current.backingFilename;
      if (!named) return first;
      const refuse = (why: string) => new InputError(field, `the backing file ${named} of ${image} ${why}`, 'NOT_A_DISK');
      if (depth >= MAX_BACKING_DEPTH) throw refuse(`is more than ${MAX_BACKING_DEPTH} images deep`);
      if (/^[a-z][a-z0-9+.-]*:/i.test(named)) throw refuse('is not a local file (a protocol or json: name)');
      // As the kernel resolves it (a relative name may hold "..", as oVirt's do): no
      // lexical normalisation, which a symlinked directory before ".." would fool.
      const asOpened = path.isAbsolute(named) ? named : `${path.dirname(image)}/${named}`;
      const real = await realpath(asOpened).catch(() => {
        throw refuse('does not exist');
      });
      let backing: ConfinedPath;
      try {
        backing = await this.guard.confine(real, field);
      } catch (err) {
        if (err instanceof SysprepError) throw new SysprepError(err.kind, err.code, `${err.message} (the backing file of ${image})`, err.details);
        throw err;
      }
      const format = current.backingFormat;
      if (format && !isDiskFormat(format)) throw refuse(`is recorded as ${format}; accepted formats: ${DISK_FORMATS_TEXT}`);
      try {
        // As qemu will open it: with the recorded format (a raw backing file is never probed).
        current = await this.qemuImg.info(backing.real, { format, shared: true });
      } catch (err) {
        throw refuse(`is not a ${format ?? 'disk'} image: ${qemuImgMessage(err)}`);
      }
      const problem = structureProblem(current, backing.real);
      if (problem) throw new InputError(field, `the backing file ${named} of ${image} ${problem.why}`, problem.code);
      first ||= backing.real;
      image = backing.real;
    }
  }
}

/** Deeper chains than any template/clone layout makes are refused rather than walked. */
const MAX_BACKING_DEPTH = 16;

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
