// The parts of oVirt 4.5's JSON the plugin reads (types from ovirt-engine-api-model:
// Vm, Disk, DiskAttachment, StorageDomain/HostStorage, Host, Template, VmPool, Event,
// Permission, Permit, Job, Step, Tag) and the pure mappings to the inventory port:
// statuses, disk formats and the drive paths vdsm gives file-domain disks.
//
// oVirt's JSON renders numbers and booleans as strings ("code": "53", "active": "true"),
// lists as {"<singular>": [...]} and omits empty lists: the readers below accept both.
import type { GuestOs } from '../../shared/guestOs';
import * as path from 'node:path';
import { InputError } from '../../shared/errors';
import type { DiskRef, DiskStatus, VmSnapshot, VmStatus } from '../inventory/Inventory';
import type { Snapshot } from '../inventory/VmSnapshots';

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
  /** Free text; the product's marks live here (ovirtMarks.ts). */
  comment?: string;
  cluster?: Ref;
  host?: Ref;
  template?: Ref;
  original_template?: Ref;
  vm_pool?: Ref;
  creation_time?: string;
  disk_attachments?: { disk_attachment?: OvDiskAttachment[] };
  /** The OS the admin chose for the VM: `os.type` such as windows_2019x64, rhel_9x64, other_linux. */
  os?: { type?: string };
}

/**
 * The guest OS of oVirt's os.type (its osinfo ids): windows_* is Windows, the Linux
 * distributions' ids and other_linux* are Linux; "other" and absent say nothing.
 */
export function osOfOvirtType(type: string | undefined): GuestOs | undefined {
  if (!type) return undefined;
  if (/^windows_/.test(type)) return { type: 'windows', distro: 'windows' };
  if (/^(rhel|centos|fedora|debian|ubuntu|sles|suse|opensuse|oraclelinux|other_linux|rhcos|rocky|alma)/.test(type)) return { type: 'linux' };
  return undefined;
}

