// The guest operating-system vocabulary, defined once (issue 15): what inspection
// reports, what the identity catalogue's items apply to, what the OS guard compares
// a request with. Family names follow libguestfs's inspection (`distro` values,
// guestfs(3) "inspect_get_distro"), grouped the way the identity files differ.
export const LINUX_FAMILIES = ['debian', 'el', 'suse'] as const;
export type LinuxFamily = (typeof LINUX_FAMILIES)[number];

export type OsType = 'linux' | 'windows';

/** What is known of a VM's guest OS (from inspection, or the inventory's declaration). */
export interface GuestOs {
  type: OsType | 'unknown';
  /** Linux only: the family its identity files follow. */
  family?: LinuxFamily;
  /** libguestfs's distro name: debian, ubuntu, rhel, rocky, fedora, sles, opensuse, windows, ... */
  distro?: string;
  /** "MAJOR.MINOR" as inspection reports it (Windows 10/2016+ report 10.0). */
  version?: string;
  /** Where the knowledge comes from: an inspection of the disks, or the inventory. */
  source?: 'inspection' | 'inventory';
}

const FAMILY_OF_DISTRO: Readonly<Record<string, LinuxFamily>> = {
  debian: 'debian', ubuntu: 'debian', linuxmint: 'debian', kalilinux: 'debian',
  rhel: 'el', centos: 'el', fedora: 'el', rocky: 'el', almalinux: 'el', oraclelinux: 'el',
  'redhat-based': 'el', scientificlinux: 'el', circle: 'el', kylin: 'el',
  sles: 'suse', opensuse: 'suse', 'suse-based': 'suse', sled: 'suse',
};

/** The family of a libguestfs distro name, or undefined for one we do not group. */
export function familyOfDistro(distro: string | undefined): LinuxFamily | undefined {
  return distro ? FAMILY_OF_DISTRO[distro.toLowerCase()] : undefined;
}
