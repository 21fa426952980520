// Test fixture: a small Debian-12-like guest disk image built without network, and
// flavours of it (GUEST_FLAVOURS: a NetworkManager guest, an EL 8 guest, an openSUSE
// Leap guest) built lazily. Each flavour carries every item of the identity catalogue
// that applies to its family (identitySamples.ts).
//
// The tree is a declarative list of entries (GUEST_TREE); its hash (plus the bytes of
// the busybox binary copied to /bin/sh) names the cached image, so any change to the
// tree rebuilds it. The image is built with
//   virt-make-fs --format=qcow2 --type=ext4 --partition --size=+50M TREE OUT.qcow2
// which libguestfs inspects as Debian 12 (see design.md section 3); each flavour's root
// filesystem has its own label (--label), which its fstab mounts / by.

import { existsSync } from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { LinuxFamily } from '../../shared/guestOs';
import { identitySamples } from './identitySamples';

const execFileAsync = promisify(execFile);

/** Repository root (test/helpers/ -> ../..). */
/** The checkout (found upwards from here, so compiled copies under dist/ share the cache). */
export const REPO_ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'proto', 'agent.proto')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
/** Where cached fixtures live (git-ignored). */
export const FIXTURE_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'fixtures');

/** Static busybox used as /bin/sh inside the guest (package busybox-static). */
const BUSYBOX = '/bin/busybox';

/**
 * Environment for every libguestfs command: KVM launches abort on these machines,
 * software emulation works. Callers may extend it.
 */
export function libguestfsEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LIBGUESTFS_BACKEND: 'direct',
    LIBGUESTFS_BACKEND_SETTINGS: 'force_tcg',
    ...extra,
  };
}

// ---------------------------------------------------------------------------
// Known values, exported so tests can assert against them.

export const GOLDEN_HOSTNAME = 'golden-image';
export const GOLDEN_MACHINE_ID = '3f9c2a7b5e1d4c8fa06b9e2d7c1f4a85';
/** Root password of the golden image and its SHA-512 crypt hash in /etc/shadow. */
export const GOLDEN_ROOT_PASSWORD = 'golden-root-pw';
export const GOLDEN_ROOT_HASH =
  '$6$goldenimage00$3K8kN3AzAUUA2KaE3kMhFBGD2LDLSqmwQBhC0s7a0KGSgZiauGfbKM.ELJZz5TfaIg.jDQPfjI0vNZd4vUSuk1';

/** Paths of identity that a reset is expected to remove or rewrite. */
export const IDENTITY_PATHS = {
  sshHostKeys: [
    '/etc/ssh/ssh_host_rsa_key',
    '/etc/ssh/ssh_host_rsa_key.pub',
    '/etc/ssh/ssh_host_ed25519_key',
    '/etc/ssh/ssh_host_ed25519_key.pub',
  ],
  bashHistory: ['/root/.bash_history', '/home/student/.bash_history'],
  logs: ['/var/log/syslog', '/var/log/messages'],
  dhcpLeases: ['/var/lib/dhcp/dhclient.eth0.leases'],
  udevPersistentNet: ['/etc/udev/rules.d/70-persistent-net.rules'],
  machineId: '/etc/machine-id',
  hostname: '/etc/hostname',
} as const;

// ---------------------------------------------------------------------------
// The tree definition.

export type TreeEntry =
  | { type: 'dir'; path: string; mode: number; uid?: number; gid?: number }
  | { type: 'file'; path: string; mode: number; content: string; uid?: number; gid?: number }
  | { type: 'copy'; path: string; mode: number; from: string }
  | { type: 'symlink'; path: string; target: string };

// ---------------------------------------------------------------------------
// Real tools inside the phony guest, so the scripts of the guest-configuration
// customisations (shared/catalog/guest/) really run: busybox applets for the basic
// commands, and the host's own shadow-utils and systemctl with the shared libraries ldd
// lists (and the loader) at the same paths, so they run chrooted in the guest.

