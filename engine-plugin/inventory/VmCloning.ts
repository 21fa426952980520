// The clone port: a new VM from a template, as rooms (and POST /vms) need on every
// inventory. The embedded inventory and libvirt make copy-on-write overlays of the
// template's disks (InventoryActions implements it there); oVirt creates the VM from the
// template through its REST API. `marks` are the product's own labels on the VM (a room
// marks the VMs it created, so that `room delete` removes those and nothing else): kept
// with the VM by each inventory and read back on Vm.marks.
import type { Vm, VmStatus } from './Inventory';

export interface CloneInput {
  name: string;
  /** Template id or name. */
  template: string;
  /** The status the new VM is created with (image_locked: held until its reset ends). */
  status: VmStatus;
  /** Labels kept with the VM (key -> value), read back on Vm.marks. */
  marks?: Record<string, string>;
}

export interface VmCloning {
  /** A VM cloned from the template; 409 when the name is taken, 404 when the template is unknown. */
  cloneVm(input: CloneInput): Promise<Vm>;
}

export const VmCloning = Symbol('VmCloning');