export interface OvTemplate extends Ref {
  status?: string;
  /** The cluster a VM made from it is added to (POST /vms needs one). */
  cluster?: Ref;
  /** Template versions share the name; the newest has the highest number. */
  version?: { version_number?: string | number };
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

// ---- drive paths: vdsm's layout ------------------------------------------------------
// Modelled on oVirt/vdsm (fd4b0df): lib/vdsm/storage/storageServer.py and fileUtils.py.
// A file domain's connection (the engine's `storage.address` + ":" + `storage.path`, see
// ovirt-engine BackendStorageDomainsResource.mapFileDomain) is mounted by
// MountConnection (NFS, POSIX, Gluster) at <mount root>/[glusterSD/]transformPath(
// normalize_path(connection)); a local domain (LocalDirectoryConnection) is a symlink
// <mount root>/transformPath(path), path as given (no normalisation).

/** vdsm fileUtils.normpath: os.path.normpath (".", "..", "//", a trailing "/"), then a leading "//" is "/". */
function vdsmNormpath(p: string): string {
  if (p === '') return '.';
  const n = path.posix.normalize(p); // also folds a leading "//", as vdsm does after normpath
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** vdsm fileUtils.is_port: digits, no leading zero, 1..65535. */
const isPort = (s: string): boolean => /^[1-9]\d{0,4}$/.test(s) && Number(s) <= 65535;

/**
 * vdsm fileUtils.normalize_path of a remote path "host:[port:]path" (host maybe an IPv6
 * literal in brackets, common/network/address.hosttail_split/_join), or undefined where
 * vdsm raises HosttailError (it could not mount it either).
 */
export function vdsmNormalizePath(remote: string): string | undefined {
  if (remote.startsWith('/') || !remote.includes(':')) return vdsmNormpath(remote);
  let host: string;
  let tail: string;
  if (remote.startsWith('[')) {
    const end = remote.indexOf(']:');
    if (end < 0) return undefined;
    [host, tail] = [remote.slice(1, end), remote.slice(end + 2)];
  } else {
    const colon = remote.indexOf(':');
    [host, tail] = [remote.slice(0, colon), remote.slice(colon + 1)];
  }
  if (!host || !tail) return undefined;
  const colon = tail.indexOf(':');
  tail = colon >= 0 && isPort(tail.slice(0, colon)) ? `${tail.slice(0, colon)}:${vdsmNormpath(tail.slice(colon + 1))}` : vdsmNormpath(tail);
  return `${host.includes(':') ? `[${host}]` : host}:${tail}`;
}

/** vdsm fileUtils.transformPath: "_" doubled first, then "/" -> "_" (so the name maps back). */
export const mountDirName = (remote: string): string => remote.replace(/_/g, '__').replace(/\//g, '_');

/** Storage domain types whose volumes are logical volumes, linked only while vdsm has them prepared. */
export const BLOCK_DOMAIN_TYPES: ReadonlySet<string> = new Set(['iscsi', 'fcp']);

/**
 * Directory under the mount root where the hosts see a FILE storage domain, or undefined
 * (block, unknown type, no connection): NFS `server:_exports_vm__data`, local
 * `_data_images`, POSIX the spec transformed, Gluster `glusterSD/server:vmstore`.
 */
export function domainDir(sd: OvStorageDomain): string | undefined {
  const s = sd.storage ?? {};
  const connection = s.address && s.path ? `${s.address}:${s.path}` : s.path;
  if (!connection) return undefined;
  let dir: string | undefined;
  switch (s.type) {
    case 'nfs':
    case 'posixfs': {
      const remote = vdsmNormalizePath(connection);
      dir = remote && mountDirName(remote);
      break;
    }
    case 'glusterfs': {
      const remote = vdsmNormalizePath(connection);
      dir = remote && path.posix.join('glusterSD', mountDirName(remote));
      break;
    }
    case 'localfs':
      dir = mountDirName(s.path ?? '');
      break;
    default:
      return undefined;
  }
  // "." or ".." would leave the mount root (vdsm joins them as they are; we do not).
  return dir && dir !== '.' && dir !== '..' ? dir : undefined;
}

export const diskFormat = (f: string | undefined): string => (f === 'cow' ? 'qcow2' : 'raw');

/** A drive path no agent serves (it is not absolute): the disk's `unsupported` says why. */
const unservedPath = (diskId: string): string => `ovirt-disk:${diskId}`;

/**
 * The drive path of a disk's leaf volume as vdsm lays it out on every host:
 * <mount root>/<domain dir>/<sd id>/images/<disk id>/<image id>. The API's image_id is
 * the active (leaf) volume; virt-sysprep on it sees the whole snapshot chain.
 * A disk no agent can work on gets `unsupported` (the job service refuses it):
 *  * block domains (iSCSI, FC): the volume is a logical volume that exists under
 *    blockSD/ only while vdsm has the image prepared (hsm.prepareImage); see
 *    docs/engine-decisions.md "Block storage domains are refused";
 *  * direct LUNs: a multipath device outside the storage roots, which the host may not
 *    be logged in to while the VM is down, and which a shareable LUN exposes to VMs that run;
 *  * any other disk or domain type without a file layout (managed block storage, Cinder).
 */
export function drivePath(mountRoot: string, disk: OvDisk, domains: Map<string, OvStorageDomain>): DiskRef {
  const format = diskFormat(disk.format);
  if (disk.storage_type === 'lun') {
    const lun = disk.lun_storage?.logical_units?.logical_unit?.[0]?.id;
    return { path: unservedPath(disk.id), format: 'raw', unsupported: `disk ${disk.id} is a direct LUN${lun ? ` (${lun})` : ''}: only disk images on file storage domains are supported` };
  }
  const sdId = disk.storage_domains?.storage_domain?.[0]?.id;
  const refuse = (why: string): DiskRef => ({ path: unservedPath(disk.id), format, storageDomain: sdId, unsupported: `disk ${disk.id} ${why}` });
  if (!sdId) return refuse('names no storage domain');
  if (!disk.image_id) return refuse('has no image_id (volume)');
  const sd = domains.get(sdId);
  const type = sd?.storage?.type ?? 'unknown';
  if (BLOCK_DOMAIN_TYPES.has(type)) {
    return refuse(`is on the block storage domain ${sd?.name ?? sdId} (${type}): block domains are not supported, only file domains (NFS, Gluster, POSIX, local)`);
  }
  const dir = sd ? domainDir(sd) : undefined;
  if (!dir) return refuse(`is on storage domain ${sd?.name ?? sdId} (${type}), which has no known file layout`);
  return { path: path.join(mountRoot, dir, sdId, 'images', disk.id, disk.image_id), format, storageDomain: sdId };
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

// ---- disk status and snapshots (issue 12, items 8 and 9) ------------------------------

/**
 * oVirt's disk status -> the port's. ovirt-engine DiskMapper.mapDiskStatus renders the
 * image status OK / LOCKED / ILLEGAL as "ok" / "locked" / "illegal" and leaves `status`
 * out for Unassigned (disks without an image status: LUNs, ...): undefined here.
 */
export function diskStatus(s: string | undefined): DiskStatus | undefined {
  return s === 'ok' || s === 'locked' || s === 'illegal' ? s : undefined;
}

/**
 * A VM snapshot as GET /vms/{id}/snapshots (or follow=snapshots) renders it
 * (ovirt-engine-api-model types/Snapshot.java; ovirt-engine SnapshotMapper.map):
 * id, description, date (epoch ms in JSON), snapshot_status ok | locked | in_preview,
 * snapshot_type regular | active | stateless | preview, persist_memorystate.
 */
export interface OvSnapshot extends Ref {
  description?: string;
  date?: string | number;
  snapshot_status?: string;
  snapshot_type?: string;
}

/** A VM read with follow=snapshots (the Vm type's `snapshots` link, api-model types/Vm.java). */
export interface OvVmWithSnapshots extends OvVm {
  snapshots?: { snapshot?: OvSnapshot[] };
}

/** The `follow` of a live VM read: its disks and its snapshots, in one request. */
export const FOLLOW_DISKS_AND_SNAPSHOTS = 'disk_attachments.disk,snapshots';

/** An oVirt date as ISO time: JSON renders dates as epoch milliseconds (api-model A01-PrimitiveTypes.adoc); ISO text is taken too. */
export function isoTime(v: string | number | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  const d = new Date(typeof v === 'number' || /^\d+$/.test(v) ? Number(v) : v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * The snapshot being previewed: TryBackToAllSnapshotsOfVmCommand.restoreVmConfigFromSnapshot
 * sets the previewed one to IN_PREVIEW (the former active becomes type "preview",
 * "Active VM before the preview") until RestoreAllSnapshotsCommand commits or undoes it.
 */
export function snapshotInPreview(v: OvVmWithSnapshots): string | undefined {
  const s = (v.snapshots?.snapshot ?? []).find((x) => x.snapshot_status === 'in_preview');
  return s ? s.description || s.id : undefined;
}

/**
 * The snapshots the user took (type "regular"), oldest first: they hold the disks as they
 * were when taken. "active" is the VM itself; "stateless" and "preview" are the engine's own.
 */
export function regularSnapshots(v: OvVmWithSnapshots): VmSnapshot[] {
  return (v.snapshots?.snapshot ?? [])
    .filter((s) => s.snapshot_type === 'regular')
    .map((s) => ({ id: s.id, description: s.description ?? '', date: isoTime(s.date) }))
    .sort((a, b) => (a.date ?? '').localeCompare(b.date ?? ''));
}

/**
 * oVirt's regular snapshots as the snapshot port's (OvirtSnapshots), oldest first. oVirt has
 * no snapshot name: `name` is the description, else the id. The newest is current: the
 * active layer sits on it (a restore removes the snapshots after the one restored).
 */
export function toSnapshots(list: OvSnapshot[]): Snapshot[] {
  const regular = list
    .filter((s) => s.snapshot_type === 'regular')
    .map((s) => ({ s, date: isoTime(s.date) }))
    .sort((a, b) => (a.date ?? '').localeCompare(b.date ?? ''));
  return regular.map(({ s, date }, i) => ({
    id: s.id,
    name: s.description || s.id,
    description: s.description ?? '',
    ...(date && { date }),
    vmState: 'down',
    ...(i > 0 && { parent: regular[i - 1].s.id }),
    current: i === regular.length - 1,
  }));
}

// ---- groups (issue 12, item 6) -------------------------------------------------------

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