/** The busybox applets the generated scripts use (as /bin symlinks to /bin/busybox). */
const BUSYBOX_APPLETS = [
  'basename', 'cat', 'chgrp', 'chmod', 'chown', 'cp', 'cut', 'dirname', 'echo', 'egrep', 'env', 'false',
  'find', 'grep', 'head', 'id', 'ln', 'ls', 'mkdir', 'mktemp', 'mv', 'printf', 'readlink', 'rm', 'rmdir',
  'sed', 'sleep', 'sort', 'stat', 'tail', 'test', 'touch', 'tr', 'true', 'uniq', 'wc', 'xargs',
];

/** Host tools copied into the guest: the guest's own useradd and systemctl, as on a real one. */
export const GUEST_HOST_TOOLS = ['/usr/sbin/useradd', '/usr/sbin/groupadd', '/usr/sbin/usermod', '/usr/bin/systemctl'] as const;

/** The shared libraries (and the loader) a host binary needs, as ldd names them; undefined when ldd cannot tell. */
function sharedLibraries(binary: string): string[] | undefined {
  try {
    const out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
  } catch {
    return undefined;
  }
}

/**
 * The tools this host has, with their libraries. A host without one (or without ldd)
 * builds a guest without it: the scripts that need it then fail with "the guest has no
 * TOOL", which names what is missing, rather than every test that imports this module.
 */
function hostToolEntries(): TreeEntry[] {
  const found = GUEST_HOST_TOOLS.flatMap((b) => {
    const libs = existsSync(b) ? sharedLibraries(b) : undefined;
    return libs ? [{ binary: b, libs }] : [];
  });
  const present = found.map((f) => f.binary);
  const libs = [...new Set(found.flatMap((f) => f.libs))].sort();
  return [
    ...present.map((b): TreeEntry => ({ type: 'copy', path: b, mode: 0o755, from: b })),
    ...libs.map((l): TreeEntry => ({ type: 'copy', path: l, mode: 0o755, from: l })),
  ];
}

/** A unit the `services` customisation enables, and one enabled in the image that it disables. */
export const GUEST_UNITS = {
  toEnable: 'classroom-agent.service',
  toDisable: 'legacy-kiosk.service',
  dir: '/usr/lib/systemd/system',
  wants: '/etc/systemd/system/multi-user.target.wants',
} as const;

const unitFile = (what: string) =>
  `[Unit]\nDescription=${what}\n\n[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n`;

const GUEST_TOOLS: readonly TreeEntry[] = [
  { type: 'copy', path: '/bin/busybox', mode: 0o755, from: BUSYBOX },
  ...BUSYBOX_APPLETS.map((a): TreeEntry => ({ type: 'symlink', path: `/bin/${a}`, target: 'busybox' })),
  ...hostToolEntries(),
  // What shadow-utils read: its settings, the skeleton of new homes, the group shadow file.
  {
    type: 'file', path: '/etc/login.defs', mode: 0o644, content:
      'MAIL_DIR /var/mail\nUID_MIN 1000\nUID_MAX 60000\nSYS_UID_MIN 100\nSYS_UID_MAX 999\n' +
      'GID_MIN 1000\nGID_MAX 60000\nSYS_GID_MIN 100\nSYS_GID_MAX 999\nUMASK 022\nHOME_MODE 0750\n' +
      'USERGROUPS_ENAB yes\nENCRYPT_METHOD SHA512\n',
  },
  { type: 'file', path: '/etc/default/useradd', mode: 0o644, content: 'SHELL=/bin/sh\nSKEL=/etc/skel\n' },
  { type: 'dir', path: '/etc/skel', mode: 0o755 },
  { type: 'file', path: '/etc/skel/.profile', mode: 0o644, content: '# ~/.profile from the skeleton\n' },
  {
    type: 'file', path: '/etc/gshadow', mode: 0o640, gid: 42, content:
      'root:*::\ndaemon:*::\nshadow:*::\nusers:*::olduser,student\nnogroup:*::\nolduser:!::\nstudent:!::\n',
  },
  { type: 'dir', path: '/etc/sudoers.d', mode: 0o750 },
  // systemd units: one to enable, one enabled to disable.
  { type: 'file', path: `${GUEST_UNITS.dir}/${GUEST_UNITS.toEnable}`, mode: 0o644, content: unitFile('Classroom agent') },
  { type: 'file', path: `${GUEST_UNITS.dir}/${GUEST_UNITS.toDisable}`, mode: 0o644, content: unitFile('Legacy kiosk') },
  { type: 'symlink', path: `${GUEST_UNITS.wants}/${GUEST_UNITS.toDisable}`, target: `${GUEST_UNITS.dir}/${GUEST_UNITS.toDisable}` },
  // Locale generation as on Debian: the list with the locales commented out.
  { type: 'file', path: '/etc/locale.gen', mode: 0o644, content: '# en_US.UTF-8 UTF-8\n# de_DE.UTF-8 UTF-8\n# fr_FR.UTF-8 UTF-8\n' },
  { type: 'file', path: '/etc/default/locale', mode: 0o644, content: 'LANG=C.UTF-8\n' },
];

