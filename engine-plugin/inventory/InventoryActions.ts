// What only an inventory the engine owns can do (the embedded one): register templates,
// clone, import, create pools, mark VM status, and delete (InventoryDeletion, a port of
// its own that the libvirt adapter implements too). The oVirt adapter does not implement it:
// there, oVirt itself does these things and the engine sees them as events.
import type { OsType } from '../../shared/guestOs';
import type { DiskRef, Host, Pool, Template, Vm, VmStatus } from './Inventory';
import type { ActiveJobOf, InventoryDeletion } from './InventoryDeletion';
import type { TemplateClones } from './TemplateClones';
import type { CloneInput, VmCloning } from './VmCloning';

export interface DiskInput {
  path: string;
  format?: string;
}

export interface InventoryActions extends InventoryDeletion, TemplateClones, VmCloning {
  upsertHost(host: Host): Promise<void>;
  registerTemplate(input: { name: string; disks: DiskInput[] }): Promise<Template>;
  /** A copy-on-write clone of the template's disks; created with `status`. */
  cloneVm(input: CloneInput): Promise<Vm>;
  importVm(input: { name: string; disks: DiskInput[]; hostId?: string; status: VmStatus; os?: OsType }): Promise<Vm>;
  /** `size` clones named by `vmNames(index)` (1-based index). */
  createPool(input: { name: string; template: string; size: number; vmName: (index: number) => string; status: VmStatus }): Promise<{ pool: Pool; vms: Vm[] }>;
  setVmStatus(id: string, status: VmStatus): Promise<Vm>;
}

export const InventoryActions = Symbol('InventoryActions');
export type { ActiveJobOf, DiskRef };
