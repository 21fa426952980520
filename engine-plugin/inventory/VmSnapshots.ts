// The snapshot port: list, create, revert and delete a VM's snapshots. The routes and the
// CLI call it without knowing the inventory. libvirt implements it with internal qcow2
// snapshots of a shut-off domain (LibvirtSnapshots); the embedded inventory and oVirt
// register none and the routes answer NOT_SUPPORTED (docs/engine-decisions.md).
// The callers check that the VM is down and that no job holds it before a change.
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