// Fixed bytes standing in for host keys (never used cryptographically).
const FAKE_RSA_KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\n' +
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAFwAAAAdzc2gtcn\n' +
  'NhAAAAAwEAAQAAAQEAgoldenimagefakersahostkeyfortestsonly0000000000000000\n' +
  '-----END OPENSSH PRIVATE KEY-----\n';
const FAKE_RSA_PUB =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCgoldenimagefakersahostkey root@golden-image\n';
const FAKE_ED25519_KEY =
  '-----BEGIN OPENSSH PRIVATE KEY-----\n' +
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n' +
  'QyNTUxOQAAACBnb2xkZW5pbWFnZWZha2VlZDI1NTE5aG9zdGtleQAAAAAAAAAAAAAAAA==\n' +
  '-----END OPENSSH PRIVATE KEY-----\n';
const FAKE_ED25519_PUB =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGdvbGRlbmltYWdlZmFrZWVkMjU1MTk root@golden-image\n';

export const GUEST_TREE: readonly TreeEntry[] = [
  // Base directories.
  ...['/bin', '/etc', '/etc/ssh', '/etc/udev', '/etc/udev/rules.d', '/home', '/var',
    '/var/lib', '/var/lib/dpkg', '/var/lib/dhcp', '/var/log', '/tmp', '/usr', '/usr/bin',
    '/usr/sbin', '/sbin', '/dev', '/proc', '/sys', '/run']
    .map((p): TreeEntry => ({ type: 'dir', path: p, mode: p === '/tmp' ? 0o1777 : 0o755 })),
  { type: 'dir', path: '/root', mode: 0o700 },
  { type: 'dir', path: '/root/.ssh', mode: 0o700 },
  { type: 'dir', path: '/home/student', mode: 0o755, uid: 1001, gid: 1001 },
  { type: 'dir', path: '/home/olduser', mode: 0o755, uid: 1000, gid: 1000 },

  // Distribution identity (what virt-inspector keys on).
  {
    type: 'file', path: '/etc/os-release', mode: 0o644, content:
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' +
      'NAME="Debian GNU/Linux"\n' +
      'VERSION_ID="12"\n' +
      'VERSION="12 (bookworm)"\n' +
      'VERSION_CODENAME=bookworm\n' +
      'ID=debian\n' +
      'HOME_URL="https://www.debian.org/"\n' +
      'SUPPORT_URL="https://www.debian.org/support"\n' +
      'BUG_REPORT_URL="https://bugs.debian.org/"\n',
  },
  { type: 'file', path: '/etc/debian_version', mode: 0o644, content: '12.5\n' },
  { type: 'file', path: '/etc/hostname', mode: 0o644, content: `${GOLDEN_HOSTNAME}\n` },
  {
    type: 'file', path: '/etc/hosts', mode: 0o644, content:
      '127.0.0.1\tlocalhost\n' +
      `127.0.1.1\t${GOLDEN_HOSTNAME}\n` +
      '::1\t\tlocalhost ip6-localhost ip6-loopback\n',
  },
  {
    type: 'file', path: '/etc/passwd', mode: 0o644, content:
      'root:x:0:0:root:/root:/bin/sh\n' +
      'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n' +
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' +
      'olduser:x:1000:1000:Old User,,,:/home/olduser:/bin/sh\n' +
      'student:x:1001:1001:Student,,,:/home/student:/bin/sh\n',
  },
  {
    type: 'file', path: '/etc/shadow', mode: 0o640, gid: 42, content:
      `root:${GOLDEN_ROOT_HASH}:19800:0:99999:7:::\n` +
      'daemon:*:19800:0:99999:7:::\n' +
      'nobody:*:19800:0:99999:7:::\n' +
      'olduser:$6$olduser0salt$Yf0ldUs3rHashN0tReal0000000000000000000000000000000000000000000000000000000000000:19800:0:99999:7:::\n' +
      'student:$6$student0salt$StudentHashN0tReal000000000000000000000000000000000000000000000000000000000000:19800:0:99999:7:::\n',
  },
  {
    type: 'file', path: '/etc/group', mode: 0o644, content:
      'root:x:0:\n' +
      'daemon:x:1:\n' +
      'shadow:x:42:\n' +
      'users:x:100:olduser,student\n' +
      'nogroup:x:65534:\n' +
      'olduser:x:1000:\n' +
      'student:x:1001:\n',
  },
  { type: 'file', path: '/etc/machine-id', mode: 0o444, content: `${GOLDEN_MACHINE_ID}\n` },
  { type: 'file', path: '/var/lib/dpkg/status', mode: 0o644, content: '' },
  { type: 'copy', path: '/bin/sh', mode: 0o755, from: BUSYBOX },

  // Identity a reset must remove or rewrite.
  { type: 'file', path: '/etc/ssh/ssh_host_rsa_key', mode: 0o600, content: FAKE_RSA_KEY },
  { type: 'file', path: '/etc/ssh/ssh_host_rsa_key.pub', mode: 0o644, content: FAKE_RSA_PUB },
  { type: 'file', path: '/etc/ssh/ssh_host_ed25519_key', mode: 0o600, content: FAKE_ED25519_KEY },
  { type: 'file', path: '/etc/ssh/ssh_host_ed25519_key.pub', mode: 0o644, content: FAKE_ED25519_PUB },
  {
    type: 'file', path: '/root/.bash_history', mode: 0o600, content:
      'apt-get update\nvi /etc/ssh/sshd_config\nsystemctl restart ssh\n',
  },
  {
    type: 'file', path: '/home/student/.bash_history', mode: 0o600, uid: 1001, gid: 1001, content:
      'ls -la\ncat secret-notes.txt\nssh olduser@10.0.0.5\n',
  },
  {
    type: 'file', path: '/var/log/syslog', mode: 0o640, content:
      'Jan 10 10:00:00 golden-image kernel: Linux version 6.1.0-18-amd64\n' +
      'Jan 10 10:00:05 golden-image systemd[1]: Started ssh.service.\n',
  },
  {
    type: 'file', path: '/var/log/messages', mode: 0o640, content:
      'Jan 10 10:00:00 golden-image kernel: e1000 0000:00:03.0 eth0: (PCI:33MHz:32-bit) 52:54:00:12:34:56\n',
  },
  {
    type: 'file', path: '/var/lib/dhcp/dhclient.eth0.leases', mode: 0o644, content:
      'lease {\n  interface "eth0";\n  fixed-address 192.168.122.57;\n' +
      '  option subnet-mask 255.255.255.0;\n  option routers 192.168.122.1;\n' +
      '  renew 3 2024/01/10 12:00:00;\n  expire 3 2024/01/10 13:00:00;\n}\n',
  },
  {
    type: 'file', path: '/etc/udev/rules.d/70-persistent-net.rules', mode: 0o644, content:
      '# This file was automatically generated by the /lib/udev/write_net_rules\n' +
      'SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="52:54:00:12:34:56", ' +
      'ATTR{dev_id}=="0x0", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"\n',
  },

  // Tools and settings the guest-configuration scripts use (see GUEST_TOOLS).
  ...GUEST_TOOLS,
];

