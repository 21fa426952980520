// Power on libvirt: start (`virsh start`), ACPI shutdown with a wait, stop (`virsh destroy`),
// on the daemon of the VM's host, read-write. Each answers the VM as libvirt then reports
// it (read again, never assumed). A VM already in the asked state is answered as it is,
// so that repeating a request is harmless; a state that changed between our read and the
// action is libvirt's 409 LIBVIRT_INVALID_STATE.
import { inject, injectable } from 'tsyringe';
import { NotFoundError } from '../../shared/errors';
import type { Vm } from '../inventory/Inventory';
import type { VmPower } from '../inventory/VmPower';
import { LibvirtDaemons } from './LibvirtDaemons';
import { LibvirtInventory } from './LibvirtInventory';

/** How often a shutdown reads the domain's state while it waits. */
const SHUTDOWN_POLL_MS = 500;

@injectable()
export class LibvirtPower implements VmPower {
  constructor(
    @inject(LibvirtDaemons) private readonly daemons: LibvirtDaemons,
    @inject(LibvirtInventory) private readonly inventory: LibvirtInventory,
  ) {}

  async start(vm: Vm): Promise<Vm> {
    if (vm.status === 'down') await this.daemons.of(vm.hostId).start(vm.id);
    return this.reread(vm);
  }

  async shutdown(vm: Vm, timeoutMs: number): Promise<Vm> {
    if (vm.status === 'down') return vm;
    await this.daemons.of(vm.hostId).shutdown(vm.id);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.reread(vm);
      if (now.status === 'down' || Date.now() >= end) return now;
      await new Promise((r) => setTimeout(r, Math.min(SHUTDOWN_POLL_MS, Math.max(0, end - Date.now()))));
    }
  }

  async stop(vm: Vm): Promise<Vm> {
    if (vm.status !== 'down') await this.daemons.of(vm.hostId).destroy(vm.id);
    return this.reread(vm);
  }

  private async reread(vm: Vm): Promise<Vm> {
    const now = await this.inventory.getVm(vm.id);
    if (!now) throw new NotFoundError('VM_NOT_FOUND', `VM "${vm.name}" is no longer defined in libvirt`, { id: vm.id });
    return now;
  }
}
