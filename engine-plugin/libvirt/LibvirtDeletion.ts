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
//   * A pool (the domains with its pool mark): every member is checked first, then each
//     is deleted as above; a member refused stops the delete before anything is undefined.
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { ConflictError, NotFoundError } from '../../shared/errors';
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
    const vm = assertDeletable(d, activeJob);
    await this.remove(d);
    return vm;
  }

  async deletePool(ref: string, activeJob: ActiveJobOf): Promise<Pool> {
    const pool = await this.inventory.getPool(ref);
    if (!pool) throw new NotFoundError('POOL_NOT_FOUND', `no pool "${ref}"`, { field: 'id' });
    const members = (await this.inventory.listDomains()).filter((d) => !d.info.template && d.info.pool?.name === pool.id);
    for (const d of members) assertDeletable(d, activeJob, ` of pool "${pool.name}"`);
    for (const d of members) await this.remove(d);
    return pool;
  }

  /** Undefine, then our overlays. */
  private async remove(d: Domain): Promise<void> {
    await this.daemons.of(d.hostId).undefine(d.info.uuid);
    await this.removeOverlays(d);
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

/** The VM a delete may remove: no job on it, shut off (a held clone waits for its reset); else 409 IN_USE. */
function assertDeletable(d: Domain, activeJob: ActiveJobOf, of = ''): Vm {
  const vm = toVm(d);
  const job = activeJob({ type: 'vm', id: vm.id });
  if (job) throw inUse(`VM "${vm.name}"${of} has an active job ${job}`, { jobId: job });
  if (vm.status === 'image_locked') throw inUse(`VM "${vm.name}"${of} is locked until its automatic reset ends`, { status: vm.status });
  if (vm.status !== 'down') throw inUse(`VM "${vm.name}"${of} is ${vm.status}: stop it first`, { status: vm.status });
  return vm;
}
