// The delete port: DELETE /vms|templates|pools/{id} call it without knowing the inventory.
// The embedded inventory deletes its rows and a clone's overlays; the libvirt one
// undefines domains and removes the overlays the product made; oVirt registers none (the
// routes answer NOT_SUPPORTED: delete in oVirt). Every implementation refuses with 409
// IN_USE (details.field = "id") a VM that runs or that a job works on, and a template
// that still has clones.
import type { Pool, Template, Vm } from './Inventory';

/** The id of an active job working on the VM or template, if any: asked where a delete decides. */
export type ActiveJobOf = (target: { type: 'vm' | 'template'; id: string }) => string | undefined;

export interface InventoryDeletion {
  /** Deletes the VM (id or name) and, for a clone, the overlays the product made for it. 409 IN_USE while busy or running. */
  deleteVm(ref: string, activeJob: ActiveJobOf): Promise<Vm>;
  /** Forgets the template (its disk files stay: the engine did not make them). 409 IN_USE while a clone, a pool or a job uses it. */
  deleteTemplate(ref: string, activeJob: ActiveJobOf): Promise<Template>;
  /** Deletes the pool and its VMs (as deleteVm). 409 IN_USE while one of its VMs is busy. */
  deletePool(ref: string, activeJob: ActiveJobOf): Promise<Pool>;
}

export const InventoryDeletion = Symbol('InventoryDeletion');
