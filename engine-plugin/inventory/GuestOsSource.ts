// What the engine knows of a VM's guest OS, asked through one function (issue 15): the
// OS guard (jobs/JobService.ts) and the automatic reset's profile choice read it. The
// last inspection of the VM's disks while still valid (GuestOsLookup, contract 10) comes
// first: it looked at the disks; else the inventory's declaration (oVirt's os.type,
// libvirt's libosinfo or our own metadata, an embedded VM's `os`); else unknown.
import { inject, injectable } from 'tsyringe';
import type { GuestOs } from '../../shared/guestOs';
import { GuestOsLookup } from '../inspection/GuestOsLookup';
import type { Vm } from './Inventory';

export interface GuestOsSource {
  /** The VM's guest OS; `{type: 'unknown'}` when nothing is known. */
  guestOsOf(vm: Vm): Promise<GuestOs>;
}
export const GuestOsSource = Symbol('GuestOsSource');

export const UNKNOWN_OS: GuestOs = { type: 'unknown' };

@injectable()
export class KnownGuestOs implements GuestOsSource {
  constructor(@inject(GuestOsLookup) private readonly inspected: GuestOsLookup) {}

  async guestOsOf(vm: Vm): Promise<GuestOs> {
    const inspected = await this.inspected.guestOsOf(vm);
    if (inspected && inspected.type !== 'unknown') return inspected;
    return vm.os ? { ...vm.os, source: 'inventory' } : UNKNOWN_OS;
  }
}
