// What the embedded inventory asks of qemu-img (shared/tools/qemuImg.ts), with its
// failures as the inventory's typed errors. A token, so the composition root picks
// the binary.
import { InputError, SysprepError } from '../../shared/errors';
import { QemuImg as QemuImgTool, qemuImgMessage } from '../../shared/tools/qemuImg';

export interface QemuImg {
  /** Image format ("qcow2", "raw", ...), read without taking the image lock (-U). */
  format(file: string, field: string): Promise<string>;
  /** A qcow2 copy-on-write overlay at `file` backed by `backing`. */
  createOverlay(file: string, backing: string, backingFormat: string): Promise<void>;
}

export function qemuImg(tool = new QemuImgTool()): QemuImg {
  return {
    async format(file, field) {
      try {
        return String((await tool.info(file, { shared: true })).format);
      } catch (err) {
        throw new InputError(field, `cannot read disk image ${file}: ${qemuImgMessage(err)}`, 'DISK_UNREADABLE');
      }
    },
    async createOverlay(file, backing, backingFormat) {
      try {
        await tool.createOverlay(backing, backingFormat, file);
      } catch (err) {
        throw new SysprepError('failed', 'CLONE_FAILED', `qemu-img create of ${file} failed: ${qemuImgMessage(err)}`);
      }
    },
  };
}

export const QemuImg = Symbol('QemuImg');
