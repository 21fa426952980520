// The libvirt inventory adapter (read side): the inventory port answered from libvirt
// daemons through virsh. libvirt is the source of truth; nothing is stored here.
//
//   * One source per host (LibvirtConfig.libvirtSources): its daemon's domains are the
//     VMs and templates of that host; a host's agent works on their disks.
//   * VMs are the domains without our template mark; templates are the marked ones;
//     pools are the domains with our pool mark, grouped by pool name (docs/libvirt.md).
//   * States are read at every call (two bulk virsh commands per daemon and listing:
//     `list --all --uuid --name`, `domstats --state`), never cached, so a domain started
//     or stopped behind the engine's back shows at the next request. Listings reuse a
//     domain's XML (disks, metadata) for [libvirt] cache_ttl_sec, reading the XML of all
//     the others in one virsh process; getVm() and getTemplate() read everything again,
//     because the job pre-checks (down, disks) need the truth.
//   * A daemon that cannot be reached makes listings answer 503 LIBVIRT_UNREACHABLE; a
//     lookup by id or name answers from the daemons that did, and 503 only when none had it.
import { inject, injectable } from 'tsyringe';
import { InputError, NotFoundError } from '../../shared/errors';
import { EngineConfig } from '../config';
import { vmsOneByOne } from '../inventory/Inventory';
import type { Host, Inventory, ListQuery, Page, Pool, Template, Vm } from '../inventory/Inventory';
import type { TemplateClones } from '../inventory/TemplateClones';
import { Logger } from '../logger';
import { LibvirtConfig } from './LibvirtConfig';
import { LibvirtDaemon, LibvirtDaemons } from './LibvirtDaemons';
import { DomainInfo, domainStatus, parseDomainXml, workDisks } from './libvirtModel';
import { pageOf } from './pageOf';
import type { DomainId } from './Virsh';

/** A domain as read from one daemon. */
export interface Domain {
  info: DomainInfo;
  /** virDomainState number; undefined when the domain changed between two reads. */
  state: number | undefined;
  hostId?: string;
}

type Source = LibvirtDaemon;

const byName = <T extends { name: string; id: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1);

@injectable()
export class LibvirtInventory implements Inventory, TemplateClones {
  private readonly sources: readonly Source[];
  /** Parsed XML by "uri|uuid", for listings only. */
  private readonly xml = new Map<string, { at: number; info: DomainInfo }>();
  private readonly ttlMs: number;

  constructor(
    @inject(EngineConfig) private readonly engineConfig: EngineConfig,
    @inject(LibvirtConfig) config: LibvirtConfig,
    @inject(LibvirtDaemons) daemons: LibvirtDaemons,
    @inject(Logger) private readonly log: Logger,
  ) {
    this.sources = daemons.all;
    this.ttlMs = config.cacheTtlSec * 1000;
  }

  // ---- VMs -----------------------------------------------------------------------

  async listVms(query?: ListQuery): Promise<Page<Vm>> {
    const domains = await this.all();
    return pageOf(domains.filter((d) => !d.info.template).map(toVm).sort(byName), query);
  }

  getVms(ids: readonly string[]): Promise<Vm[]> {
    return vmsOneByOne(this, ids);
  }

  async getVm(idOrName: string): Promise<Vm | undefined> {
    const d = await this.lookup(idOrName);
    return d && !d.info.template ? toVm(d) : undefined;
  }

  // ---- templates -----------------------------------------------------------------

  async listTemplates(query?: ListQuery): Promise<Page<Template>> {
    const domains = await this.all();
    return pageOf(domains.filter((d) => d.info.template).map(toTemplate).sort(byName), query);
  }

  async getTemplate(idOrName: string): Promise<Template | undefined> {
    const d = await this.lookup(idOrName);
    return d?.info.template ? toTemplate(d) : undefined;
  }

  // ---- pools ---------------------------------------------------------------------

  async listPools(query?: ListQuery): Promise<Page<Pool>> {
    return pageOf(poolsOf(await this.all()), query);
  }

  async getPool(idOrName: string): Promise<Pool | undefined> {
    return poolsOf(await this.all()).find((p) => p.id === idOrName);
  }

  // ---- hosts ---------------------------------------------------------------------

  /** The configured hosts ([host:ID]): libvirt knows no agents. */
  async listHosts(): Promise<Host[]> {
    return this.engineConfig.hosts.map((h) => ({ id: h.id, name: h.name ?? h.id, agentAddress: h.address, storageRoots: h.storageRoots }));
  }

  // ---- domains (for the adapter's actions) ---------------------------------------

  /** One domain, VM or template, by UUID or name, read now; undefined when unknown. */
  findDomain(idOrName: string): Promise<Domain | undefined> {
    return this.lookup(idOrName);
  }

  /** One domain of one daemon by name (libvirt's events name domains), read now; undefined when gone. */
  async findDomainOn(daemon: LibvirtDaemon, name: string): Promise<Domain | undefined> {
    const id = (await daemon.virsh.list()).find((d) => d.name === name);
    return id && this.readOne(daemon, id);
  }

  /** Drops the cached XML of a daemon's domains (a domain was defined or undefined: LibvirtEventWatcher). */
  forget(uri: string): void {
    for (const k of this.xml.keys()) if (k.startsWith(`${uri}|`)) this.xml.delete(k);
  }

