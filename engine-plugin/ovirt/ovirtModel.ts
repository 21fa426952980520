// The parts of oVirt 4.5's JSON the plugin reads (types from ovirt-engine-api-model:
// Vm, Disk, DiskAttachment, StorageDomain/HostStorage, Host, Template, VmPool, Event,
// Permission, Permit, Job, Step, Tag) and the pure mappings to the inventory port:
// statuses, disk formats and the drive paths vdsm gives file-domain disks.
//
// oVirt's JSON renders numbers and booleans as strings ("code": "53", "active": "true"),
// lists as {"<singular>": [...]} and omits empty lists: the readers below accept both.
import * as path from 'node:path';
import { InputError } from '../../shared/errors';
import type { DiskRef, VmStatus } from '../inventory/Inventory';

export interface Ref {
  id: string;
  href?: string;
  name?: string;
}

export interface OvDisk extends Ref {
  alias?: string;
  image_id?: string;
  /** "cow" (qcow2) or "raw". */
  format?: string;
  /** "ok", "locked", "illegal". */
  status?: string;
  /** "image", "lun", "cinder", "managed_block_storage". */
  storage_type?: string;
  storage_domains?: { storage_domain?: Ref[] };
  lun_storage?: { logical_units?: { logical_unit?: { id: string }[] } };
}

export interface OvDiskAttachment extends Ref {
  active?: string | boolean;
  bootable?: string | boolean;
  disk?: OvDisk;
}

export interface OvVm extends Ref {
  status?: string;
  description?: string;
  host?: Ref;
  template?: Ref;
  original_template?: Ref;
  vm_pool?: Ref;
  creation_time?: string;
  disk_attachments?: { disk_attachment?: OvDiskAttachment[] };
}

export interface OvTemplate extends Ref {
  status?: string;
  creation_time?: string;
  disk_attachments?: { disk_attachment?: OvDiskAttachment[] };
}

export interface OvPool extends Ref {
  template?: Ref;
  size?: string | number;
}

export interface OvHostStorage {
  /** nfs, localfs, posixfs, glusterfs, iscsi, fcp, ... */
  type?: string;
  address?: string;
  path?: string;
}

export interface OvStorageDomain extends Ref {
  type?: string;
  storage?: OvHostStorage;
}

export interface OvHost extends Ref {
  address?: string;
  status?: string;
}

export interface OvEvent extends Ref {
  index?: string | number;
  code?: string | number;
  description?: string;
  time?: string | number;
  correlation_id?: string;
  vm?: Ref;
}

export interface OvPermission extends Ref {
  role?: Ref;
  user?: Ref;
  group?: Ref;
}

export interface OvPermit extends Ref {
  administrative?: string | boolean;
}

export interface OvApi {
  authenticated_user?: Ref;
  effective_user?: Ref;
  product_info?: { version?: { full_version?: string } };
}

/** The Blank template: a VM based on it inherited nothing. */
export const BLANK_TEMPLATE_ID = '00000000-0000-0000-0000-000000000000';
/** The built-in Everyone group: its permissions apply to every user. */
export const EVERYONE_GROUP_ID = 'eee00000-0000-0000-0000-123456789eee';

/** Members of an oVirt list, e.g. items(body, 'vm') for {"vm": [...]}. */
export function items<T>(body: unknown, key: string): T[] {
  const v = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(v) ? (v as T[]) : v ? [v as T] : [];
}

export const asBool = (v: unknown, dflt: boolean): boolean => (v === undefined || v === null ? dflt : v === true || v === 'true');
export const asNum = (v: unknown): number => (typeof v === 'number' ? v : Number.parseInt(String(v ?? ''), 10));

/** oVirt VM status -> the port's status (only "down" lets a job run). */
export function vmStatus(s: string | undefined): VmStatus {
  switch (s) {
    case 'down':
      return 'down';
    case 'up':
    case 'paused':
    case 'migrating':
    case 'not_responding':
      return 'up';
    case 'powering_up':
    case 'wait_for_launch':
    case 'reboot_in_progress':
    case 'restoring_state':
      return 'powering_up';
    case 'powering_down':
    case 'saving_state':
      return 'powering_down';
    case 'image_locked':
      return 'image_locked';
    default:
      // suspended (memory state on disk), unknown, unassigned: never "down".
      return 'unknown';
  }
}