// ---------------------------------------------------------------------------
// Guest flavours: the base tree with one distribution family's own network
// configuration (the network customisation's tests). Each flavour lists the base paths
// it drops and the entries it adds; `debian` is the base tree as it always was, plus a
// golden ifupdown configuration.

/** The template's network identity the flavours carry (a sysprep must leave none of it). */
export const GOLDEN_NET = { ip: '192.168.122.57', prefix: 24, gateway: '192.168.122.1', mac: '52:54:00:12:34:56' } as const;

export type GuestFlavour = 'debian' | 'nm' | 'el8' | 'suse';

interface Flavour {
  /** The Linux family its identity files follow (shared/guestOs.ts). */
  family: LinuxFamily;
  /**
   * The root filesystem's label, which its fstab mounts / by: flavours differ, so when
   * several flavours are the disks of ONE guest (the identity e2e), each root's fstab
   * names its own disk (a /dev/sda1 entry would mount the first disk under every root).
   */
  label: string;
  /** Base paths (files or dirs) left out. */
  drop: readonly string[];
  add: readonly TreeEntry[];
}

const dirs = (...paths: string[]): TreeEntry[] => paths.map((p) => ({ type: 'dir', path: p, mode: 0o755 }));
/** A stand-in for a binary the network script looks for (it only tests that it exists). */
const binary = (p: string): TreeEntry => ({ type: 'file', path: p, mode: 0o755, content: '#!/bin/sh\nexit 0\n' });
const file = (p: string, content: string, mode = 0o644): TreeEntry => ({ type: 'file', path: p, mode, content });
const NOT_DEBIAN = ['/etc/debian_version', '/var/lib/dpkg/status', '/var/lib/dpkg', '/etc/os-release'];
/** An rpm-family guest: its os-release, its release files, NetworkManager installed (EL 8 has it too). */
const rpmGuest = (osRelease: string, release: string, releaseFiles: string[]): TreeEntry[] => [
  file('/etc/os-release', osRelease),
  ...releaseFiles.map((p) => file(p, release)),
  binary('/usr/sbin/NetworkManager'),
];

