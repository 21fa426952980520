// Deleting on oVirt (InventoryDeletion): DELETE /vms/{id} (api-model services/VmService.java
// Remove; ovirt-engine RemoveVmCommand removes the VM with its disks, a thin VM's layers
// only: the template's volumes stay). Refused with 409 IN_USE (details.field = "id") for a
// VM that a job works on or that is not down, as every inventory does; oVirt answers at
// once and removes the disks afterwards (the VM image_locked meanwhile): waited for until
// the VM is gone. Templates and pools are oVirt's to delete: 400 NOT_SUPPORTED.
import { inject, injectable } from 'tsyringe';
import { ConflictError, SysprepError } from '../../shared/errors';
import type { Pool, Template, Vm } from '../inventory/Inventory';
import type { ActiveJobOf, InventoryDeletion } from '../inventory/InventoryDeletion';
import { requireVm } from '../inventory/requireEntity';
import { Logger } from '../logger';
import { OvirtClient } from './OvirtClient';
import { OvirtConfig } from './OvirtConfig';
import { OvirtInventory } from './OvirtInventory';
import { waitFor } from './ovirtWait';

const inUse = (message: string, details: Record<string, unknown> = {}) => new ConflictError('IN_USE', message, { field: 'id', ...details });
const elsewhere = (what: string) => new SysprepError('invalid', 'NOT_SUPPORTED', `this inventory is managed by oVirt: delete ${what} there`, { field: 'inventory' });

@injectable()
export class OvirtDeletion implements InventoryDeletion {
  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtInventory) private readonly inventory: OvirtInventory,
    @inject(OvirtConfig) private readonly config: OvirtConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async deleteVm(ref: string, activeJob: ActiveJobOf): Promise<Vm> {
    const vm = await requireVm(this.inventory, ref);
    const job = activeJob({ type: 'vm', id: vm.id });
    if (job) throw inUse(`VM "${vm.name}" has an active job ${job}`, { jobId: job });
    if (vm.status !== 'down') throw inUse(`VM "${vm.name}" is ${vm.status}: stop it first`, { status: vm.status });
    await this.client.delete(`/vms/${vm.id}`);
    this.inventory.invalidate();
    await waitFor({
      what: `VM "${vm.name}" to be removed`,
      timeoutMs: this.config.readyTimeoutSec * 1000,
      read: () => this.inventory.rawVm(vm.id),
      done: (v) => v === undefined,
      describe: (v) => `status ${v?.status}`,
    });
    this.inventory.invalidate(); // listings read while it was being removed
    this.log.info('oVirt VM removed', { vmId: vm.id, name: vm.name });
    return vm;
  }

  async deleteTemplate(): Promise<Template> {
    throw elsewhere('templates');
  }

  async deletePool(): Promise<Pool> {
    throw elsewhere('pools');
  }
}