/** vdsm's name of a mount directory: the remote path with "/" replaced by "_". */
export const mountDirName = (remote: string): string => remote.replace(/\//g, '_');

/**
 * Directory under the mount root where the hosts see a storage domain, or undefined
 * when the domain's type is not known. File domains: NFS `server:_export_data`,
 * local `_data_images`, POSIX `<spec with _>`, Gluster `glusterSD/server:_vol`.
 * Block domains (iSCSI, FC): `blockSD` (each volume is a link to a logical volume).
 */
export function domainDir(sd: OvStorageDomain): string | undefined {
  const s = sd.storage ?? {};
  switch (s.type) {
    case 'nfs':
      return s.address && s.path ? mountDirName(`${s.address}:${s.path}`) : undefined;
    case 'localfs':
      return s.path ? mountDirName(s.path) : undefined;
    case 'posixfs':
      return s.path ? mountDirName(s.address ? `${s.address}:${s.path}` : s.path) : undefined;
    case 'glusterfs':
      return s.address && s.path ? path.join('glusterSD', mountDirName(`${s.address}:${s.path.startsWith('/') ? s.path : `/${s.path}`}`)) : undefined;
    case 'iscsi':
    case 'fcp':
      return 'blockSD';
    default:
      return undefined;
  }
}

export const diskFormat = (f: string | undefined): string => (f === 'cow' ? 'qcow2' : 'raw');

/**
 * The drive path of a disk's leaf volume as vdsm lays it out on every host:
 * <mount root>/<domain dir>/<sd id>/images/<disk id>/<image id>. The API's image_id is
 * the active (leaf) volume; virt-sysprep on it sees the whole snapshot chain.
 */
export function drivePath(mountRoot: string, disk: OvDisk, domains: Map<string, OvStorageDomain>): DiskRef {
  if (disk.storage_type === 'lun') {
    const lun = disk.lun_storage?.logical_units?.logical_unit?.[0]?.id;
    // Direct LUNs are multipath devices: the agent refuses them unless block devices are allowed.
    return { path: `/dev/mapper/${lun ?? disk.id}`, format: 'raw' };
  }
  const sdId = disk.storage_domains?.storage_domain?.[0]?.id;
  if (!sdId) throw new Error(`disk ${disk.id} names no storage domain`);
  if (!disk.image_id) throw new Error(`disk ${disk.id} has no image_id (volume)`);
  const sd = domains.get(sdId);
  const dir = sd ? domainDir(sd) : undefined;
  if (!dir) throw new Error(`storage domain ${sdId} of disk ${disk.id} has no known mount layout (${sd?.storage?.type ?? 'unknown domain'})`);
  return { path: path.join(mountRoot, dir, sdId, 'images', disk.id, disk.image_id), format: diskFormat(disk.format), storageDomain: sdId };
}

/** The active disk attachments' disks (a deactivated disk is not part of the guest). */
export function attachedDisks(o: { disk_attachments?: { disk_attachment?: OvDiskAttachment[] } }): OvDisk[] {
  return (o.disk_attachments?.disk_attachment ?? []).filter((a) => asBool(a.active, true) && a.disk).map((a) => a.disk!);
}

/** Id-like: oVirt ids are UUIDs; anything else is looked up as a name. */
export const isUuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

/** A value safe inside an oVirt search expression (names: letters, digits, "_", ".", "-"). */
export function searchValue(v: string, field: string): string {
  if (!/^[A-Za-z0-9_.\-*]{1,255}$/.test(v)) {
    throw new InputError(field, 'may only hold letters, digits, "_", "." and "-" with oVirt');
  }
  return v;
}

/**
 * A group as oVirt's API shows it. Two kinds share the type and NOT their ids
 * (ovirt-engine 0111fc6 restapi/types/GroupMapper.java):
 *  * an engine group (GET /groups/{id}, the `group` of a permission): `id` is the
 *    engine's own id, `domain_entry_id` the directory's id of the group, encoded;
 *  * a directory group (GET /users/{id}/groups, read live from the directory):
 *    `id` IS the encoded directory id (DirectoryEntryIdUtils.encode: hex of the UTF-8
 *    bytes), and it carries no engine id.
 */
export interface OvGroup extends Ref {
  domain_entry_id?: string;
  domain?: { id?: string; name?: string };
  namespace?: string;
}

/**
 * The engine group (GET /groups/{id}) is one of the user's directory groups (GET
 * /users/{id}/groups): same directory id in the same authz domain, the pair the engine
 * itself looks groups up by (GetPermissionsOnBehalfByAdElementIdQuery:
 * dbGroupDao.getByExternalId(authz, external id)). Hex case is not significant.
 */
export function isDirectoryGroup(engineGroup: OvGroup, directoryGroup: OvGroup): boolean {
  const entry = engineGroup.domain_entry_id?.toLowerCase();
  if (!entry || entry !== directoryGroup.id?.toLowerCase()) return false;
  const a = engineGroup.domain?.name;
  const b = directoryGroup.domain?.name;
  return !a || !b || a === b;
}
