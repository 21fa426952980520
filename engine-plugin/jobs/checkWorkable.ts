// The pre-check of what a job would work on, beyond the VM's own status: every disk must
// be usable in its inventory's eyes (oVirt keeps a disk `locked` while it copies, moves
// or snapshots it, even under a VM that shows Down; `illegal` after a failed operation),
// served by some agent (`unsupported`: e.g. a block storage domain), and no snapshot of
// the VM may be in preview (undoing the preview throws the leaf we would reset away).
// VMs (JobService.checkVm, single and bulk) and templates (seal) go through this one
// function, so the codes and messages are written once. All refusals are 409 conflicts:
// the request is well formed, the target's state forbids it (docs/engine-decisions.md).
import { ConflictError } from '../../shared/errors';
import type { DiskRef } from '../inventory/Inventory';

/** What a job works on: a VM or a template, with its disks (and a VM's snapshot in preview). */
export interface Workable {
  name: string;
  disks: DiskRef[];
  snapshotInPreview?: string;
}

/** 409 VM_NOT_DOWN: the VM's state forbids the work (a job, a snapshot change). */
export function vmNotDown(vm: { name: string; status: string }): ConflictError {
  return new ConflictError('VM_NOT_DOWN', `VM "${vm.name}" is ${vm.status}: it must be down`, { vm: vm.name, status: vm.status });
}

/** Throws 409 DISK_LOCKED, DISK_ILLEGAL, DISK_UNSUPPORTED or SNAPSHOT_IN_PREVIEW; nothing else. */
export function checkWorkable(kind: 'vm' | 'template', target: Workable): void {
  const who = `${kind === 'vm' ? 'VM' : 'template'} "${target.name}"`;
  for (const disk of target.disks) {
    const details = { [kind]: target.name, disk: disk.path };
    if (disk.status === 'locked') {
      throw new ConflictError('DISK_LOCKED', `${who}: disk ${disk.path} is locked (being copied, moved or snapshotted): try again once it is OK`, { ...details, status: disk.status });
    }
    if (disk.status === 'illegal') {
      throw new ConflictError('DISK_ILLEGAL', `${who}: disk ${disk.path} is illegal (a failed operation left it unusable): repair it in oVirt first`, { ...details, status: disk.status });
    }
    if (disk.unsupported) {
      throw new ConflictError('DISK_UNSUPPORTED', `${who}: disk ${disk.path} cannot be worked on: ${disk.unsupported}`, { ...details, reason: disk.unsupported });
    }
  }
  if (target.snapshotInPreview !== undefined) {
    throw new ConflictError(
      'SNAPSHOT_IN_PREVIEW',
      `${who} is previewing snapshot "${target.snapshotInPreview}": commit or undo the preview first (an undo would throw the reset away)`,
      { [kind]: target.name, snapshot: target.snapshotInPreview },
    );
  }
}
