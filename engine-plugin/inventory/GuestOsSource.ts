// What the engine knows of a VM's guest OS, asked through one function (issue 15,
// contract 10): the OS guard (jobs/JobService.ts) and the automatic reset's profile
// choice read it. This implementation answers the inventory's declaration (oVirt's
// os.type, libvirt's libosinfo metadata, an embedded VM's `os`); the inspection cache
// (the last inspection of the VM's disks, while still valid) takes precedence where the
// engine has one and is registered under the same token.
import { injectable } from 'tsyringe';
import type { GuestOs } from '../../shared/guestOs';
import type { Vm } from './Inventory';

export interface GuestOsSource {
  /** The VM's guest OS; `{type: 'unknown'}` when nothing is known. */
  guestOsOf(vm: Vm): Promise<GuestOs>;
}
export const GuestOsSource = Symbol('GuestOsSource');

export const UNKNOWN_OS: GuestOs = { type: 'unknown' };

@injectable()
export class DeclaredGuestOs implements GuestOsSource {
  async guestOsOf(vm: Vm): Promise<GuestOs> {
    return vm.os ? { ...vm.os, source: 'inventory' } : UNKNOWN_OS;
  }
}
