// The oVirt inventory adapter: the inventory port answered from the oVirt REST API.
//
// Large inventories (10,000 VMs) are never loaded whole: listings page through oVirt's
// search ("<filter> sortby name asc page N" with max=<page size>), one oVirt request per
// engine page, with disks in the same answer (follow=disk_attachments.disk). Listing
// pages, pools, hosts and storage domains are cached for cache_ttl_sec; getVm() (with
// its snapshots) and getTemplate() always ask oVirt, because the job pre-checks (status
// Down, disks OK, no snapshot in preview) need the truth.
import { inject, injectable } from 'tsyringe';
import { InputError } from '../../shared/errors';
import { EngineConfig } from '../config';
import { vmsOneByOne } from '../inventory/Inventory';
import type { DiskRef, Host, Inventory, ListQuery, Page, Pool, Template, Vm } from '../inventory/Inventory';
import { Logger } from '../logger';
import { OvirtClient } from './OvirtClient';
import { OvirtConfig } from './OvirtConfig';
import { marksOf } from './ovirtMarks';
import {
  attachedDisks, BLANK_TEMPLATE_ID, drivePath, isUuid, items, OvDisk, OvHost, OvPool, OvStorageDomain, OvTemplate, OvVm, searchValue, vmStatus,
} from './ovirtModel';
import { FOLLOW_DISKS_AND_SNAPSHOTS, isoTime, osOfOvirtType, OvVmWithSnapshots, regularSnapshots, snapshotInPreview, diskStatus } from './ovirtModel';

const FOLLOW_DISKS = 'disk_attachments.disk';

class TtlCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();
  constructor(private readonly ttlMs: number, private readonly max = 500) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const e = this.entries.get(key);
    if (e && Date.now() - e.at < this.ttlMs) return e.value;
    const value = load();
    // A failed load is not cached.
    value.catch(() => this.entries.delete(key));
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { at: Date.now(), value });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

function pageOf(query: ListQuery | undefined, pageSize: number): { limit: number; page: number } {
  const limit = Math.min(Math.max(query?.limit ?? pageSize, 1), 1000);
  let page = 1;
  if (query?.cursor) {
    if (!/^\d{1,6}$/.test(query.cursor) || Number(query.cursor) < 1) throw new InputError('cursor', 'is not a cursor of this listing');
    page = Number(query.cursor);
  }
  return { limit, page };
}

