// Deleting on libvirt (DELETE /vms/{id}, /templates/{id}): undefine the domain, then
// remove the overlays the product made for it, and nothing else.
//   * Refused with 409 IN_USE (details.field = "id"): a VM that a job works on or that is
//     not shut off (stop it first), a template a job works on or that still has clones
//     (domains whose clone metadata names it).
//   * The files removed are those our clone metadata lists (<overlay file=.../>) that are
//     still disks of the domain AND lie in a clone directory (`.../vms/<dir>/`, resolving
//     inside a storage root: cloneDir.ts removeCloneFiles, shared with the embedded
//     inventory), then that directory when empty. Metadata edited to name another file, or
//     a disk added by hand, is never removed. A template's disks are the administrator's.
//   * Undefine comes first: a domain that cannot be undefined keeps its disks.
//   * Pools: not yet (docs/libvirt.md): 400 NOT_SUPPORTED.
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { ConflictError, NotFoundError, SysprepError } from '../../shared/errors';
import { EngineConfig } from '../config';
import { removeCloneFiles } from '../inventory/cloneDir';
import type { Pool, Template, Vm } from '../inventory/Inventory';
import type { ActiveJobOf, InventoryDeletion } from '../inventory/InventoryDeletion';
import { vmStatusOf } from './libvirtModel';
import { LibvirtDaemons } from './LibvirtDaemons';
import { Domain, LibvirtInventory, toTemplate, toVm } from './LibvirtInventory';

const inUse = (message: string, details: Record<string, unknown> = {}) => new ConflictError('IN_USE', message, { field: 'id', ...details });

@injectable()
export class LibvirtDeletion implements InventoryDeletion {
  constructor(
    @inject(LibvirtInventory) private readonly inventory: LibvirtInventory,
    @inject(LibvirtDaemons) private readonly daemons: LibvirtDaemons,
    @inject(EngineConfig) private readonly config: EngineConfig,
  ) {}

  async deleteVm(ref: string, activeJob: ActiveJobOf): Promise<Vm> {
    const d = await this.inventory.findDomain(ref);
    if (!d || d.info.template) throw new NotFoundError('VM_NOT_FOUND', `no VM "${ref}"`, { field: 'id' });
    const vm = toVm(d);
    const job = activeJob({ type: 'vm', id: vm.id });
    if (job) throw inUse(`VM "${vm.name}" has an active job ${job}`, { jobId: job });
    if (vm.status !== 'down') throw inUse(`VM "${vm.name}" is ${vm.status}: stop it first`, { status: vm.status });
    await this.daemons.of(d.hostId).undefine(d.info.uuid);
    await this.removeOverlays(d);
    return vm;
  }

  async deleteTemplate(ref: string, activeJob: ActiveJobOf): Promise<Template> {
    const d = await this.inventory.findDomain(ref);
    if (!d?.info.template) throw new NotFoundError('TEMPLATE_NOT_FOUND', `no template "${ref}"`, { field: 'id' });
    const job = activeJob({ type: 'template', id: d.info.uuid });
    if (job) throw inUse(`template "${d.info.name}" has an active job ${job}`, { jobId: job });
    const clones = (await this.inventory.vmsOfTemplate(d.info.uuid)).map((c) => c.name);
    if (clones.length) throw inUse(`template "${d.info.name}" backs the disks of VM(s) ${clones.slice(0, 20).join(', ')}: delete them first`, { vms: clones.slice(0, 20) });
    const status = vmStatusOf(d.state);
    if (status !== 'down') throw inUse(`template "${d.info.name}" is ${status}: stop it first`, { status });
    await this.daemons.of(d.hostId).undefine(d.info.uuid);
    return toTemplate(d);
  }

  async deletePool(): Promise<Pool> {
    throw new SysprepError('invalid', 'NOT_SUPPORTED', 'deleting a pool on libvirt comes with pool creation (docs/libvirt.md): delete its VMs one by one', { field: 'inventory' });
  }

  /** Our overlays that are still the domain's disks, each through the shared clone-directory checks. */
  private async removeOverlays(d: Domain): Promise<void> {
    const disks = new Set(d.info.disks.map((x) => x.path));
    const roots = this.config.hosts.filter((h) => d.hostId === undefined || h.id === d.hostId).flatMap((h) => h.storageRoots);
    for (const file of d.info.overlays ?? []) {
      if (!disks.has(file)) continue;
      await removeCloneFiles(path.basename(path.dirname(file)), [{ path: file }], roots);
    }
  }
}