  /** Every domain of every daemon (listing rules: XML reused for cache_ttl_sec). */
  listDomains(): Promise<Domain[]> {
    return this.all();
  }

  /** The clones of a template: domains whose clone metadata names it (a seal would corrupt them). */
  async vmsOfTemplate(templateId: string): Promise<Vm[]> {
    return (await this.all()).filter((d) => !d.info.template && d.info.cloneOf === templateId).map(toVm).sort((a, b) => a.name.localeCompare(b.name));
  }

  // ---- reading -------------------------------------------------------------------

  /** Every domain of every daemon; the first daemon's failure fails the listing. */
  private async all(): Promise<Domain[]> {
    const results = await Promise.allSettled(this.sources.map((s) => this.readSource(s)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.flatMap((r) => (r as PromiseFulfilledResult<Domain[]>).value);
  }

  private async readSource(s: Source): Promise<Domain[]> {
    const [ids, states] = await Promise.all([s.virsh.list(), s.virsh.states()]);
    const now = Date.now();
    const key = (uuid: string) => `${s.virsh.uri}|${uuid}`;
    const stale = ids.filter((d) => {
      const hit = this.xml.get(key(d.uuid));
      return !hit || now - hit.at >= this.ttlMs;
    });
    for (const info of this.parse(await s.virsh.dumpXml(stale.map((d) => d.uuid)), s)) this.xml.set(key(info.uuid), { at: now, info });
    // Forget the domains this daemon no longer has.
    const listed = new Set(ids.map((d) => key(d.uuid)));
    for (const k of this.xml.keys()) if (k.startsWith(`${s.virsh.uri}|`) && !listed.has(k)) this.xml.delete(k);
    return ids.flatMap((d) => {
      const info = this.xml.get(key(d.uuid))?.info;
      // The live name (a rename keeps the UUID); no XML: undefined since the list.
      return info ? [{ info: { ...info, name: d.name }, state: states.get(d.name), hostId: s.hostId }] : [];
    });
  }

  /** One domain by UUID, else by name, read now (state and XML). */
  private async lookup(idOrName: string): Promise<Domain | undefined> {
    const results = await Promise.allSettled(this.sources.map(async (s) => ({ s, ids: await s.virsh.list() })));
    const listed = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.ids.map((id) => ({ id, s: r.value.s })) : []));
    const ref = idOrName.toLowerCase();
    let matches = listed.filter((x) => x.id.uuid === ref);
    if (matches.length === 0) matches = listed.filter((x) => x.id.name === idOrName);
    if (matches.length > 1) {
      const hosts = matches.map((m) => m.s.hostId ?? m.s.virsh.uri);
      throw new InputError('id', `"${idOrName}" names a domain on several hosts (${hosts.join(', ')}): use its UUID`, 'AMBIGUOUS_ID', { hosts });
    }
    if (matches.length === 0) {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return undefined;
    }
    return this.readOne(matches[0].s, matches[0].id);
  }

  private async readOne(s: Source, id: DomainId): Promise<Domain | undefined> {
    // Undefined meanwhile: not found; anything else (unreachable, timeout) is thrown.
    const gone = (err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    };
    const [states, xml] = await Promise.all([s.virsh.states([id.uuid]).catch(gone), s.virsh.dumpXml([id.uuid])]);
    const info = this.parse(xml, s)[0];
    if (!info || !states) return undefined;
    this.xml.set(`${s.virsh.uri}|${info.uuid}`, { at: Date.now(), info });
    return { info, state: states.get(info.name), hostId: s.hostId };
  }

  /** Parsed XML documents; one that does not parse is logged and left out, not fatal to a listing. */
  private parse(docs: string[], s: Source): DomainInfo[] {
    return docs.flatMap((doc) => {
      try {
        return [parseDomainXml(doc)];
      } catch (err) {
        this.log.warn('a domain XML that could not be read', { uri: s.virsh.uri, error: (err as Error).message });
        return [];
      }
    });
  }
}

export function toVm(d: Domain): Vm {
  return {
    id: d.info.uuid,
    name: d.info.name,
    status: domainStatus(d.info, d.state),
    hostId: d.hostId,
    poolId: d.info.pool?.name,
    templateId: d.info.cloneOf,
    disks: workDisks(d.info),
    ...(d.info.marks && { marks: d.info.marks }),
    ...(d.info.os && { os: d.info.os }),
  };
}

export function toTemplate(d: Domain): Template {
  return { id: d.info.uuid, name: d.info.name, disks: d.info.disks };
}

/** Pools: the non-template domains marked with a pool, by pool name (id = name), members by index then name. */
function poolsOf(domains: Domain[]): Pool[] {
  const groups = new Map<string, Domain[]>();
  for (const d of domains) {
    if (d.info.template || !d.info.pool) continue;
    const list = groups.get(d.info.pool.name) ?? [];
    list.push(d);
    groups.set(d.info.pool.name, list);
  }
  const index = (d: Domain) => d.info.pool?.index ?? Number.MAX_SAFE_INTEGER;
  return [...groups].map(([name, members]) => {
    members.sort((a, b) => index(a) - index(b) || (a.info.name < b.info.name ? -1 : 1));
    const templates = new Set(members.map((m) => m.info.cloneOf));
    const templateId = templates.size === 1 ? [...templates][0] : undefined;
    return { id: name, name, ...(templateId && { templateId }), vmIds: members.map((m) => m.info.uuid) };
  }).sort(byName);
}
