// The power port: start, shut down and stop a VM. The routes and the CLI call it without
// knowing the inventory: the embedded inventory marks its VMs up or down (it runs nothing),
// the libvirt one really boots, shuts down and destroys domains. oVirt registers none
// (its VMs are started and stopped in oVirt): the routes answer NOT_SUPPORTED.
import type { Vm } from './Inventory';

export interface VmPower {
  /** Boots the VM (embedded: marks it up); a VM already up is answered as it is. */
  start(vm: Vm): Promise<Vm>;
  /**
   * Asks the guest to power off (libvirt: ACPI power button) and waits up to `timeoutMs`
   * for it to be down; answers the VM as it then is: a guest that ignored the request stays
   * up, which is not an error (the caller decides whether to stop it).
   */
  shutdown(vm: Vm, timeoutMs: number): Promise<Vm>;
  /** Stops the VM at once (libvirt: destroy, as pulling the plug; embedded: marks it down). */
  stop(vm: Vm): Promise<Vm>;
}

export const VmPower = Symbol('VmPower');
