// OS inspection of a VM's disks (read-only), asked of an agent HostSelector picks: the
// VM's own host first.
import { inject, injectable } from 'tsyringe';
import type { InspectResult } from '../../shared/wireTypes';
import type { Vm } from '../inventory/Inventory';
import { HostSelector } from './HostSelector';

@injectable()
export class Inspector {
  constructor(@inject(HostSelector) private readonly hosts: HostSelector) {}

  async inspect(vm: Vm): Promise<InspectResult & { vm: string; host: string }> {
    const [agent] = this.hosts.candidates(vm.disks, vm.hostId);
    return { vm: vm.id, host: agent.host.id, ...(await agent.client.inspect(vm.disks.map((d) => ({ path: d.path, format: d.format })))) };
  }
}
