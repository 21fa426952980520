// What the embedded inventory asks of qemu-img (shared/tools/qemuImg.ts): copy-on-write
// overlays for clones, with their failures as typed errors. Only that: the format of a
// registered disk is probed by the agent that owns its storage (DiskChecker.ts), the
// engine never opens a caller's path. A token, so the composition root picks the binary.
import { SysprepError } from '../../shared/errors';
import { QemuImg as QemuImgTool, qemuImgMessage } from '../../shared/tools/qemuImg';

export interface QemuImg {
  /** A qcow2 copy-on-write overlay at `file` backed by `backing`. */
  createOverlay(file: string, backing: string, backingFormat: string): Promise<void>;
}

export function qemuImg(tool = new QemuImgTool()): QemuImg {
  return {
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
