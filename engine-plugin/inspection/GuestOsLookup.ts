// Contract 10 of issue 15: what the engine knows of a VM's guest OS from the last
// inspection of its disks, if the disks have not changed since (their generation, as
// the agent reports it, is the cache key: docs/inspection.md). The OS guard reads the
// OS through this one function (plus the inventory's declared OS).
import type { GuestOs } from '../../shared/guestOs';
import type { Vm } from '../inventory/Inventory';

export interface GuestOsLookup {
  /**
   * The cached inspection's GuestOs (source "inspection") when one exists for these
   * disks and their generation is unchanged; undefined otherwise (never inspected, a disk
   * changed, an agent cannot be asked). Never launches an inspection itself.
   */
  guestOsOf(vm: Vm): Promise<GuestOs | undefined>;
}
export const GuestOsLookup = Symbol('GuestOsLookup');
