// What the inventory holds of a room now: each planned VM looked up by its name, with its
// snapshots where the inventory keeps them. Every room command starts here (show lists
// it, rollout decides on it, reset and delete act on it), so the lookups are written once.
// Also the one refusal of a command whose port the inventory lacks (400 NOT_SUPPORTED
// naming what is missing, as the routes' portOf does).
import { inject, injectable } from 'tsyringe';
import { SysprepError } from '../../shared/errors';
import type { RoomPlan, RoomVmPlan } from '../../shared/rooms/RoomPlan';
import { EngineConfig } from '../config';
import { Inventory } from '../inventory/Inventory';
import type { Vm } from '../inventory/Inventory';
import { VmSnapshots } from '../inventory/VmSnapshots';
import type { Snapshot } from '../inventory/VmSnapshots';
import { Slicer } from '../slicer';

export interface RoomVmState {
  plan: RoomVmPlan;
  /** The VM of the planned name, if any. */
  vm?: Vm;
  /** Its snapshots; undefined when it does not exist or the inventory keeps none. */
  snapshots?: Snapshot[];
}

@injectable()
export class RoomState {
  constructor(
    @inject(Inventory) private readonly inventory: Inventory,
    @inject(VmSnapshots) private readonly snapshots: VmSnapshots | null,
    @inject(EngineConfig) private readonly config: EngineConfig,
  ) {}

  async read(plan: RoomPlan): Promise<RoomVmState[]> {
    const out: RoomVmState[] = [];
    const slicer = new Slicer();
    for (const p of plan.vms) {
      await slicer.pause();
      const vm = await this.inventory.getVm(p.name);
      // A name may also be another VM's id: only a VM of that very name is the room's.
      const own = vm?.name === p.name ? vm : undefined;
      out.push({ plan: p, vm: own, snapshots: own && this.snapshots ? await this.snapshots.list(own) : undefined });
    }
    return out;
  }

  /** The port, or 400 NOT_SUPPORTED: `room COMMAND needs WHAT`. */
  require<T>(port: T | null, what: string, command: string): T {
    if (!port) throw new SysprepError('invalid', 'NOT_SUPPORTED', `room ${command} needs ${what}, which the ${this.config.inventory} inventory does not offer`, { field: 'inventory', inventory: this.config.inventory, missing: what });
    return port;
  }
}