export const GUEST_FLAVOURS: Readonly<Record<GuestFlavour, Flavour>> = {
  debian: {
    family: 'debian',
    label: 'debian-root',
    drop: [],
    add: [
      ...dirs('/etc/network', '/etc/network/interfaces.d'),
      {
        type: 'file', path: '/etc/network/interfaces', mode: 0o644, content:
          'source /etc/network/interfaces.d/*\n\n# The loopback network interface\nauto lo\niface lo inet loopback\n\n' +
          '# The primary network interface\nallow-hotplug eth0\niface eth0 inet static\n' +
          `    address ${GOLDEN_NET.ip}/${GOLDEN_NET.prefix}\n    gateway ${GOLDEN_NET.gateway}\n    hwaddress ether ${GOLDEN_NET.mac}\n`,
      },
    ],
  },
  nm: {
    family: 'el',
    label: 'fedora-root',
    drop: NOT_DEBIAN,
    add: [
      ...dirs('/etc/NetworkManager', '/etc/NetworkManager/system-connections', '/var/lib/rpm'),
      ...rpmGuest(
        'NAME="Fedora Linux"\nVERSION="39 (Server Edition)"\nID=fedora\nVERSION_ID=39\n' +
        'PRETTY_NAME="Fedora Linux 39 (Server Edition)"\nVARIANT_ID=server\n',
        'Fedora release 39 (Thirty Nine)\n', ['/etc/fedora-release', '/etc/redhat-release']),
      {
        type: 'file', path: '/etc/NetworkManager/system-connections/Wired connection 1.nmconnection', mode: 0o600, content:
          '[connection]\nid=Wired connection 1\nuuid=6b0a8c5e-3f0e-4c59-9a0e-4d3c2b1a0f01\ntype=ethernet\nautoconnect-priority=-999\n\n' +
          `[ethernet]\nmac-address=${GOLDEN_NET.mac.toUpperCase()}\n\n` +
          `[ipv4]\nmethod=manual\naddress1=${GOLDEN_NET.ip}/${GOLDEN_NET.prefix},${GOLDEN_NET.gateway}\n\n[ipv6]\nmethod=auto\n`,
      },
    ],
  },
  el8: {
    family: 'el',
    label: 'el8-root',
    drop: NOT_DEBIAN,
    add: [
      ...dirs('/etc/sysconfig', '/etc/sysconfig/network-scripts', '/etc/NetworkManager', '/var/lib/rpm'),
      // NetworkManager installed: ifcfg must still win (it is EL 8's format).
      ...rpmGuest(
        'NAME="Rocky Linux"\nVERSION="8.9 (Green Obsidian)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.9"\n' +
        'PLATFORM_ID="platform:el8"\nPRETTY_NAME="Rocky Linux 8.9 (Green Obsidian)"\n',
        'Rocky Linux release 8.9 (Green Obsidian)\n', ['/etc/redhat-release', '/etc/rocky-release']),
      file('/etc/sysconfig/network-scripts/ifcfg-lo', 'DEVICE=lo\nIPADDR=127.0.0.1\nNETMASK=255.0.0.0\nONBOOT=yes\nNAME=loopback\n'),
      {
        type: 'file', path: '/etc/sysconfig/network-scripts/ifcfg-eth0', mode: 0o644, content:
          `TYPE=Ethernet\nBOOTPROTO=none\nNAME=eth0\nDEVICE=eth0\nONBOOT=yes\nHWADDR=${GOLDEN_NET.mac}\n` +
          `IPADDR=${GOLDEN_NET.ip}\nPREFIX=${GOLDEN_NET.prefix}\nGATEWAY=${GOLDEN_NET.gateway}\n`,
      },
    ],
  },
  // openSUSE Leap 15: libguestfs keys on os-release's ID (opensuse-leap -> distro
  // "opensuse", rpm/zypper); wicked's ifcfg in /etc/sysconfig/network (no
  // NetworkManager binary: Leap's server default), /etc/HOSTNAME a link to hostname.
  suse: {
    family: 'suse',
    label: 'suse-root',
    drop: NOT_DEBIAN,
    add: [
      ...dirs('/etc/sysconfig', '/etc/sysconfig/network', '/etc/zypp', '/var/lib/rpm', '/var/lib/zypp'),
      file('/etc/os-release',
        'NAME="openSUSE Leap"\nVERSION="15.5"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.5"\n' +
        'PRETTY_NAME="openSUSE Leap 15.5"\nANSI_COLOR="0;32"\nCPE_NAME="cpe:/o:opensuse:leap:15.5"\n' +
        'HOME_URL="https://www.opensuse.org/"\n'),
      { type: 'symlink', path: '/etc/HOSTNAME', target: 'hostname' },
      binary('/usr/bin/zypper'),
      file('/etc/zypp/zypp.conf', '[main]\n'),
      file('/etc/sysconfig/network/ifcfg-lo', "IPADDR='127.0.0.1/8'\nNETMASK='255.0.0.0'\nNETWORK='127.0.0.0'\nSTARTMODE='nfsroot'\nBOOTPROTO='static'\nUSERCONTROL='no'\nFIREWALL='no'\n"),
      file('/etc/sysconfig/network/ifcfg-eth0',
        `BOOTPROTO='static'\nSTARTMODE='auto'\nIPADDR='${GOLDEN_NET.ip}/${GOLDEN_NET.prefix}'\nLLADDR='${GOLDEN_NET.mac}'\nZONE=public\n`),
      file('/etc/sysconfig/network/routes', `default ${GOLDEN_NET.gateway} - -\n`),
    ],
  },
};

