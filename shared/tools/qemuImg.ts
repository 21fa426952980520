// The one wrapper of qemu-img, for the agent (image probe, overlays, commit) and the
// engine's embedded inventory (copy-on-write clones, internal snapshots).
// argv arrays through run() (no shell); every path comes after "--", so no value can
// be read as an option. The probe without `shared` is also the in-use check: it needs
// the image's write lock, which a running QEMU holds.
import { ConflictError } from '../errors';
import { CommandError, run } from './exec';

export interface ImageInfo {
  format: string;
  virtualSize: number;
  /** Bytes the image takes on its storage (allocated, not apparent size). */
  actualSize: number;
  /** The backing file as written in the image. */
  backingFilename?: string;
  /** The backing file resolved against the image's directory, as qemu opens it. */
  fullBackingFilename?: string;
  /** The backing file's format as recorded in the image (absent: qemu would probe it). */
  backingFormat?: string;
  /** qcow2 external data file (where the guest's data really goes), if any. */
  dataFile?: string;
  /** vmdk: the variant (`monolithicSparse`, `streamOptimized`, `monolithicFlat`, ...). */
  createType?: string;
  /** vmdk: the files that hold the guest's data (the image itself for monolithicSparse). */
  extents?: string[];
  /** The image's internal snapshots (qcow2 snapshot table), in table order; empty: none. */
  snapshots: InternalSnapshot[];
}

/** An entry of a qcow2 image's snapshot table. */
export interface InternalSnapshot {
  /** qemu's own id (a number, as a string): qemu-img looks a tag up as an id first. */
  id: string;
  /** The tag (`qemu-img snapshot -c TAG`). */
  name: string;
  /** When it was taken (ISO time). */
  date: string;
  /** Bytes of RAM state it keeps: 0 for a snapshot of a shut-off VM's disk. */
  vmStateSize: number;
}

/** `qemu-img snapshot` actions: create, apply (revert the image to it), delete. */
const SNAPSHOT_FLAGS = { create: '-c', apply: '-a', delete: '-d' } as const;

/** The image is open read-write elsewhere (a running VM, another tool). */
export class DiskInUseError extends ConflictError {
  constructor(readonly disk: string, readonly detail: string, field?: string) {
    super('DISK_IN_USE', `${field ? `${field}: ` : ''}disk ${disk} is in use by a running VM or tool (${detail})`, field ? { field, disk } : { disk });
  }

  /** The same error, naming the request field that holds the disk. */
  at(field: string): DiskInUseError {
    return new DiskInUseError(this.disk, this.detail, field);
  }
}

/** What a failed qemu-img said, on one line. */
export function qemuImgMessage(err: unknown): string {
  return (err instanceof CommandError ? err.stderr.trim() || err.message : (err as Error).message).split('\n')[0];
}

export class QemuImg {
  constructor(private readonly bin = 'qemu-img') {}

  async version(): Promise<string> {
    const { stdout } = await run(this.bin, ['--version']);
    return /version ([\d.]+)/.exec(stdout)?.[1] ?? stdout.split('\n')[0];
  }

  /**
   * The image's format, size and backing file. Without `shared` it opens the image
   * lock-checked and throws DiskInUseError when it is in use; `shared` (-U) reads it
   * whoever holds it.
   */
  async info(file: string, opts: { format?: string; shared?: boolean } = {}): Promise<ImageInfo> {
    const args = ['info', '--output=json', ...(opts.shared ? ['-U'] : []), ...(opts.format ? ['-f', opts.format] : []), '--', file];
    try {
      const { stdout } = await run(this.bin, args, { timeoutMs: 30_000 });
      const j = JSON.parse(stdout);
      return {
        format: j.format,
        virtualSize: j['virtual-size'],
        actualSize: j['actual-size'] ?? 0,
        backingFilename: j['backing-filename'],
        fullBackingFilename: j['full-backing-filename'],
        backingFormat: j['backing-filename-format'],
        dataFile: j['format-specific']?.data?.['data-file'],
        createType: j['format-specific']?.data?.['create-type'],
        extents: (j['format-specific']?.data?.extents as { filename?: string }[] | undefined)?.map((e) => String(e.filename ?? '')),
        snapshots: ((j.snapshots ?? []) as Record<string, unknown>[]).map((x) => ({
          id: String(x.id),
          name: String(x.name),
          date: new Date(Number(x['date-sec'] ?? 0) * 1000).toISOString(),
          vmStateSize: Number(x['vm-state-size'] ?? 0),
        })),
      };
    } catch (err) {
      if (!opts.shared && err instanceof CommandError && /lock/i.test(err.stderr)) throw new DiskInUseError(file, qemuImgMessage(err));
      throw err;
    }
  }

  /** A qcow2 copy-on-write overlay at `overlay` backed by `base`. */
  async createOverlay(base: string, baseFormat: string, overlay: string): Promise<void> {
    await run(this.bin, ['create', '-q', '-f', 'qcow2', '-b', base, '-F', baseFormat, '--', overlay], { timeoutMs: 60_000 });
  }

  /**
   * An internal snapshot action on the qcow2 image `file` (tag `tag`). It takes the image's
   * write lock: an image open read-write elsewhere fails with DiskInUseError.
   */
  async snapshot(action: keyof typeof SNAPSHOT_FLAGS, file: string, tag: string): Promise<void> {
    try {
      await run(this.bin, ['snapshot', '-q', SNAPSHOT_FLAGS[action], tag, '--', file], { timeoutMs: 600_000 });
    } catch (err) {
      if (err instanceof CommandError && /lock/i.test(err.stderr)) throw new DiskInUseError(file, qemuImgMessage(err));
      throw err;
    }
  }

  /** Writes the overlay's clusters into its backing file. */
  async commit(overlay: string): Promise<void> {
    await run(this.bin, ['commit', '-q', '-f', 'qcow2', '--', overlay], { timeoutMs: 3_600_000 });
  }
}
