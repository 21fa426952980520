// Read-only OS inspection of a VM's disks, as image tools print it (docs/inspection.md):
// ONE guestfish session (one appliance launch, the cost that matters under TCG):
//  1. inspect-os; the first root is the guest (multi-boot guests: the others are ignored);
//  2. libguestfs's own inspection of it (type, distro, product, version, arch, hostname,
//     package format and manager, mountpoints, Windows system root);
//  3. the guest's filesystems mounted read-only as it mounts them, statvfs on each
//     (sizes and free space);
//  4. Linux only: /etc/passwd's accounts, kernels (/boot, /lib/modules), whether
//     cloud-init, NetworkManager and LVM are there. Windows: users are not read.
// Paths go through the same confinement as jobs (the caller checks the disks first).
import type { InspectResult } from '../shared/wireTypes';
import type { GuestDetails__Output as GuestDetails } from '../shared/wire/ovirt_sysprep/v1/GuestDetails';
import type { GuestFilesystem__Output as GuestFilesystem } from '../shared/wire/ovirt_sysprep/v1/GuestFilesystem';
import { SysprepError } from '../shared/errors';
import { Hypervisor } from './hypervisor';
import { GuestfishError, GuestfishSession } from './inspection/GuestfishSession';
import { isTrue, kernelVersions, lines, parseFilesystems, parseMountpoints, parsePasswd, parseStatvfs } from './inspection/guestfishOutput';

const TIMEOUT_MS = 300_000;

/** Paths whose presence says a component is installed (any one is enough). */
const PRESENCE = {
  cloudInit: ['/usr/bin/cloud-init', '/etc/cloud/cloud.cfg'],
  networkManager: ['/usr/sbin/NetworkManager', '/etc/NetworkManager/NetworkManager.conf'],
} as const;

export class Inspector {
  constructor(private readonly hypervisor: Hypervisor, private readonly bin = 'guestfish') {}

  async inspect(disks: { path: string; format: string }[]): Promise<InspectResult> {
    const started = Date.now();
    const g = await GuestfishSession.open(this.bin, disks, await this.hypervisor.env(), TIMEOUT_MS).catch((err: Error) => {
      throw new SysprepError('failed', 'INSPECTION_FAILED', err.message);
    });
    try {
      const [root] = lines(await g.get('inspect-os'));
      if (!root) throw new SysprepError('failed', 'NO_OS_FOUND', 'inspection found no operating system on these disks');
      const ask = async (what: string) => {
        const v = await g.get(`inspect-get-${what}`, root);
        return v === undefined || v === 'unknown' ? '' : v;
      };
      const osType = await ask('type');
      const mountpoints = parseMountpoints((await g.get('inspect-get-mountpoints', root)) ?? '');
      for (const m of mountpoints) await g.call('mount-ro', m.device, m.path);
      const filesystems: GuestFilesystem[] = [];
      for (const fs of parseFilesystems((await g.get('list-filesystems')) ?? '')) {
        if (fs.type === 'unknown') continue;
        const mp = mountpoints.find((m) => m.device === fs.device);
        const space = mp ? parseStatvfs((await g.get('statvfs', mp.path)) ?? '') : undefined;
        filesystems.push({ device: fs.device, type: fs.type, mountpoint: mp?.path ?? '', totalBytes: String(space?.totalBytes ?? 0), freeBytes: String(space?.freeBytes ?? 0) });
      }
      const details: GuestDetails = {
        arch: await ask('arch'),
        productVariant: await ask('product-variant'),
        osinfo: await ask('osinfo'),
        packageManagement: await ask('package-management'),
        mountpoints,
        filesystems,
        users: [],
        kernels: [],
        cloudInit: false,
        networkManager: false,
        lvm: false,
        windowsSystemroot: osType === 'windows' ? await ask('windows-systemroot') : '',
        elapsedMs: 0,
      };
      if (osType === 'linux') {
        const exists = async (paths: readonly string[]) => {
          for (const p of paths) if (isTrue(await g.get('exists', p))) return true;
          return false;
        };
        const passwd = await g.get('cat', '/etc/passwd');
        details.users = passwd ? parsePasswd(passwd) : [];
        details.kernels = kernelVersions(lines(await g.get('ls', '/boot')), lines(await g.get('ls', '/lib/modules')));
        details.cloudInit = await exists(PRESENCE.cloudInit);
        details.networkManager = await exists(PRESENCE.networkManager);
        details.lvm = lines(await g.get('lvs')).length > 0;
      }
      const result: InspectResult = {
        osType,
        distro: await ask('distro'),
        productName: await ask('product-name'),
        version: `${await ask('major-version')}.${await ask('minor-version')}`,
        hostname: await ask('hostname'),
        root,
        packageFormat: [await ask('package-format')].filter(Boolean),
        details,
        diskGenerations: [],
      };
      details.elapsedMs = Date.now() - started;
      return result;
    } catch (err) {
      // guestfish died or timed out mid-session: the job's error, not an internal one.
      throw err instanceof GuestfishError ? new SysprepError('failed', 'INSPECTION_FAILED', err.message) : err;
    } finally {
      await g.close();
    }
  }
}