/** The fstab of a flavour: / by its label (see Flavour.label). */
const fstab = (f: Flavour): TreeEntry =>
  file('/etc/fstab', `# <file system> <mount point> <type> <options> <dump> <pass>\nLABEL=${f.label} / ext4 errors=remount-ro 0 1\n`);

/** The tree of a flavour: the base without its dropped paths, then its own entries. */
export function guestTree(flavour: GuestFlavour = 'debian'): readonly TreeEntry[] {
  const f = GUEST_FLAVOURS[flavour];
  const own = [...GUEST_TREE.filter((e) => !f.drop.includes(e.path)), fstab(f), ...f.add];
  // Every identity item of the family (identitySamples.ts), where the flavour has no file of its own there.
  const taken = new Set(own.map((e) => e.path));
  const planted = identitySamples(f.family, { hostname: GOLDEN_HOSTNAME, machineId: GOLDEN_MACHINE_ID, mac: GOLDEN_NET.mac, ip: GOLDEN_NET.ip })
    .filter((s) => !taken.has(s.path))
    .map((s): TreeEntry => ({ type: 'file', path: s.path, mode: s.mode ?? 0o644, content: s.content, uid: s.uid, gid: s.gid }));
  return [...own, ...planted];
}

/** The Linux family of a flavour. */
export const familyOfFlavour = (flavour: GuestFlavour): LinuxFamily => GUEST_FLAVOURS[flavour].family;

