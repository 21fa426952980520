// The inventory actions on libvirt (InventoryActions port): clone, import, pools, template
// registration, and the release of a VM held until its automatic reset ends. Nothing
// above the port knows libvirt: the routes and the CLI are those of the embedded inventory.
//
// Clone (`POST /vms {name, template}`), steps:
// 1. The template domain: shut off, every disk a file disk (else 409 naming it), checked
//    by the agent of its storage (in a storage root, format probed, not in use).
// 2. A clone directory `<dir of the template's first disk>/vms/<uuid>/` inside a storage
//    root (cloneDir.ts, as the embedded inventory), the UUID ours (random, as libvirt's):
//    the directory is named before the domain exists.
// 3. A qcow2 overlay per template disk, backed by it; at its staging path while the clone
//    is held (status image_locked: [auto_reset] clone is on), else at its final path
//    (heldOverlays.ts says why and how).
// 4. `virsh define` of the template's definition turned into the clone's (domainXml.ts:
//    name, UUID, MACs, nvram, metadata with the clone's marks, disks; Virsh.define). A
//    failure removes the directory: no file without a domain.
// Import and template registration define a minimal domain (no NIC) on disks an agent
// checked; an import is held by our hold mark only (its disks are not ours to rename):
// the product refuses to start or delete it (VM_BUSY, IN_USE) and, while the reset job
// runs, QEMU's image lock refuses any other start.
// setVmStatus(id, 'down') is the release (AutoReset, when the reset ends or at start-up):
// libvirt owns every other state, so other statuses change nothing.
import type { OsType } from '../../shared/guestOs';
import { checkMarks, type CloneInput } from '../inventory/VmCloning';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { ConflictError, InputError, NotFoundError, SysprepError, UnavailableError } from '../../shared/errors';
import { EngineConfig } from '../config';
import { makeCloneDir, removeCloneDir } from '../inventory/cloneDir';
import { asTemplateRefusal, checkedDisks, checkedDisksOn, DiskChecker } from '../inventory/DiskChecker';
import { validateDiskInputs } from '../inventory/diskInputs';
import { checkName } from '../inventory/EmbeddedInventory';
import type { DiskRef, Pool, Template, Vm, VmStatus } from '../inventory/Inventory';
import type { ActiveJobOf, DiskInput, InventoryActions } from '../inventory/InventoryActions';
import { QemuImg } from '../inventory/qemuImg';
import { underRoot } from '../inventory/storageRoots';
import { Logger } from '../logger';
import { cloneDomainXml, cloneMetadataXml, marksMetadataXml, METADATA_KEY, metadataXml, newDomainXml, OverlayRecord } from './domainXml';
import { finalOverlay, releaseHeld, stagingOf } from './heldOverlays';
import { EngineDefinedDomains } from './EngineDefinedDomains';
import { LibvirtDaemons } from './LibvirtDaemons';
import type { Virsh } from './Virsh';
import { LibvirtDeletion } from './LibvirtDeletion';
import { Domain, LibvirtInventory, toTemplate, toVm } from './LibvirtInventory';
import { METADATA_NS, vmStatusOf } from './libvirtModel';

/**
 * How long a domain the engine defined stays its own for the event watcher (which looks at
 * a new domain 2 s after libvirt reports it): long enough on a loaded host, so that an
 * import whose reset is off is not reset by the [auto_reset] libvirt_defined trigger.
 */
const OWN_DEFINE_GRACE_MS = 60_000;

/** Waits between the attempts of a release while libvirt cannot be reached (about a minute in all). */
const RELEASE_RETRIES_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

