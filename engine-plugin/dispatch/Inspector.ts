// OS inspection of a VM's or template's disks (read-only), asked of an agent HostSelector
// picks: the VM's own host first. Also the disks' generations as that agent reads them
// now (CheckDisks), which the inspection cache compares with the inspected ones.
import { inject, injectable } from 'tsyringe';
import { UnavailableError } from '../../shared/errors';
import type { InspectResult } from '../../shared/wireTypes';
import type { DiskRef } from '../inventory/Inventory';
import { HostSelector } from './HostSelector';

const wireDisks = (disks: DiskRef[]) => disks.map((d) => ({ path: d.path, format: d.format }));

@injectable()
export class Inspector {
  constructor(@inject(HostSelector) private readonly hosts: HostSelector) {}

  private agent(disks: DiskRef[], hostId: string | undefined) {
    const [agent] = this.hosts.reachable(this.hosts.candidates(disks, hostId));
    if (!agent) throw new UnavailableError('AGENT_UNAVAILABLE', 'no reachable host agent sees these disks');
    return agent;
  }

  /** One inspection (one appliance launch on the agent): the result and the host that ran it. */
  async inspect(disks: DiskRef[], hostId?: string): Promise<{ result: InspectResult; host: string }> {
    const agent = this.agent(disks, hostId);
    return { result: await agent.client.inspect(wireDisks(disks)), host: agent.host.id };
  }

  /** Each disk's generation now (agent.proto DiskCheck.generation; '' for a block device). */
  async generations(disks: DiskRef[], hostId?: string): Promise<string[]> {
    const reply = await this.agent(disks, hostId).client.checkDisks(wireDisks(disks));
    return reply.disks.map((d) => d.generation);
  }
}
