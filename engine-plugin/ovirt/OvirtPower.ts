// Power on oVirt (VmPower): the VM service's actions start, shutdown and stop
// (api-model services/VmService.java; POST /vms/{id}/<action> with an empty action).
// oVirt answers when its command is accepted; each action then reads the VM until it
// is in the asked state or the action's bound passes, and answers it as oVirt then
// shows it (never assumed). A VM already in the asked state is answered as it is, so
// repeating a request is harmless. A start waits until the VM is up (bounded by
// POWER_WAIT_MS: a guest that boots slowly is answered powering_up, not an error); a
// shutdown waits `timeoutMs` and answers the guest as it is (one that ignored the
// request stays up); a stop waits until down.
import { inject, injectable } from 'tsyringe';
import { NotFoundError, SysprepError } from '../../shared/errors';
import type { Vm } from '../inventory/Inventory';
import type { VmPower } from '../inventory/VmPower';
import { OvirtClient } from './OvirtClient';
import { OvirtInventory } from './OvirtInventory';
import { waitFor } from './ovirtWait';

/** How long a start or a stop waits for oVirt to show the VM up / down. */
const POWER_WAIT_MS = 120_000;

@injectable()
export class OvirtPower implements VmPower {
  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtInventory) private readonly inventory: OvirtInventory,
  ) {}

  async start(vm: Vm): Promise<Vm> {
    if (vm.status !== 'down') return this.reread(vm);
    await this.client.post(`/vms/${vm.id}/start`, {});
    return this.until(vm, (s) => s !== 'powering_up' && s !== 'down', POWER_WAIT_MS);
  }

  async shutdown(vm: Vm, timeoutMs: number): Promise<Vm> {
    if (vm.status === 'down') return vm;
    await this.client.post(`/vms/${vm.id}/shutdown`, {});
    return this.until(vm, (s) => s === 'down', timeoutMs);
  }

  async stop(vm: Vm): Promise<Vm> {
    if (vm.status === 'down') return this.reread(vm);
    await this.client.post(`/vms/${vm.id}/stop`, {});
    return this.until(vm, (s) => s === 'down', POWER_WAIT_MS);
  }

  /** The VM once `done` holds for its status, or as it is when `timeoutMs` has passed. */
  private async until(vm: Vm, done: (status: Vm['status']) => boolean, timeoutMs: number): Promise<Vm> {
    this.inventory.invalidate();
    try {
      return await waitFor({ what: `VM "${vm.name}"`, timeoutMs, read: () => this.reread(vm), done: (v) => done(v.status) });
    } catch (err) {
      // Past the bound the VM is answered as it is (the port's contract), not an error.
      if (!(err instanceof SysprepError && err.code === 'OVIRT_TIMEOUT')) throw err;
      return this.reread(vm);
    }
  }

  private async reread(vm: Vm): Promise<Vm> {
    const now = await this.inventory.getVm(vm.id);
    if (!now) throw new NotFoundError('VM_NOT_FOUND', `VM "${vm.name}" is no longer in oVirt`, { id: vm.id });
    return now;
  }
}
