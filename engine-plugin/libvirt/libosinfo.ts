// The guest OS a libvirt domain declares: the product's own `<os type="windows"/>` (POST
// /vms `os`), else the libosinfo id virt-install and virt-manager write
// (`<libosinfo:os id="http://microsoft.com/win/10"/>`). An id we cannot place says nothing.
import type { GuestOs } from '../../shared/guestOs';
import { familyOfDistro } from '../../shared/guestOs';

export const LIBOSINFO_NS = 'http://libosinfo.org/xmlns/libvirt/domain/1.0';

// libosinfo ids are URLs of the vendor's site: http://VENDOR/DISTRO/VERSION.
const LINUX_HOSTS: Readonly<Record<string, string>> = {
  'debian.org': 'debian', 'ubuntu.com': 'ubuntu', 'redhat.com': 'rhel', 'fedoraproject.org': 'fedora',
  'centos.org': 'centos', 'rockylinux.org': 'rocky', 'almalinux.org': 'almalinux', 'oracle.com': 'oraclelinux',
  'opensuse.org': 'opensuse', 'suse.com': 'sles', 'archlinux.org': 'archlinux', 'alpinelinux.org': 'alpine',
};

/** The GuestOs of a libosinfo id, or undefined. */
export function osOfLibosinfoId(id: string | undefined): GuestOs | undefined {
  const m = id ? /^https?:\/\/([^/]+)\/([^/]+)(?:\/([^/]+))?/.exec(id) : null;
  if (!m) return undefined;
  const [, host, path, version] = m;
  if (host === 'microsoft.com' && path.startsWith('win')) return { type: 'windows', distro: 'windows', ...(version && { version }) };
  const distro = LINUX_HOSTS[host];
  if (!distro || (host === 'redhat.com' && !path.startsWith('rhel'))) return undefined;
  return { type: 'linux', distro, ...(familyOfDistro(distro) && { family: familyOfDistro(distro) }), ...(version && { version }) };
}
