// Power on the embedded inventory: nothing runs its VMs, so the admin's word is the state.
// Start marks the VM up, shutdown and stop mark it down (no guest to wait for).
import { inject, injectable } from 'tsyringe';
import type { Vm } from './Inventory';
import { InventoryActions } from './InventoryActions';
import type { VmPower } from './VmPower';

@injectable()
export class EmbeddedVmPower implements VmPower {
  constructor(@inject(InventoryActions) private readonly actions: InventoryActions) {}

  start(vm: Vm): Promise<Vm> {
    return this.actions.setVmStatus(vm.id, 'up');
  }

  shutdown(vm: Vm): Promise<Vm> {
    return this.actions.setVmStatus(vm.id, 'down');
  }

  stop(vm: Vm): Promise<Vm> {
    return this.actions.setVmStatus(vm.id, 'down');
  }
}
