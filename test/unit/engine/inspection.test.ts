// The engine's view of an inspection (engine-plugin/inspection/Inspection.ts) and the
// CLI's print of it, from the agent's Inspect answers on the fixture images (recorded
// from test/helpers/windowsImage.ts and guestImage.ts's el8 flavour with guestfish 1.48:
// test/fixtures/inspection/).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { InspectResult } from '../../../shared/wireTypes';
import { guestOsOfResult, stillValid, toInspection } from '../../../engine-plugin/inspection/Inspection';
import { formatInspection } from '../../../engine-plugin/cli/commands/inspectCommand';

const answer = (name: string): InspectResult => JSON.parse(readFileSync(path.join(__dirname, '../../fixtures/inspection', name), 'utf8'));
const at = (name: string) => ({ target: { type: 'vm' as const, id: 'v1', name }, disks: [{ path: `/s/${name}.qcow2` }], host: 'h1', jobId: 'j1', inspectedAt: '2026-12-06T09:00:00.000Z' });

describe('inspection results', () => {
  it('Windows: type, version, product, computer name; no users, no family', () => {
    const i = toInspection(answer('windows-2019.json'), at('win'));
    expect(i).toMatchObject({
      os: { type: 'windows', distro: 'windows', version: '10.0', source: 'inspection' },
      productName: 'Windows Server 2019 Standard', productVariant: 'Server', hostname: 'WIN-GOLDEN01', arch: 'x86_64',
      packageFormat: '', users: [], windowsSystemroot: '/Windows',
      filesystems: [{ device: '/dev/sda1', type: 'ntfs', mountpoint: '/', totalBytes: 66027520, freeBytes: 63373312 }],
      disks: [{ path: '/s/win.qcow2', generation: '3276800:1765011420123456789:1234:2049' }],
    });
    expect(i.os.family).toBeUndefined();
    expect(formatInspection(i)).toMatchSnapshot();
  });

  it('Linux (EL 8 fixture): family from the distro, users, NetworkManager', () => {
    const i = toInspection(answer('rocky-8.json'), at('el8'));
    expect(i.os).toEqual({ type: 'linux', family: 'el', distro: 'rocky', version: '8.9', source: 'inspection' });
    expect(i).toMatchObject({ packageFormat: 'rpm', packageManagement: 'dnf', networkManager: true, cloudInit: false, lvm: false });
    expect(i.users.map((u) => u.name)).toEqual(['root', 'daemon', 'nobody', 'olduser', 'student']);
    expect(formatInspection(i)).toMatchSnapshot();
  });

  it.each([
    ['linux', 'ubuntu', '22.4', { type: 'linux', family: 'debian', distro: 'ubuntu', version: '22.4', source: 'inspection' }],
    ['linux', 'opensuse', '15.5', { type: 'linux', family: 'suse', distro: 'opensuse', version: '15.5', source: 'inspection' }],
    ['linux', 'archlinux', '', { type: 'linux', distro: 'archlinux', source: 'inspection' }],
    ['hurd', '', '.', { type: 'unknown', source: 'inspection' }],
  ])('GuestOs of %s %s %s', (type, distro, version, expected) => {
    expect(guestOsOfResult(type, distro, version)).toEqual(expected);
  });

  const disks = [{ path: '/s/a.qcow2' }, { path: '/s/b.qcow2' }];
  const inspected = [{ path: '/s/a.qcow2', generation: 'g1' }, { path: '/s/b.qcow2', generation: 'g2' }];
  it.each([
    ['unchanged', inspected, disks, ['g1', 'g2'], true],
    ['one disk written', inspected, disks, ['g1', 'g3'], false],
    ['a block device (no generation)', [{ path: '/s/a.qcow2', generation: '' }], [disks[0]], [''], false],
    ['a disk added since', [inspected[0]], disks, ['g1', 'g2'], false],
    ['the disks swapped', inspected, [disks[1], disks[0]], ['g2', 'g1'], false],
  ])('still valid: %s', (_what, stored, now, generations, expected) => {
    expect(stillValid(stored, now, generations)).toBe(expected);
  });
});