/** Bump when the build procedure (not the tree) changes in a way that matters. */
const BUILD_RECIPE = 'virt-make-fs --format=qcow2 --type=ext4 --partition --size=+50M --label=LABEL v1';

/** virt-make-fs's arguments for a flavour's tree (the hash covers them through BUILD_RECIPE and the label). */
const makeFsArgs = (flavour: GuestFlavour, tree: string, out: string): string[] =>
  ['--format=qcow2', '--type=ext4', '--partition', '--size=+50M', `--label=${GUEST_FLAVOURS[flavour].label}`, tree, out];

/** Hash of the tree definition, the build recipe and the bytes of copied files. */
export async function guestTreeHash(flavour: GuestFlavour = 'debian'): Promise<string> {
  const tree = guestTree(flavour);
  const h = createHash('sha256');
  h.update(BUILD_RECIPE);
  h.update('\0');
  h.update(GUEST_FLAVOURS[flavour].label);
  h.update('\0');
  h.update(JSON.stringify(tree));
  for (const e of tree) {
    if (e.type === 'copy') {
      h.update('\0');
      h.update(await fs.readFile(e.from));
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** Materialise a flavour's tree under `root` (which must exist and be empty). */
export async function writeGuestTree(root: string, flavour: GuestFlavour = 'debian'): Promise<void> {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const tree = guestTree(flavour);
  const dirs = tree.filter((e) => e.type === 'dir');
  const files = tree.filter((e) => e.type === 'file' || e.type === 'copy');
  const links = tree.filter((e) => e.type === 'symlink');
  for (const e of dirs) {
    await fs.mkdir(path.join(root, e.path), { recursive: true });
  }
  for (const e of [...files, ...links]) {
    const dest = path.join(root, e.path);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    if (e.type === 'copy') await fs.copyFile(e.from, dest);
    else if (e.type === 'file') await fs.writeFile(dest, e.content);
    else if (e.type === 'symlink') await fs.symlink(e.target, dest);
  }
  // Modes and owners last (dirs last of all, so 0700 dirs don't block writes when not root).
  for (const e of [...files, ...dirs]) {
    const dest = path.join(root, e.path);
    if (isRoot && e.type !== 'copy' && (e.uid !== undefined || e.gid !== undefined)) {
      await fs.chown(dest, e.uid ?? 0, e.gid ?? 0);
    }
    await fs.chmod(dest, e.mode);
  }
}

/** Build the guest image at `outPath` (overwrites). Takes ~10-15 s under TCG. */
export async function buildGuestImage(outPath: string, flavour: GuestFlavour = 'debian'): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'ovirt-sysprep-guest-'));
  try {
    const tree = path.join(work, 'tree');
    await fs.mkdir(tree);
    await writeGuestTree(tree, flavour);
    await fs.mkdir(path.dirname(path.resolve(outPath)), { recursive: true });
    await fs.rm(outPath, { force: true });
    try {
      await execFileAsync(
        'virt-make-fs',
        makeFsArgs(flavour, tree, outPath),
        { env: libguestfsEnv(), maxBuffer: 16 * 1024 * 1024, timeout: 10 * 60 * 1000 },
      );
    } catch (err) {
      const e = err as Error & { stderr?: string; stdout?: string };
      await fs.rm(outPath, { force: true });
      throw new Error(
        `virt-make-fs failed building ${outPath}: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`,
      );
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// Cache with cross-process exclusion (several jest workers, globalSetup, ...).

const LOCK_WAIT_MS = 15 * 60 * 1000;
const POLL_MS = 250;

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p, fsConstants.F_OK);
    return true;
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take an O_EXCL lock file holding our pid; break it if its owner is dead. */
async function acquireLock(lockPath: string): Promise<fs.FileHandle | null> {
  try {
    const fh = await fs.open(lockPath, 'wx');
    await fh.writeFile(`${process.pid}\n`);
    return fh;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // Held by someone: break it only if the owner is gone.
  let owner = NaN;
  try {
    owner = parseInt(await fs.readFile(lockPath, 'utf8'), 10);
  } catch {
    return null; // vanished meanwhile; caller retries
  }
  if (Number.isFinite(owner) && owner > 0 && !pidAlive(owner)) {
    // Rename before removing so two breakers cannot both delete a fresh lock.
    const stale = `${lockPath}.stale-${process.pid}-${Date.now()}`;
    try {
      await fs.rename(lockPath, stale);
      const again = parseInt(await fs.readFile(stale, 'utf8'), 10);
      if (again === owner) await fs.rm(stale, { force: true });
      else await fs.rename(stale, lockPath).catch(() => fs.rm(stale, { force: true }));
    } catch {
      /* someone else broke it */
    }
  }
  return null;
}

const inProcess = new Map<GuestFlavour, Promise<string>>();

/**
 * Path of the cached guest image `<repo>/.cache/fixtures/guest-<hash>.qcow2` of a flavour
 * (`debian` unless told), building it once if needed: the other flavours only when a
 * test asks for them. Safe for concurrent callers in several processes: the image is
 * built under a temp name and renamed in place while holding an O_EXCL lock file.
 */
export function cachedGuestImage(flavour: GuestFlavour = 'debian'): Promise<string> {
  let p = inProcess.get(flavour);
  if (!p) {
    p = buildCached(flavour).catch((err) => {
      inProcess.delete(flavour);
      throw err;
    });
    inProcess.set(flavour, p);
  }
  return p;
}

async function buildCached(flavour: GuestFlavour): Promise<string> {
  const hash = await guestTreeHash(flavour);
  return withBuildLock(path.join(FIXTURE_CACHE_DIR, `guest-${hash}.qcow2`), (tmp) => buildGuestImage(tmp, flavour));
}

/**
 * `final` once it exists, built by `build(tmpPath)` under an O_EXCL lock file and renamed
 * in place, so concurrent callers in several processes build it once (every cached
 * fixture image goes through here: the guest flavours, the phony Windows image).
 */
export async function withBuildLock(final: string, build: (tmpPath: string) => Promise<void>): Promise<string> {
  await fs.mkdir(path.dirname(final), { recursive: true });
  const lockPath = `${final}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    if (await exists(final)) return final;
    const lock = await acquireLock(lockPath);
    if (lock) {
      try {
        if (await exists(final)) return final; // built while we waited
        const tmp = `${final}.tmp-${process.pid}-${Date.now()}`;
        try {
          await build(tmp);
          await fs.rename(tmp, final);
        } finally {
          // recursive: a fixture of several disks is built as a directory (batchImages.ts).
          await fs.rm(tmp, { recursive: true, force: true });
        }
        return final;
      } finally {
        await lock.close();
        await fs.rm(lockPath, { force: true });
      }
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for another process to build ${final} (lock ${lockPath})`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Full (standalone, no backing file) copy of the cached guest image of a flavour to `destPath`. */
export async function copyGuestImage(destPath: string, flavour: GuestFlavour = 'debian'): Promise<void> {
  const src = await cachedGuestImage(flavour);
  await fs.mkdir(path.dirname(path.resolve(destPath)), { recursive: true });
  await fs.copyFile(src, destPath);
  await fs.chmod(destPath, 0o644);
}
