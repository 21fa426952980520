// What only an inventory the engine owns can do (the embedded one): register templates,
// clone, import, create pools, mark VM status. The oVirt adapter does not implement it:
// there, oVirt itself does these things and the engine sees them as events.
import type { DiskRef, Host, Pool, Template, Vm, VmStatus } from './Inventory';

export interface DiskInput {
  path: string;
  format?: string;
}

/** The id of an active job working on the VM or template, if any: asked where a delete decides. */
export type ActiveJobOf = (target: { type: 'vm' | 'template'; id: string }) => string | undefined;

export interface InventoryActions {
  upsertHost(host: Host): Promise<void>;
  registerTemplate(input: { name: string; disks: DiskInput[] }): Promise<Template>;
  /** A copy-on-write clone of the template's disks; created with `status`. */
  cloneVm(input: { name: string; template: string; status: VmStatus }): Promise<Vm>;
  importVm(input: { name: string; disks: DiskInput[]; hostId?: string; status: VmStatus }): Promise<Vm>;
  /** `size` clones named by `vmNames(index)` (1-based index). */
  createPool(input: { name: string; template: string; size: number; vmName: (index: number) => string; status: VmStatus }): Promise<{ pool: Pool; vms: Vm[] }>;
  setVmStatus(id: string, status: VmStatus): Promise<Vm>;
  /** Deletes the VM (id or name): its row, its disks' owner rows and, for a clone, its overlays. 409 IN_USE while busy. */
  deleteVm(ref: string, activeJob: ActiveJobOf): Promise<Vm>;
  /** Deletes the template's row and owner rows (its disk files stay: the engine did not make them). 409 IN_USE while a clone or pool uses it. */
  deleteTemplate(ref: string, activeJob: ActiveJobOf): Promise<Template>;
  /** Deletes the pool and its VMs (as deleteVm). 409 IN_USE while one of its VMs is busy. */
  deletePool(ref: string, activeJob: ActiveJobOf): Promise<Pool>;
  /** VMs whose disks are backed by this template (a seal would corrupt them). */
  vmsOfTemplate(templateId: string): Promise<Vm[]>;
}

export const InventoryActions = Symbol('InventoryActions');
export type { DiskRef };
