// The inventory port: what the engine needs to know about VMs, pools, templates and
// hosts. Adapters: the embedded one (SQLite under the data dir, no oVirt needed) and the
// oVirt one (REST API v4). Business code depends on this interface only.
import type { GuestOs } from '../../shared/guestOs';

export type VmStatus = 'down' | 'up' | 'powering_up' | 'powering_down' | 'image_locked' | 'unknown';

/** A disk's own state in its inventory (oVirt: ok / locked while copied or moved / illegal). */
export type DiskStatus = 'ok' | 'locked' | 'illegal';

export interface DiskRef {
  /** Drive path as the host agent sees it. */
  path: string;
  /** "qcow2" or "raw". */
  format: string;
  /** Storage domain / storage root id when known. */
  storageDomain?: string;
  /** The inventory's state of the disk; undefined: the inventory keeps none (usable). */
  status?: DiskStatus;
  /** Why no agent can work on this disk (e.g. a block storage domain); a job on it is refused. */
  unsupported?: string;
}

export interface Vm {
  id: string;
  name: string;
  status: VmStatus;
  /** Host the VM runs on or last ran on; undefined: any host that sees its storage. */
  hostId?: string;
  poolId?: string;
  templateId?: string;
  disks: DiskRef[];
  /** Set while a sysprep job holds the VM (embedded) / from oVirt's own state. */
  createdAt?: string;
  /** A snapshot in preview (oVirt): its description; work on the VM is refused meanwhile. */
  snapshotInPreview?: string;
  /**
   * Snapshots the user took (oVirt "regular" ones), oldest first: they keep the disks as
   * they were, so a job (which resets the active volume only) leaves their identity as is.
   */
  snapshots?: VmSnapshot[];
  /** The product's labels on the VM (VmCloning's `marks`: a room marks the VMs it created). */
  marks?: Record<string, string>;
  /** The guest OS the inventory declares (oVirt os.type, libvirt libosinfo, an embedded VM's `os`). */
  os?: GuestOs;
}

/** A snapshot kept by the inventory (oVirt: /vms/{id}/snapshots, type regular). */
export interface VmSnapshot {
  id: string;
  description: string;
  /** When it was taken (ISO time), when known. */
  date?: string;
}

export interface Template {
  id: string;
  name: string;
  disks: DiskRef[];
  createdAt?: string;
}

export interface Pool {
  id: string;
  name: string;
  templateId?: string;
  vmIds: string[];
}

export interface Host {
  id: string;
  name: string;
  /** host:port of its agent. */
  agentAddress: string;
  /** Storage roots the agent serves (used to find the agents that see a disk). */
  storageRoots: string[];
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor of the next page; undefined on the last page. */
  next?: string;
  total?: number;
}

export interface ListQuery {
  /** Case-insensitive name filter (substring). */
  search?: string;
  limit?: number;
  cursor?: string;
}

/** getVms() for an inventory that reads a VM at a time (each read is a remote call anyway). */
export async function vmsOneByOne(inventory: Pick<Inventory, 'getVm'>, ids: readonly string[]): Promise<Vm[]> {
  const vms: Vm[] = [];
  for (const id of ids) {
    const vm = await inventory.getVm(id);
    if (vm) vms.push(vm);
  }
  return vms;
}

export interface Inventory {
  listVms(query?: ListQuery): Promise<Page<Vm>>;
  /** Undefined when unknown. */
  getVm(idOrName: string): Promise<Vm | undefined>;
  /** The VMs of these ids that exist, in the order given (a page of a pool's VMs). */
  getVms(ids: readonly string[]): Promise<Vm[]>;
  listPools(query?: ListQuery): Promise<Page<Pool>>;
  getPool(idOrName: string): Promise<Pool | undefined>;
  listTemplates(query?: ListQuery): Promise<Page<Template>>;
  getTemplate(idOrName: string): Promise<Template | undefined>;
  listHosts(): Promise<Host[]>;
}

export const Inventory = Symbol('Inventory');
