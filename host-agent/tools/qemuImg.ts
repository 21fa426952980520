// qemu-img wrapper: image probe (which is also the in-use check: without -U it needs
// the image's write lock, which a running QEMU holds), overlays and commit.
import { CommandError, run } from './exec';

export interface ImageInfo {
  format: string;
  virtualSize: number;
  backingFilename?: string;
}

export class ImageLockedError extends Error {}

export class QemuImg {
  constructor(private readonly bin: string) {}

  async version(): Promise<string> {
    const { stdout } = await run(this.bin, ['--version']);
    return /version ([\d.]+)/.exec(stdout)?.[1] ?? stdout.split('\n')[0];
  }

  /** Opens the image read-write-lock-checked; throws ImageLockedError when in use. */
  async info(path: string, format?: string): Promise<ImageInfo> {
    const args = ['info', '--output=json', ...(format ? ['-f', format] : []), path];
    try {
      const { stdout } = await run(this.bin, args, { timeoutMs: 30_000 });
      const j = JSON.parse(stdout);
      return { format: j.format, virtualSize: j['virtual-size'], backingFilename: j['backing-filename'] };
    } catch (err) {
      if (err instanceof CommandError && /lock/i.test(err.stderr)) throw new ImageLockedError(err.stderr.trim());
      throw err;
    }
  }

  async createOverlay(base: string, baseFormat: string, overlay: string): Promise<void> {
    await run(this.bin, ['create', '-q', '-f', 'qcow2', '-b', base, '-F', baseFormat, overlay], { timeoutMs: 60_000 });
  }

  /** Writes the overlay's clusters into its backing file. */
  async commit(overlay: string): Promise<void> {
    await run(this.bin, ['commit', '-q', '-f', 'qcow2', overlay], { timeoutMs: 3_600_000 });
  }
}
