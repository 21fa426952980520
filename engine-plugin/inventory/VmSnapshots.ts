// The snapshot port: list, create, revert and delete a VM's snapshots. The routes and the
// CLI call it without knowing the inventory. libvirt implements it with internal qcow2
// snapshots of a shut-off domain (LibvirtSnapshots), the embedded inventory with
// `qemu-img snapshot` on each qcow2 disk (EmbeddedSnapshots); oVirt registers none and
// the routes answer NOT_SUPPORTED (docs/engine-decisions.md).
// The callers check that the VM is down and that no job holds it before a change.
import { ConflictError, NotFoundError } from '../../shared/errors';
import type { Vm } from './Inventory';

export interface Snapshot {
  /** What names it in the routes (libvirt: the snapshot name, unique per domain). */
  id: string;
  name: string;
  /** Empty when none was given. */
  description: string;
  /** When it was taken (ISO time), when known. */
  date?: string;
  /** The VM's state it keeps (libvirt: shutoff, running...): only a shut-off one is reverted to. */
  vmState?: string;
  /** The snapshot it was taken after, when any. */
  parent?: string;
  /** The one the VM's disks last came from (created or reverted to). */
  current: boolean;
}

export interface VmSnapshots {
  /** Every snapshot of the VM, parents before their children. */
  list(vm: Vm): Promise<Snapshot[]>;
  /** A snapshot of the VM's disks as they are now (the VM is down). */
  create(vm: Vm, name: string, description?: string): Promise<Snapshot>;
  /** Puts the VM's disks back as they were in snapshot `id`; the VM stays down. */
  revert(vm: Vm, id: string): Promise<Snapshot>;
  /** Removes snapshot `id`; the disks' current content stays. */
  delete(vm: Vm, id: string): Promise<void>;
}

export const VmSnapshots = Symbol('VmSnapshots');

/** 409 DISK_UNSUPPORTED naming the first disk that takes no internal snapshot (not qcow2, or no agent works on it). */
export function assertSnapshottable(vm: Vm): void {
  const disk = vm.disks.find((d) => d.unsupported || d.format !== 'qcow2');
  if (!disk) return;
  throw diskRefused(vm, disk.path, disk.unsupported ?? `a ${disk.format} disk has no snapshot table: only qcow2 disks take internal snapshots`);
}

/** 409 DISK_UNSUPPORTED: the VM's disk `disk` takes no snapshot, for `reason`. */
export const diskRefused = (vm: Vm, disk: string, reason: string) =>
  new ConflictError('DISK_UNSUPPORTED', `VM "${vm.name}": disk ${disk} cannot be snapshotted: ${reason}`, { vm: vm.name, disk, reason });

/** The snapshot `id` of `snapshots` (the VM's, read just before); 404 SNAPSHOT_NOT_FOUND naming `sid` otherwise. */
export function findSnapshot(snapshots: Snapshot[], vm: Vm, id: string): Snapshot {
  const snap = snapshots.find((s) => s.id === id);
  if (!snap) throw new NotFoundError('SNAPSHOT_NOT_FOUND', `VM "${vm.name}" has no snapshot "${id}"`, { field: 'sid', vm: vm.name });
  return snap;
}

/** 409 SNAPSHOT_EXISTS naming `name`: snapshot names are unique per VM. */
export const snapshotExists = (name: string, details: Record<string, unknown> = {}) =>
  new ConflictError('SNAPSHOT_EXISTS', `the VM already has a snapshot "${name}"`, { field: 'name', ...details });