@injectable()
export class OvirtInventory implements Inventory {
  private readonly pages: TtlCache<Page<unknown>>;
  private readonly objects: TtlCache<unknown>;

  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtConfig) private readonly config: OvirtConfig,
    @inject(EngineConfig) private readonly engineConfig: EngineConfig,
    @inject(Logger) private readonly log: Logger,
  ) {
    this.pages = new TtlCache(config.cacheTtlSec * 1000);
    this.objects = new TtlCache(config.cacheTtlSec * 1000);
  }

  /** Forget cached listings (after an event changed the inventory). */
  invalidate(): void {
    this.pages.clear();
    this.objects.clear();
  }

  // ---- VMs -----------------------------------------------------------------------

  listVms(query?: ListQuery): Promise<Page<Vm>> {
    return this.list<OvVm, Vm>('vms', 'vm', query, true, (v, sds) => this.toVm(v, sds));
  }

  getVms(ids: readonly string[]): Promise<Vm[]> {
    return vmsOneByOne(this, ids);
  }

  async getVm(idOrName: string): Promise<Vm | undefined> {
    const sds = await this.storageDomains();
    if (isUuid(idOrName)) {
      const v = await this.client.find<OvVm>(`/vms/${idOrName}`, { query: { follow: FOLLOW_DISKS_AND_SNAPSHOTS } });
      if (v) return this.toVm(v, sds);
    }
    const found = items<OvVm>(await this.client.get('/vms', { query: { search: `name=${searchValue(idOrName, 'vm')}`, follow: FOLLOW_DISKS_AND_SNAPSHOTS } }), 'vm');
    const v = found.find((x) => x.name === idOrName);
    return v && this.toVm(v, sds);
  }

  /** The raw oVirt VM (status, disks' status): the event watcher waits on it. */
  rawVm(id: string): Promise<OvVm | undefined> {
    return this.client.find<OvVm>(`/vms/${id}`, { query: { follow: FOLLOW_DISKS } });
  }

  // ---- pools ---------------------------------------------------------------------

  listPools(query?: ListQuery): Promise<Page<Pool>> {
    return this.list<OvPool, Pool>('vmpools', 'vm_pool', query, false, (p) => this.toPool(p));
  }

  getPool(idOrName: string): Promise<Pool | undefined> {
    return this.objects.get(`pool:${idOrName}`, async () => {
      let p: OvPool | undefined;
      if (isUuid(idOrName)) p = await this.client.find<OvPool>(`/vmpools/${idOrName}`);
      if (!p) p = items<OvPool>(await this.client.get('/vmpools', { query: { search: `name=${searchValue(idOrName, 'pool')}` } }), 'vm_pool').find((x) => x.name === idOrName);
      return p && this.toPool(p);
    }) as Promise<Pool | undefined>;
  }

  // ---- templates -----------------------------------------------------------------

  listTemplates(query?: ListQuery): Promise<Page<Template>> {
    return this.list<OvTemplate, Template>('templates', 'template', query, true, (t, sds) => this.toTemplate(t, sds));
  }

  /** Always asks oVirt, as getVm: sealing checks the template's disks (a copy locks them). */
  async getTemplate(idOrName: string): Promise<Template | undefined> {
    const sds = await this.storageDomains();
    let t: OvTemplate | undefined;
    if (isUuid(idOrName)) t = await this.client.find<OvTemplate>(`/templates/${idOrName}`, { query: { follow: FOLLOW_DISKS } });
    if (!t) t = items<OvTemplate>(await this.client.get('/templates', { query: { search: `name=${searchValue(idOrName, 'template')}`, follow: FOLLOW_DISKS } }), 'template').find((x) => x.name === idOrName);
    return t && this.toTemplate(t, sds);
  }

  // ---- hosts ---------------------------------------------------------------------

  /**
   * oVirt hosts with their agent: <host address>:<agent_port>, serving the mount root.
   * A [host:ID] section of engine.conf (ID = oVirt host id or name) overrides the
   * address and storage roots of that host.
   */
  async listHosts(): Promise<Host[]> {
    try {
      this.knownHosts = await this.loadHosts();
    } catch (err) {
      // The agent pool refreshes on a timer: an oVirt outage keeps the hosts last seen.
      this.log.warn('could not list the oVirt hosts: keeping the last known', { error: (err as Error).message });
    }
    return this.knownHosts;
  }

  private knownHosts: Host[] = [];

  private loadHosts(): Promise<Host[]> {
    return this.objects.get('hosts', async () => {
      const hosts = items<OvHost>(await this.client.get('/hosts'), 'host');
      return hosts.map((h) => {
        const o = this.engineConfig.hosts.find((x) => x.id === h.id || x.id === h.name);
        return {
          id: h.id,
          name: h.name ?? h.id,
          agentAddress: o?.address ?? `${h.address}:${this.config.agentPort}`,
          storageRoots: o?.storageRoots.length ? o.storageRoots : [this.config.mountRoot],
        };
      });
    }) as Promise<Host[]>;
  }

  // ---- helpers -------------------------------------------------------------------

  private storageDomains(): Promise<Map<string, OvStorageDomain>> {
    return this.objects.get('storagedomains', async () => {
      const list = items<OvStorageDomain>(await this.client.get('/storagedomains'), 'storage_domain');
      return new Map(list.map((sd) => [sd.id, sd]));
    }) as Promise<Map<string, OvStorageDomain>>;
  }

  /** One engine page = one oVirt request: "<name filter> sortby name asc page N", max = limit. */
  private async list<O, T>(collection: string, key: string, query: ListQuery | undefined, withDisks: boolean, map: (o: O, sds: Map<string, OvStorageDomain>) => T | Promise<T>): Promise<Page<T>> {
    const { limit, page } = pageOf(query, this.config.pageSize);
    const filter = query?.search ? `name=*${searchValue(query.search, 'search')}*` : '';
    const search = `${filter ? `${filter} ` : ''}sortby name asc page ${page}`;
    return this.pages.get(`${collection}|${search}|${limit}`, async () => {
      const [body, sds] = await Promise.all([
        this.client.get(`/${collection}`, { query: { search, max: limit, follow: withDisks ? FOLLOW_DISKS : undefined } }),
        withDisks ? this.storageDomains() : Promise.resolve(new Map<string, OvStorageDomain>()),
      ]);
      const list = items<O>(body, key);
      const mapped = await Promise.all(list.map((o) => map(o, sds)));
      return { items: mapped, next: list.length === limit ? String(page + 1) : undefined };
    }) as Promise<Page<T>>;
  }

  private disksOf(owner: string, disks: OvDisk[], sds: Map<string, OvStorageDomain>): DiskRef[] {
    return disks.map((d) => {
      const status = diskStatus(d.status);
      const ref: DiskRef = { ...drivePath(this.config.mountRoot, d, sds), ...(status && { status }) };
      // Listed with its reason; a job on it is refused (and its path is served by no agent).
      if (ref.unsupported) this.log.debug('disk no agent can work on', { owner, diskId: d.id, reason: ref.unsupported });
      return ref;
    });
  }

  /** A VM; its snapshots only when it was read with them (getVm: live, FOLLOW_DISKS_AND_SNAPSHOTS). */
  private toVm(v: OvVmWithSnapshots, sds: Map<string, OvStorageDomain>): Vm {
    const templateId = v.template?.id && v.template.id !== BLANK_TEMPLATE_ID ? v.template.id : undefined;
    const snapshots = v.snapshots ? { snapshotInPreview: snapshotInPreview(v), snapshots: regularSnapshots(v) } : {};
    const marks = marksOf(v);
    const os = osOfOvirtType(v.os?.type);
    return {
      id: v.id,
      name: v.name ?? v.id,
      status: vmStatus(v.status),
      hostId: v.host?.id,
      poolId: v.vm_pool?.id,
      templateId,
      disks: this.disksOf(`vm ${v.id}`, attachedDisks(v), sds),
      ...snapshots,
      ...(marks && { marks }),
      ...(os && { os }),
      createdAt: isoTime(v.creation_time),
    };
  }

  private toTemplate(t: OvTemplate, sds: Map<string, OvStorageDomain>): Template {
    return { id: t.id, name: t.name ?? t.id, disks: this.disksOf(`template ${t.id}`, attachedDisks(t), sds) };
  }

  /** A pool with the ids of its VMs (paged through oVirt: "pool=<name>"). */
  private async toPool(p: OvPool): Promise<Pool> {
    const vmIds: string[] = [];
    const max = Math.max(this.config.pageSize, 500);
    for (let page = 1; ; page++) {
      const list = items<OvVm>(await this.client.get('/vms', { query: { search: `pool=${searchValue(p.name ?? '', 'pool')} sortby name asc page ${page}`, max } }), 'vm');
      vmIds.push(...list.map((v) => v.id));
      if (list.length < max) break;
    }
    return { id: p.id, name: p.name ?? p.id, templateId: p.template?.id, vmIds };
  }
}
