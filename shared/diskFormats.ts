// The disk image formats the product works on, and the ones it refuses with why: one
// table that the agent's probe (host-agent/storage/formatProbe.ts), the engine's
// request checks (inventory routes, libvirt domains, CLI choices) and docs/agent.md's
// formats table all read, so a format is added or refused in one place.
//
// A format is accepted when qemu-img can put a qcow2 overlay on it and `qemu-img commit`
// the overlay back (safe mode), measured on qemu-img 7.2 (decision note, formats):
// every variant was converted from the fixture, written through an overlay at four
// offsets, committed and compared with `qemu-img compare` against a qcow2 that took the
// same writes. The refused variants are the ones that failed that round trip or keep
// the guest's data in files the agent neither confines nor leases.

/** Formats a disk may be declared or probed as. */
export const DISK_FORMATS = ['qcow2', 'raw', 'vmdk', 'vpc', 'vhdx', 'vdi'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

export function isDiskFormat(f: unknown): f is DiskFormat {
  return typeof f === 'string' && (DISK_FORMATS as readonly string[]).includes(f);
}

/** Formats the sparsify action works on: libguestfs discards in qcow2 and raw only (vmdk measured: refused). */
export const SPARSIFY_FORMATS: readonly DiskFormat[] = ['qcow2', 'raw'];

/** `"qcow2", "raw", ...` for messages. */
export const DISK_FORMATS_TEXT = DISK_FORMATS.map((f) => `"${f}"`).join(', ');

export interface FormatSupport {
  /** qemu-img's name, with the variant (`vmdk streamOptimized`) where support differs by variant. */
  format: string;
  /** Other names of the format (VHD for vpc). */
  alias?: string;
  supported: boolean;
  /** Why it is accepted (what was measured) or refused. */
  reason: string;
}

/** The formats table (docs/agent.md renders it; the probe's refusals quote the reasons). */
export const FORMAT_SUPPORT: readonly FormatSupport[] = [
  { format: 'qcow2', supported: true, reason: 'native: overlays, commit and internal snapshots; no external data file' },
  { format: 'raw', supported: true, reason: 'declared only (qemu-img reads any file as raw); must look like a disk (size in whole sectors, binary first 4 KiB)' },
  { format: 'vmdk', alias: 'monolithicSparse', supported: true, reason: 'one self-contained file: overlay, commit and compare measured identical' },
  { format: 'vpc', alias: 'VHD, dynamic or fixed', supported: true, reason: 'overlay, commit and compare measured identical (qemu rounds the virtual size to the VHD geometry)' },
  { format: 'vhdx', alias: 'dynamic or fixed', supported: true, reason: 'overlay, commit and compare measured identical' },
  { format: 'vdi', alias: 'dynamic or static', supported: true, reason: 'overlay, commit and compare measured identical' },
  { format: 'vmdk streamOptimized', supported: false, reason: 'qemu-img commit fails part way ("Could not write to allocated cluster for streamOptimized") and leaves the disk half written' },
  { format: 'vmdk with extent files', alias: 'monolithicFlat, twoGbMaxExtent*, vmfs, descriptor files', supported: false, reason: 'the guest data lives in extent files the descriptor names (anywhere, /dev/sda included): the agent confines and leases one file per disk' },
  { format: 'vmdk, vpc, vhdx, vdi with a parent image', supported: false, reason: 'differencing images: only qcow2 images may have a backing file' },
  { format: 'qcow2 with an external data file', supported: false, reason: 'its data lives in another file, outside the checks' },
  { format: 'anything else', alias: 'qed, parallels, luks, dmg, ...', supported: false, reason: 'not measured: refused' },
];

/** The refusal reason of a table row (by its format name). */
export function refusalReason(format: string): string {
  const row = FORMAT_SUPPORT.find((r) => r.format === format && !r.supported);
  if (!row) throw new Error(`no refused format row "${format}"`);
  return row.reason;
}
