// The one wrapper of qemu-img on the engine side (the embedded inventory's clones).
// argv arrays, no shell; user values are only ever values of known flags.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InputError, SysprepError } from '../../shared/errors';

const execFileAsync = promisify(execFile);

export interface QemuImg {
  /** Image format ("qcow2", "raw", ...), read without taking the image lock (-U). */
  format(file: string, field: string): Promise<string>;
  /** A qcow2 copy-on-write overlay at `file` backed by `backing`. */
  createOverlay(file: string, backing: string, backingFormat: string): Promise<void>;
}

export function qemuImg(binary = 'qemu-img'): QemuImg {
  return {
    async format(file, field) {
      try {
        const { stdout } = await execFileAsync(binary, ['info', '-U', '--output=json', '--', file], { timeout: 60_000 });
        return String(JSON.parse(stdout).format);
      } catch (err) {
        const e = err as Error & { stderr?: string };
        throw new InputError(field, `cannot read disk image ${file}: ${(e.stderr || e.message).trim()}`, 'DISK_UNREADABLE');
      }
    },
    async createOverlay(file, backing, backingFormat) {
      try {
        await execFileAsync(binary, ['create', '-q', '-f', 'qcow2', '-b', backing, '-F', backingFormat, '--', file], { timeout: 60_000 });
      } catch (err) {
        const e = err as Error & { stderr?: string };
        throw new SysprepError('failed', 'CLONE_FAILED', `qemu-img create of ${file} failed: ${(e.stderr || e.message).trim()}`);
      }
    },
  };
}

export const QemuImg = Symbol('QemuImg');
