// Which template domains back a domain's disks, read from the images themselves: a clone
// made outside the product (qemu-img create -b, virt-manager, virt-clone of an overlay)
// carries no clone metadata, only a backing chain that holds the template's disk.
// Chains are read by the host agents (CheckDisks through the DiskChecker port: the agent
// that owns the storage confines every file of the chain and reads it shared, never
// opening anything for writing); the engine opens no disk itself. Paths are compared as
// the agents resolve them (real paths). Cheap by design: only read when asked (a seal, a
// new domain), never on listings.
//   * TemplateClones (the seal's guard): the VMs whose clone metadata names the template
//     (LibvirtInventory.vmsOfTemplate) plus those with a template disk in a disk's chain.
//   * LibvirtEventWatcher: the templates in a new domain's chains.
import { inject, injectable } from 'tsyringe';
import { SysprepError } from '../../shared/errors';
import type { DiskRef, Vm } from '../inventory/Inventory';
import { DiskChecker } from '../inventory/DiskChecker';
import type { TemplateClones } from '../inventory/TemplateClones';
import { Logger } from '../logger';
import { Domain, LibvirtInventory, toVm } from './LibvirtInventory';

/** Deeper chains than any template/clone layout makes are not followed further (the agents refuse them too). */
const MAX_DEPTH = 16;

/** How a domain's disks relate to the template disks. */
export interface Backing {
  /** Template domains with a disk in the backing chain of one of the domain's disks. */
  backedBy: Domain[];
  /** Template domains whose disk IS one of the domain's disks (the domain runs on the template's own file). */
  sharesDisk: Domain[];
}

@injectable()
export class TemplateBacking implements TemplateClones {
  constructor(
    @inject(LibvirtInventory) private readonly inventory: LibvirtInventory,
    @inject(DiskChecker) private readonly disks: DiskChecker,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /** The templates behind `domain`'s disks, among `templates` (default: every template domain). */
  async of(domain: Domain, templates?: Domain[]): Promise<Backing> {
    templates ??= (await this.inventory.listDomains()).filter((d) => d.info.template);
    const backing: Backing = { backedBy: [], sharesDisk: [] };
    if (templates.length === 0) return backing;
    const [chains, templateFiles] = await Promise.all([this.chains(domain), Promise.all(templates.map((t) => this.realPaths(t)))]);
    templates.forEach((t, i) => {
      const files = templateFiles[i];
      if (chains.some((c) => c.slice(1).some((f) => files.has(f)))) backing.backedBy.push(t);
      if (chains.some((c) => c.length > 0 && files.has(c[0]))) backing.sharesDisk.push(t);
    });
    return backing;
  }

  /** TemplateClones: metadata clones and the domains whose disks the template's disks back or are. */
  async vmsOfTemplate(templateId: string): Promise<Vm[]> {
    const domains = await this.inventory.listDomains();
    const template = domains.find((d) => d.info.template && d.info.uuid === templateId);
    const byMeta = await this.inventory.vmsOfTemplate(templateId);
    if (!template) return byMeta;
    const known = new Set(byMeta.map((v) => v.id));
    const others = domains.filter((d) => !d.info.template && !known.has(d.info.uuid));
    const found = await Promise.all(others.map(async (d) => {
      const b = await this.of(d, [template]);
      return b.backedBy.length || b.sharesDisk.length ? [toVm(d)] : [];
    }));
    return [...byMeta, ...found.flat()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Per disk of the domain: its real path, then its backing files' real paths, nearest first. */
  private async chains(d: Domain): Promise<string[][]> {
    return Promise.all(workable(d.info.disks).map((disk) => this.chain(disk, d)));
  }

  private async chain(disk: DiskRef, d: Domain): Promise<string[]> {
    const out: string[] = [];
    let next: { path: string; format?: string } | undefined = { path: disk.path, format: disk.format };
    while (next && out.length < MAX_DEPTH) {
      let checked;
      try {
        [checked] = await this.disks.check([next], { hostId: d.hostId });
      } catch (err) {
        // The image itself unreadable: no chain. A backing file the agent cannot read on
        // its own (a raw file, which ends a chain anyway, needs its format declared):
        // the chain so far stands.
        if (out.length === 0) this.log.info('backing chain not read', { vm: d.info.name, disk: disk.path, error: message(err) });
        break;
      }
      out.push(checked.realPath);
      next = checked.backingFile ? { path: checked.backingFile } : undefined;
    }
    return out;
  }

  /** The real paths of a template's disks (as written in its XML when the agent cannot read one). */
  private async realPaths(t: Domain): Promise<Set<string>> {
    const files = new Set<string>();
    await Promise.all(workable(t.info.disks).map(async (disk) => {
      files.add(disk.path);
      try {
        const [c] = await this.disks.check([{ path: disk.path, format: disk.format }], { hostId: t.hostId });
        files.add(c.realPath);
      } catch (err) {
        this.log.info('template disk not read', { template: t.info.name, disk: disk.path, error: message(err) });
      }
    }));
    return files;
  }
}

const workable = (disks: DiskRef[]) => disks.filter((d) => !d.unsupported);
const message = (err: unknown) => (err instanceof SysprepError || err instanceof Error ? err.message : String(err));
