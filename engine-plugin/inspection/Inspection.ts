// An inspection as the engine stores and answers it (docs/inspection.md): the agent's
// InspectResult flattened into what image tools print, plus the GuestOs of contract 1
// and the disk generations it holds for.
import { familyOfDistro, GuestOs, OsType } from '../../shared/guestOs';
import type { InspectResult } from '../../shared/wireTypes';

export interface InspectedDisk {
  path: string;
  generation: string;
}

export interface Inspection {
  target: { type: 'vm' | 'template'; id: string; name: string };
  os: GuestOs;
  osType: string;
  distro: string;
  productName: string;
  productVariant: string;
  version: string;
  arch: string;
  hostname: string;
  osinfo: string;
  root: string;
  packageFormat: string;
  packageManagement: string;
  /** Linux: /etc/passwd's accounts; Windows: not read (empty). */
  users: { name: string; uid: number; home: string; shell: string }[];
  mountpoints: { path: string; device: string }[];
  filesystems: { device: string; type: string; mountpoint: string; totalBytes: number; freeBytes: number }[];
  kernels: string[];
  cloudInit: boolean;
  networkManager: boolean;
  lvm: boolean;
  windowsSystemroot?: string;
  disks: InspectedDisk[];
  host: string;
  jobId: string;
  inspectedAt: string;
  /** The agent's appliance session, ms. */
  elapsedMs: number;
}

/** GuestOs of an inspection's type and distro (family through familyOfDistro). */
export function guestOsOfResult(osType: string, distro: string, version: string): GuestOs {
  const type: GuestOs['type'] = osType === 'linux' || osType === 'windows' ? (osType as OsType) : 'unknown';
  const os: GuestOs = { type, source: 'inspection' };
  if (distro) os.distro = distro;
  if (version && version !== '.') os.version = version;
  const family = type === 'linux' ? familyOfDistro(distro) : undefined;
  if (family) os.family = family;
  return os;
}

export function toInspection(
  r: InspectResult,
  at: { target: Inspection['target']; disks: { path: string }[]; host: string; jobId: string; inspectedAt: string },
): Inspection {
  const d = r.details;
  const version = r.version === '.' ? '' : r.version;
  return {
    target: at.target,
    os: guestOsOfResult(r.osType, r.distro, version),
    osType: r.osType,
    distro: r.distro,
    productName: r.productName,
    productVariant: d?.productVariant ?? '',
    version,
    arch: d?.arch ?? '',
    hostname: r.hostname,
    osinfo: d?.osinfo ?? '',
    root: r.root,
    packageFormat: r.packageFormat[0] ?? '',
    packageManagement: d?.packageManagement ?? '',
    users: (d?.users ?? []).map((u) => ({ name: u.name, uid: u.uid, home: u.home, shell: u.shell })),
    mountpoints: (d?.mountpoints ?? []).map((m) => ({ path: m.path, device: m.device })),
    filesystems: (d?.filesystems ?? []).map((f) => ({ device: f.device, type: f.type, mountpoint: f.mountpoint, totalBytes: Number(f.totalBytes), freeBytes: Number(f.freeBytes) })),
    kernels: d?.kernels ?? [],
    cloudInit: d?.cloudInit ?? false,
    networkManager: d?.networkManager ?? false,
    lvm: d?.lvm ?? false,
    ...(d?.windowsSystemroot ? { windowsSystemroot: d.windowsSystemroot } : {}),
    disks: at.disks.map((disk, i) => ({ path: disk.path, generation: r.diskGenerations[i] ?? '' })),
    host: at.host,
    jobId: at.jobId,
    inspectedAt: at.inspectedAt,
    elapsedMs: d?.elapsedMs ?? 0,
  };
}

/**
 * Whether a stored inspection still describes these disks: same paths in the same order,
 * each with a known generation equal to the one read now (an empty generation, a block
 * device's, never matches: nothing tells whether it changed).
 */
export function stillValid(inspected: InspectedDisk[], disks: { path: string }[], now: string[]): boolean {
  return inspected.length === disks.length && inspected.every((d, i) => d.path === disks[i].path && d.generation !== '' && d.generation === now[i]);
}
