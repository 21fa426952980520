// What the embedded inventory asks of qemu-img (shared/tools/qemuImg.ts): copy-on-write
// overlays for clones, and the internal snapshots of its VMs' qcow2 disks
// (EmbeddedSnapshots.ts), with their failures as typed errors. Only that: the format of a
// registered disk is probed by the agent that owns its storage (DiskChecker.ts), the
// engine never opens a caller's path. A token, so the composition root picks the binary.
import { SysprepError } from '../../shared/errors';
import { DiskInUseError, InternalSnapshot, QemuImg as QemuImgTool, qemuImgMessage } from '../../shared/tools/qemuImg';

export type { InternalSnapshot };

export interface QemuImg {
  /** A qcow2 copy-on-write overlay at `file` backed by `backing`. */
  createOverlay(file: string, backing: string, backingFormat: string): Promise<void>;
  /** The snapshot table of the qcow2 image `file` (read whoever holds the image). */
  listSnapshots(file: string): Promise<InternalSnapshot[]>;
  /** Creates, applies or deletes the internal snapshot `tag` of `file`; 409 DISK_IN_USE when the image is open read-write elsewhere. */
  snapshot(action: 'create' | 'apply' | 'delete', file: string, tag: string): Promise<void>;
}

const failed = (what: string, file: string, err: unknown) =>
  err instanceof DiskInUseError ? err : new SysprepError('failed', 'SNAPSHOT_FAILED', `qemu-img ${what} of ${file} failed: ${qemuImgMessage(err)}`, { disk: file });

export function qemuImg(tool = new QemuImgTool()): QemuImg {
  return {
    async createOverlay(file, backing, backingFormat) {
      try {
        await tool.createOverlay(backing, backingFormat, file);
      } catch (err) {
        throw new SysprepError('failed', 'CLONE_FAILED', `qemu-img create of ${file} failed: ${qemuImgMessage(err)}`);
      }
    },
    async listSnapshots(file) {
      try {
        return (await tool.info(file, { format: 'qcow2', shared: true })).snapshots;
      } catch (err) {
        throw failed('info', file, err);
      }
    },
    async snapshot(action, file, tag) {
      try {
        await tool.snapshot(action, file, tag);
      } catch (err) {
        throw failed(`snapshot ${action} "${tag}"`, file, err);
      }
    },
  };
}

export const QemuImg = Symbol('QemuImg');