@injectable()
export class LibvirtActions implements InventoryActions {
  constructor(
    @inject(LibvirtInventory) private readonly inventory: LibvirtInventory,
    @inject(LibvirtDeletion) private readonly deletion: LibvirtDeletion,
    @inject(LibvirtDaemons) private readonly daemons: LibvirtDaemons,
    @inject(EngineDefinedDomains) private readonly own: EngineDefinedDomains,
    @inject(DiskChecker) private readonly checker: DiskChecker,
    @inject(QemuImg) private readonly qemu: QemuImg,
    @inject(EngineConfig) private readonly config: EngineConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** Hosts are the [host:ID] sections, read where needed: nothing to record. */
  async upsertHost(): Promise<void> {}

  // ---- clone and pools -----------------------------------------------------------

  async cloneVm(input: CloneInput): Promise<Vm> {
    checkName('name', input.name);
    const marks = checkMarks(input.marks);
    const t = await this.cloneSource(input.template);
    await this.assertNameFree('name', [input.name]);
    return this.clone(t, input.name, input.status === 'image_locked', undefined, marks);
  }

  async createPool(input: { name: string; template: string; size: number; vmName: (index: number) => string; status: VmStatus }): Promise<{ pool: Pool; vms: Vm[] }> {
    checkName('name', input.name);
    const t = await this.cloneSource(input.template);
    if (await this.inventory.getPool(input.name)) throw new ConflictError('NAME_IN_USE', `pool "${input.name}" already exists`, { field: 'name' });
    const names = Array.from({ length: input.size }, (_, i) => input.vmName(i + 1));
    names.forEach((n) => checkName('vmNamePattern', n));
    if (new Set(names).size !== names.length) throw new InputError('vmNamePattern', 'gives several VMs the same name: use ${index}');
    await this.assertNameFree('vmNamePattern', names);
    const vms: Vm[] = [];
    try {
      for (const [i, name] of names.entries()) vms.push(await this.clone(t, name, input.status === 'image_locked', { name: input.name, index: i + 1 }));
    } catch (err) {
      // No half pool: the clones made so far go (their overlays with them).
      for (const vm of vms) await this.undo(t.hostId, vm.id, path.dirname(vm.disks[0].path));
      throw err;
    }
    return { pool: { id: input.name, name: input.name, templateId: t.info.uuid, vmIds: vms.map((v) => v.id) }, vms };
  }

  /** The template domain a clone builds on (step 1), its disks as the agent found them. */
  private async cloneSource(ref: string): Promise<Domain & { base: DiskRef[] }> {
    const t = await this.inventory.findDomain(ref);
    if (!t?.info.template) throw new NotFoundError('TEMPLATE_NOT_FOUND', `template: no template "${ref}"`, { field: 'template' });
    const bad = t.info.disks.find((d) => d.unsupported);
    if (bad) throw new ConflictError('DISK_UNSUPPORTED', `template "${t.info.name}" cannot be cloned: disk ${bad.path}: ${bad.unsupported}`, { field: 'template', disk: bad.path, reason: bad.unsupported });
    if (t.info.disks.length === 0) throw new ConflictError('DISK_UNSUPPORTED', `template "${t.info.name}" has no disk to clone`, { field: 'template' });
    const status = vmStatusOf(t.state);
    if (status !== 'down') throw new ConflictError('VM_NOT_DOWN', `template "${t.info.name}" is ${status}: a clone is made from a shut-off template`, { field: 'template', status });
    try {
      const base = await checkedDisks(this.checker, validateDiskInputs(t.info.disks.map((d) => ({ path: d.path, format: d.format }))), { hostId: t.hostId, idle: true });
      return { ...t, base };
    } catch (err) {
      throw asTemplateRefusal(err, t.info.name);
    }
  }

  /** Steps 2-4 for one clone; the VM as libvirt then reports it. */
  private async clone(t: Domain & { base: DiskRef[] }, name: string, hold: boolean, pool?: { name: string; index: number }, marks?: Record<string, string>): Promise<Vm> {
    const uuid = randomUUID();
    const dir = await makeCloneDir(path.dirname(t.base[0].path), uuid, this.rootsOf(t.hostId));
    try {
      const overlays: OverlayRecord[] = t.base.map((_, i) => {
        const file = finalOverlay(dir, i);
        return hold ? { file, pending: stagingOf(file) } : { file };
      });
      for (const [i, d] of t.base.entries()) await this.qemu.createOverlay(overlays[i].pending ?? overlays[i].file, d.path, d.format);
      const metadata = [cloneMetadataXml(t.info.uuid, overlays, true), ...(pool ? [metadataXml('pool', pool, [], true)] : []), ...(marks ? [marksMetadataXml(marks)] : [])];
      const virsh = this.daemons.of(t.hostId);
      const xml = cloneDomainXml(await virsh.definitionXml(t.info.uuid), { name, uuid, disks: overlays.map((o) => o.file), metadata });
      await this.define(virsh, name, xml);
    } catch (err) {
      await removeCloneDir(dir);
      throw err;
    }
    return this.reread(uuid, name);
  }

  /** `virsh define`, the name held as the engine's own so that the event watcher leaves the domain to us. */
  private async define(virsh: Virsh, name: string, xml: string): Promise<void> {
    const release = this.own.hold(virsh.uri, name);
    try {
      await virsh.define(xml);
    } finally {
      setTimeout(release, OWN_DEFINE_GRACE_MS).unref();
    }
  }

  /** A clone taken back (a pool that failed half-way): undefined, its directory removed. */
  private async undo(hostId: string | undefined, uuid: string, dir: string): Promise<void> {
    await this.daemons.of(hostId).undefine(uuid).catch((err) => this.log.warn('could not undefine a clone of a failed pool', { vmId: uuid, error: (err as Error).message }));
    await removeCloneDir(dir);
  }

  // ---- import and templates ------------------------------------------------------

  async importVm(input: { name: string; disks: DiskInput[]; hostId?: string; status: VmStatus; os?: OsType }): Promise<Vm> {
    checkName('name', input.name);
    if (input.hostId !== undefined && !this.config.hosts.some((h) => h.id === input.hostId)) throw new InputError('host', `no host "${input.hostId}"`, 'HOST_NOT_FOUND');
    const { disks, hostId } = await this.newDisks(input.disks, input.hostId);
    const uuid = randomUUID();
    const metadata = input.status === 'image_locked' ? [metadataXml('hold', {}, [], true)] : [];
    if (input.os) metadata.push(metadataXml('os', { type: input.os }, [], true));
    await this.define(this.daemons.of(hostId), input.name, newDomainXml({ name: input.name, uuid, disks, metadata }));
    return this.reread(uuid, input.name);
  }

  async registerTemplate(input: { name: string; disks: DiskInput[] }): Promise<Template> {
    checkName('name', input.name);
    const { disks, hostId } = await this.newDisks(input.disks, undefined, true);
    const uuid = randomUUID();
    await this.define(this.daemons.of(hostId), input.name, newDomainXml({ name: input.name, uuid, disks, metadata: [metadataXml('template', {}, [], true)] }));
    const d = await this.inventory.findDomain(uuid);
    if (!d) throw new SysprepError('failed', 'VIRSH_FAILED', `template "${input.name}" was defined but libvirt does not list it`);
    return toTemplate(d);
  }

  /**
   * Disks of a new domain: the cheap checks, the name free, then the agent's (in its
   * roots, probed, each real path once, not a disk of another domain). `idle`: a template's
   * disk may not be open read-write anywhere.
   */
  private async newDisks(input: DiskInput[], hostId: string | undefined, idle = false): Promise<{ disks: DiskRef[]; hostId: string | undefined }> {
    const inputs = validateDiskInputs(input);
    const checked = await checkedDisksOn(this.checker, inputs, { hostId, idle });
    const disks = checked.disks;
    const owners = new Map<string, string>();
    for (const d of await this.inventory.listDomains()) for (const x of d.info.disks) owners.set(x.path, d.info.name);
    disks.forEach((d, i) => {
      const owner = owners.get(d.path) ?? owners.get(inputs[i].path);
      if (owner) throw new ConflictError('DISK_IN_USE', `disks[${i}].path: ${d.path} is a disk of domain "${owner}"`, { field: `disks[${i}].path`, disk: d.path, domain: owner });
    });
    return { disks, hostId: hostId ?? checked.hostId };
  }

  // ---- release -------------------------------------------------------------------

  async setVmStatus(id: string, status: VmStatus): Promise<Vm> {
    // A daemon restarting (libvirtd restarted by its service manager, an upgrade) must not
    // leave the VM locked until the engine restarts: the release is tried again for a while.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.release(id, status);
      } catch (err) {
        if (!(err instanceof UnavailableError) || attempt >= RELEASE_RETRIES_MS.length) throw err;
        this.log.warn('libvirt unreachable while releasing a VM: trying again', { vmId: id, inMs: RELEASE_RETRIES_MS[attempt] });
        await new Promise((r) => setTimeout(r, RELEASE_RETRIES_MS[attempt]));
      }
    }
  }

  private async release(id: string, status: VmStatus): Promise<Vm> {
    const d = await this.inventory.findDomain(id);
    if (!d || d.info.template) throw new NotFoundError('VM_NOT_FOUND', `no VM "${id}"`, { id });
    if (status !== 'down' || !d.info.held) return toVm(d);
    const virsh = this.daemons.of(d.hostId);
    if (d.info.pending) {
      // A clone: its staging files renamed, then the pending marks dropped (heldOverlays.ts step 4).
      const refused = await releaseHeld(d.info.pending, this.rootsOf(d.hostId));
      if (refused.length) return this.notOurs(d, refused);
      const overlays = (d.info.overlays ?? []).map((file) => ({ file }));
      await virsh.setMetadata(d.info.uuid, METADATA_NS.clone, METADATA_KEY, cloneMetadataXml(d.info.cloneOf ?? '', overlays));
    } else {
      // An import: its hold mark, when its disks are in this engine's storage roots.
      const roots = this.rootsOf(d.hostId);
      const outside = d.info.disks.filter((x) => !roots.some((r) => underRoot(x.path, r))).map((x) => x.path);
      if (outside.length) return this.notOurs(d, outside);
      await virsh.setMetadata(d.info.uuid, METADATA_NS.hold, METADATA_KEY, undefined);
    }
    return this.reread(d.info.uuid, d.info.name);
  }

  /** A held domain this engine may not release: left held, as it is. */
  private notOurs(d: Domain, files: string[]): Vm {
    this.log.warn('held VM left held: its files are not in a clone directory of this engine\'s storage roots (another engine\'s, or edited metadata)', { vmId: d.info.uuid, files });
    return toVm(d);
  }

  // ---- delete and clones (the libvirt ports this one extends) --------------------

  deleteVm(ref: string, activeJob: ActiveJobOf): Promise<Vm> {
    return this.deletion.deleteVm(ref, activeJob);
  }

  deleteTemplate(ref: string, activeJob: ActiveJobOf): Promise<Template> {
    return this.deletion.deleteTemplate(ref, activeJob);
  }

  deletePool(ref: string, activeJob: ActiveJobOf): Promise<Pool> {
    return this.deletion.deletePool(ref, activeJob);
  }

  vmsOfTemplate(templateId: string): Promise<Vm[]> {
    return this.inventory.vmsOfTemplate(templateId);
  }

  // ---- helpers -------------------------------------------------------------------

  /** The storage roots of the host (every host's when undefined): the only places files are made. */
  private rootsOf(hostId: string | undefined): string[] {
    return this.config.hosts.filter((h) => hostId === undefined || h.id === hostId).flatMap((h) => h.storageRoots);
  }

  /** 409 NAME_IN_USE when a domain (VM or template, any host) has one of these names. */
  private async assertNameFree(field: string, names: string[]): Promise<void> {
    const taken = new Set((await this.inventory.listDomains()).map((d) => d.info.name));
    const used = names.filter((n) => taken.has(n));
    if (used.length) throw new ConflictError('NAME_IN_USE', `domain name(s) already in use: ${used.slice(0, 5).join(', ')}`, { field });
  }

  private async reread(uuid: string, name: string): Promise<Vm> {
    const d = await this.inventory.findDomain(uuid);
    if (!d) throw new SysprepError('failed', 'VIRSH_FAILED', `VM "${name}" was defined but libvirt does not list it`);
    return toVm(d);
  }
}
