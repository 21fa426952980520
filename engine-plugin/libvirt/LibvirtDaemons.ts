// The libvirt daemons of a set-up, one per host (LibvirtConfig.libvirtSources), each with
// its virsh: shared by the inventory (reads) and the power actions (writes), so that a
// VM's host always names the same daemon.
import { inject, injectable } from 'tsyringe';
import { NotFoundError } from '../../shared/errors';
import { EngineConfig } from '../config';
import { LibvirtConfig, libvirtSources } from './LibvirtConfig';
import { Virsh } from './Virsh';

export interface LibvirtDaemon {
  virsh: Virsh;
  /** Undefined when no [host:ID] is configured. */
  hostId?: string;
}

@injectable()
export class LibvirtDaemons {
  readonly all: LibvirtDaemon[];

  constructor(@inject(EngineConfig) engineConfig: EngineConfig, @inject(LibvirtConfig) config: LibvirtConfig) {
    this.all = libvirtSources(engineConfig.hosts, config).map((s) => ({ virsh: new Virsh(s.uri, config.timeoutSec * 1000), hostId: s.hostId }));
  }

  /** The virsh of the daemon holding the domains of `hostId` (a VM's hostId, as the inventory set it). */
  of(hostId: string | undefined): Virsh {
    const d = this.all.find((s) => s.hostId === hostId);
    if (!d) throw new NotFoundError('HOST_NOT_FOUND', `no libvirt daemon is configured for host ${JSON.stringify(hostId)}`, { hostId });
    return d.virsh;
  }
}
