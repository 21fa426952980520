// Which format a disk is, settled from what qemu-img probed, never from the request
// alone (the format table: shared/diskFormats.ts). Pure, so the probe/refusal table is
// unit-tested; DiskChecker (diskCheck.ts) runs the probe and turns a refusal into the
// typed error naming `disks[i].path` or `disks[i].format`.
//
// The probe is made WITHOUT a forced format, so a declared format is compared with the
// image's real one: a vmdk declared qcow2, or a qcow2 declared raw (which in-place mode
// would write into as raw data, destroying it), is a FORMAT_MISMATCH naming the format
// field. qemu-img reads any file as raw, so "raw" is only ever declared: an undeclared
// raw probe is refused, and a declared raw must also look like a disk (rawPlausibility.ts).
import { DISK_FORMATS_TEXT, DiskFormat, isDiskFormat, refusalReason } from '../../shared/diskFormats';
import type { ImageInfo } from '../../shared/tools/qemuImg';

export interface FormatRefusal {
  /** The request field at fault, under `disks[i]`. */
  field: 'path' | 'format';
  code: 'NOT_A_DISK' | 'FORMAT_MISMATCH' | 'UNSUPPORTED_FORMAT';
  /** Completes "<the image> ...". */
  why: string;
}

export type FormatVerdict = { format: DiskFormat } | FormatRefusal;

/** The settled format of the image at `real` (probed as `info`), declared `declared` ('' for none). */
export function settleFormat(declared: string, info: ImageInfo, real: string): FormatVerdict {
  const probed = info.format;
  if (probed === 'raw') {
    if (declared === 'raw') return { format: 'raw' };
    if (!declared) return { field: 'path', code: 'NOT_A_DISK', why: 'is not a recognised disk image (qemu-img sees raw data); declare format "raw" to use a raw image' };
    return { field: 'path', code: 'NOT_A_DISK', why: `is not a ${declared} image (qemu-img sees raw data)` };
  }
  if (declared && declared !== probed) {
    return { field: 'format', code: 'FORMAT_MISMATCH', why: `is declared "${declared}" but is a ${probed} image` };
  }
  return structureProblem(info, real) ?? { format: probed as DiskFormat };
}

/**
 * Why an image opened as `info.format` cannot be worked on, or undefined: a format or a
 * variant outside the table, data outside the file, a parent image of a non-qcow2 format.
 * Also applied to every backing file down a chain.
 */
export function structureProblem(info: ImageInfo, real: string): FormatRefusal | undefined {
  const f = info.format;
  const unsupported = (why: string): FormatRefusal => ({ field: 'path', code: 'UNSUPPORTED_FORMAT', why });
  if (!isDiskFormat(f)) return unsupported(`is a ${f} image: ${refusalReason('anything else')} (accepted: ${DISK_FORMATS_TEXT})`);
  if (info.dataFile) return { field: 'path', code: 'NOT_A_DISK', why: `is a qcow2 image whose data lives in an external data file (${info.dataFile}); not accepted` };
  if (f === 'vmdk') {
    if (info.createType === 'streamOptimized') return unsupported(`is a streamOptimized vmdk: ${refusalReason('vmdk streamOptimized')}; convert it first (qemu-img convert -O vmdk or -O qcow2)`);
    const extents = info.extents ?? [];
    if (info.createType !== 'monolithicSparse' || extents.some((e) => e !== real)) {
      return unsupported(`is a ${info.createType ?? 'multi-file'} vmdk (extents: ${extents.join(', ') || 'none'}): ${refusalReason('vmdk with extent files')}; convert it to one file first`);
    }
  }
  if (f !== 'qcow2' && (info.backingFilename || info.fullBackingFilename)) {
    return unsupported(`is a ${f} image with a parent image (${info.fullBackingFilename ?? info.backingFilename}): ${refusalReason('vmdk, vpc, vhdx, vdi with a parent image')}`);
  }
  return undefined;
}
