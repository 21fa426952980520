// Mount plans of a batch (host-agent/batch/mountPlan.ts): each fstab spec resolved against
// ONE VM's devices only; LVM ownership across the members of a batch. The device facts are
// shaped as guestfish 1.48 answered them for the fixture images and for two copies of a
// small LVM disk (pvs-full: LVM used the second copy's PV and did not activate the LV).
import { applianceDisk, deviceInfoOf, demangleMapper, DeviceInfo, LvmFacts, lvmOwnership, memberOfDevice, planRootMounts, staleLvmView } from '../../../host-agent/batch/mountPlan';
import { parseStructs } from '../../../host-agent/batch/BatchSession';

describe('applianceDisk', () => {
  it.each([[0, '/dev/sda'], [1, '/dev/sdb'], [25, '/dev/sdz'], [26, '/dev/sdaa'], [27, '/dev/sdab'], [51, '/dev/sdaz'], [52, '/dev/sdba'], [254, '/dev/sdiu'], [701, '/dev/sdzz'], [702, '/dev/sdaaa']])('%i -> %s', (i, dev) => {
    expect(applianceDisk(i)).toBe(dev);
  });
  it('refuses a negative index', () => expect(() => applianceDisk(-1)).toThrow(RangeError));
});

describe('planRootMounts', () => {
  // A two-disk VM that sits third and fourth in the appliance: its "vda" is /dev/sdc.
  const disks = ['/dev/sdc', '/dev/sdd'];
  const own: DeviceInfo[] = [
    { device: '/dev/sdc1', type: 'ext4', uuid: '26d92f55-9ec4-4b38-a024-6a0cb0994e1b', label: 'debian-root', partuuid: 'f39799fa-01' },
    { device: '/dev/sdc2', type: 'swap', uuid: '0b7c1d2e-0000-4000-8000-000000000002', partuuid: 'f39799fa-02' },
    { device: '/dev/sdd1', type: 'ext4', uuid: 'a1b2c3d4-0000-4000-8000-00000000000a', label: 'var', partuuid: '6f7e8d9c-aaaa-4bbb-8ccc-000000000001', partlabel: 'var data' },
    { device: '/dev/vg_golden/home', type: 'xfs', uuid: 'c0ffee00-0000-4000-8000-000000000003', vg: 'vg_golden' },
    { device: '/dev/my-vg/lv-data', type: 'ext4', vg: 'my-vg' },
  ];
  const root = '/dev/sdc1';
  const plan = (fstab: string) => planRootMounts(root, fstab, own, disks);
  const mounts = (...m: [string, string][]) => ({ plan: { root, mounts: m.map(([mountpoint, device]) => ({ device, mountpoint })) } });

  it.each<[string, string, ReturnType<typeof mounts>]>([
    ['UUID= (any case) and LABEL=', 'UUID=26D92F55-9EC4-4B38-A024-6A0CB0994E1B / ext4 defaults 0 1\nLABEL=var /var ext4 defaults 0 2', mounts(['/', root], ['/var', '/dev/sdd1'])],
    ['quoted values', 'UUID="26d92f55-9ec4-4b38-a024-6a0cb0994e1b" / ext4 defaults 0 1\nLABEL=\'var\' /var ext4 defaults 0 2', mounts(['/', root], ['/var', '/dev/sdd1'])],
    ['PARTUUID= and PARTLABEL= (octal space)', 'PARTUUID=f39799fa-01 / ext4 defaults 0 1\nPARTLABEL=var\\040data /var ext4 defaults 0 2', mounts(['/', root], ['/var', '/dev/sdd1'])],
    ['/dev/disk/by-uuid, by-label, by-partuuid', '/dev/disk/by-uuid/26d92f55-9ec4-4b38-a024-6a0cb0994e1b / ext4 defaults 0 1\n/dev/disk/by-label/var /var ext4 defaults 0 2\n/dev/disk/by-partuuid/f39799fa-01 /mnt/again ext4 defaults 0 0', mounts(['/', root], ['/var', '/dev/sdd1'], ['/mnt/again', root])],
    ['vdX/sdX/hdX/xvdX by the VM\'s own disk index', '/dev/vda1 / ext4 defaults 0 1\n/dev/xvdb1 /var ext4 defaults 0 2', mounts(['/', root], ['/var', '/dev/sdd1'])],
    ['/dev/sdb1 is the VM\'s SECOND disk, not the appliance\'s', '/dev/sda1 / ext4 defaults 0 1\n/dev/sdb1 /var ext4 defaults 0 2', mounts(['/', root], ['/var', '/dev/sdd1'])],
    ['LVM: /dev/VG/LV and /dev/mapper with doubled dashes', '/dev/root / ext4 defaults 0 1\n/dev/vg_golden/home /home xfs defaults 0 2\n/dev/mapper/my--vg-lv--data /srv ext4 defaults 0 2', mounts(['/', root], ['/home', '/dev/vg_golden/home'], ['/srv', '/dev/my-vg/lv-data'])],
    ['ignored like libguestfs: tmpfs, none, swap, proc/sys/dev mounts, bind, media, floppy, nfs, comments',
      '# a comment\n\nLABEL=debian-root / ext4 defaults 0 1\ntmpfs /tmp tmpfs defaults 0 0\nUUID=0b7c1d2e-0000-4000-8000-000000000002 none swap sw 0 0\n/dev/sdc2 swap swap defaults 0 0\n' +
      'proc /proc proc defaults 0 0\n/dev/sdz1 /sys/firmware ext4 defaults 0 0\ndevpts /dev/pts devpts defaults 0 0\n/srv/data /var/data none bind 0 0\n' +
      '/dev/sdz1 /media/usb auto noauto 0 0\n/dev/fd0 /mnt/floppy auto noauto 0 0\n/dev/cdrom /mnt/cd iso9660 ro 0 0\nnas:/export /mnt/nas nfs defaults 0 0\n//srv/share /mnt/smb cifs defaults 0 0',
      mounts(['/', root])],
    ['canonical mountpoints, parents before children whatever the order', '/dev/vda1 / ext4 defaults 0 1\nLABEL=var //var//lib/ ext4 defaults 0 2\n/dev/vg_golden/home /home xfs defaults 0 2\n/dev/vdb1 /var ext4 defaults 0 2', mounts(['/', root], ['/home', '/dev/vg_golden/home'], ['/var', '/dev/sdd1'], ['/var/lib', '/dev/sdd1'])],
    ['no fstab: the root alone', '', mounts(['/', root])],
  ])('%s', (_, fstab, expected) => {
    expect(plan(fstab)).toEqual(expected);
  });

  it.each([
    ['a UUID none of the VM\'s devices has (another clone\'s, or gone)', 'UUID=ffffffff-0000-4000-8000-000000000000 /var ext4 defaults 0 2', /UUID=ffffffff-\S+ names none of the VM's devices/],
    ['a LABEL two of the VM\'s own devices carry', 'LABEL=twice /data ext4 defaults 0 2', /LABEL=twice names 2 of the VM's devices \(\/dev\/sdc1, \/dev\/sdd1\)/],
    ['a disk index beyond the VM\'s disks', '/dev/vdc1 /data ext4 defaults 0 2', /\/dev\/vdc1: the VM has 2 disk\(s\)/],
    ['a partition the VM\'s disk does not have', '/dev/vda7 /data ext4 defaults 0 2', /\/dev\/vda7 \(\/dev\/sdc7 here\) is none of the VM's devices/],
    ['another VM\'s LV', '/dev/mapper/vg_other-root /data ext4 defaults 0 2', /\/dev\/vg_other\/root is none of the VM's logical volumes/],
    ['an unknown device scheme', '/dev/disk/by-id/virtio-abc-part1 /data ext4 defaults 0 2', /no batch resolution/],
    ['md raid', '/dev/md0 /data ext4 defaults 0 2', /no batch resolution/],
    ['a btrfs subvolume', 'LABEL=var /data btrfs subvol=@data 0 0', /btrfs subvolumes/],
    ['a "/" entry that is another device than the root found', 'LABEL=var / ext4 defaults 0 1', /\/ is also the root found on \/dev\/sdc1/],
    ['two devices on one mountpoint', 'LABEL=var /data ext4 defaults 0 2\n/dev/vg_golden/home /data xfs defaults 0 2', /\/data is also mounted from \/dev\/sdd1/],
  ])('unsafe: %s', (_, fstab, why) => {
    // For the LABEL case the VM's root and /var filesystems carry the same label.
    const withTwice = own.map((d) => (d.device === '/dev/sdc1' || d.device === '/dev/sdd1' ? { ...d, label: 'twice' } : d));
    const r = planRootMounts(root, fstab, fstab.includes('twice') ? withTwice : own, disks);
    expect(r).toEqual({ unsafe: expect.stringMatching(why) });
    expect((r as { unsafe: string }).unsafe).toContain('fstab line "');
  });

  it('a root that is not the VM\'s own device is unsafe', () => {
    expect(planRootMounts('/dev/sda1', '', own, disks)).toEqual({ unsafe: 'root /dev/sda1 is not one of the VM\'s devices' });
  });

  it('clones: the same fstab resolves to each VM\'s own disk', () => {
    const fstab = 'LABEL=debian-root / ext4 errors=remount-ro 0 1\n';
    const vm = (disk: string): DeviceInfo[] => [{ device: `${disk}1`, type: 'ext4', label: 'debian-root', uuid: '26d92f55-9ec4-4b38-a024-6a0cb0994e1b' }];
    expect(planRootMounts('/dev/sda1', fstab, vm('/dev/sda'), ['/dev/sda'])).toEqual({ plan: { root: '/dev/sda1', mounts: [{ device: '/dev/sda1', mountpoint: '/' }] } });
    expect(planRootMounts('/dev/sdb1', fstab, vm('/dev/sdb'), ['/dev/sdb'])).toEqual({ plan: { root: '/dev/sdb1', mounts: [{ device: '/dev/sdb1', mountpoint: '/' }] } });
  });
});

describe('device facts', () => {
  it.each([
    ['vg-root', { vg: 'vg', lv: 'root' }],
    ['my--vg-lv--data', { vg: 'my-vg', lv: 'lv-data' }],
    ['vg_golden-root', { vg: 'vg_golden', lv: 'root' }],
    ['nodash', undefined],
  ])('demangleMapper %s', (name, expected) => expect(demangleMapper(name)).toEqual(expected));

  it.each([
    ['/dev/sda1', 0], ['/dev/sdb', 1], ['/dev/sdc2', 1], ['/dev/sdaa1', 2], ['/dev/sdz1', -1], ['/dev/vg/root', -1],
  ])('memberOfDevice %s', (device, m) => expect(memberOfDevice(device, [['/dev/sda'], ['/dev/sdb', '/dev/sdc'], ['/dev/sdaa']])).toBe(m));

  it('blkid answer -> DeviceInfo', () => {
    expect(deviceInfoOf('/dev/sda1', 'DEVNAME: /dev/sda1\nLABEL: debian-root\nUUID: 26d92f55-9ec4-4b38-a024-6a0cb0994e1b\nVERSION: 1.0\nTYPE: ext4\nUSAGE: filesystem\nPART_ENTRY_SCHEME: gpt\nPART_ENTRY_NAME: root part\nPART_ENTRY_UUID: f39799fa-01\nPART_ENTRY_NUMBER: 1')).toEqual({
      device: '/dev/sda1', type: 'ext4', uuid: '26d92f55-9ec4-4b38-a024-6a0cb0994e1b', label: 'debian-root', partuuid: 'f39799fa-01', partlabel: 'root part',
    });
    expect(deviceInfoOf('/dev/sdb', '')).toEqual({ device: '/dev/sdb' });
  });

  it('guestfish struct lists (pvs-full)', () => {
    expect(parseStructs('[0] = {\n  pv_name: /dev/sdb1\n  pv_uuid: RDkpJu5jcnGvLPfKF96581yvOSlbld6M\n  pv_tags: \n}\n[1] = {\n  pv_name: /dev/sdc1\n  pv_uuid: X\n}')).toEqual([
      { pv_name: '/dev/sdb1', pv_uuid: 'RDkpJu5jcnGvLPfKF96581yvOSlbld6M', pv_tags: '' },
      { pv_name: '/dev/sdc1', pv_uuid: 'X' },
    ]);
    expect(parseStructs(undefined)).toEqual([]);
  });
});

describe('lvmOwnership', () => {
  const PV = 'RDkpJu-5jcn-GvLP-fKF9-6581-yvOS-lbld6M'; // blkid's form; LVM's is without dashes
  const lvm = PV.replace(/-/g, '');
  const members = [['/dev/sda'], ['/dev/sdb'], ['/dev/sdc', '/dev/sdd']];

  it('distinct VGs: each owned by the member whose disks hold all its PVs', () => {
    const facts: LvmFacts = {
      pvUuids: ['A'.repeat(32), 'C'.repeat(32), 'D'.repeat(32)],
      vgs: [{ name: 'vg_a', uuid: 'va', pvUuids: ['A'.repeat(32)] }, { name: 'vg_c', uuid: 'vc', pvUuids: ['C'.repeat(32), 'D'.repeat(32)] }],
      pvsOnDisks: [{ device: '/dev/sda2', uuid: 'A'.repeat(32) }, { device: '/dev/sdc1', uuid: 'C'.repeat(32) }, { device: '/dev/sdd1', uuid: 'D'.repeat(32) }],
    };
    const r = lvmOwnership(members, facts);
    expect([...r.vgOwner]).toEqual([['vg_a', 0], ['vg_c', 2]]);
    expect([...r.alone]).toEqual([]);
  });

  it('clones (same PV, VG name and UUID): no member keeps the VG, as measured LVM used the last copy and activated nothing', () => {
    const facts: LvmFacts = {
      pvUuids: [lvm],
      vgs: [{ name: 'vg_golden', uuid: 'mPDMYozg5gIPOhWHPleZmlekKG923Ss1', pvUuids: [PV] }],
      pvsOnDisks: [{ device: '/dev/sda1', uuid: PV }, { device: '/dev/sdb1', uuid: PV }],
    };
    const r = lvmOwnership(members, facts);
    expect(r.vgOwner.size).toBe(0);
    expect([...r.alone.keys()]).toEqual([0, 1]);
    expect(r.alone.get(0)).toMatch(/LVM PV \/dev\/sda1 .* also on another VM's disks/);
  });

  it('one VG name used by two VGs (two installs that both say "rhel"): both holders alone', () => {
    const facts: LvmFacts = {
      pvUuids: ['A'.repeat(32), 'B'.repeat(32)],
      vgs: [{ name: 'rhel', uuid: 'u1', pvUuids: ['A'.repeat(32)] }, { name: 'rhel', uuid: 'u2', pvUuids: [] }],
      pvsOnDisks: [{ device: '/dev/sda2', uuid: 'A'.repeat(32) }, { device: '/dev/sdb2', uuid: 'B'.repeat(32) }],
    };
    const r = lvmOwnership(members, facts);
    expect(r.vgOwner.size).toBe(0);
    expect(r.alone.get(0)).toMatch(/"rhel" .* not unique/);
    expect(r.alone.get(1)).toMatch(/name "rhel" is used by 2 volume groups/);
  });

  it('a VG spanning two members, and a PV in no VG: alone', () => {
    const facts: LvmFacts = {
      pvUuids: ['A'.repeat(32), 'B'.repeat(32)],
      vgs: [{ name: 'vg', uuid: 'u', pvUuids: ['A'.repeat(32), 'B'.repeat(32)] }],
      pvsOnDisks: [{ device: '/dev/sda2', uuid: 'A'.repeat(32) }, { device: '/dev/sdb2', uuid: 'B'.repeat(32) }, { device: '/dev/sdc1', uuid: 'C'.repeat(32) }],
    };
    const r = lvmOwnership(members, facts);
    expect(r.vgOwner.size).toBe(0);
    expect(r.alone.get(0)).toMatch(/not wholly on this VM's disks/);
    expect(r.alone.get(1)).toMatch(/not wholly on this VM's disks/);
    expect(r.alone.get(2)).toMatch(/in no volume group/);
  });
  it('staleLvmView: a PV on one device that LVM does not list, lists in no VG or on another device, and a VG with an unlisted PV; a clone\'s unused copy is not stale', () => {
    const facts: LvmFacts = {
      pvUuids: [lvm, 'D'.repeat(32)],
      vgs: [{ name: 'vg_golden', uuid: 'g', pvUuids: [PV] }],
      pvsOnDisks: [{ device: '/dev/sda1', uuid: PV }, { device: '/dev/sdb1', uuid: PV }, { device: '/dev/sdc1', uuid: 'C'.repeat(32) }, { device: '/dev/sdd1', uuid: 'D'.repeat(32) }],
    };
    expect(staleLvmView(facts)).toEqual(['/dev/sdc1 is not listed', '/dev/sdd1 is in no volume group']);
    expect(staleLvmView({ ...facts, pvUuids: facts.pvUuids.slice(0, 1), pvsOnDisks: facts.pvsOnDisks.slice(0, 2) })).toEqual([]);
    const partial: LvmFacts = { pvUuids: ['A'.repeat(32)], vgs: [{ name: 'vg_own', uuid: 'o', pvUuids: ['A'.repeat(32), 'E'.repeat(32)] }], pvsOnDisks: [{ device: '/dev/sdc1', uuid: 'A'.repeat(32) }] };
    expect(staleLvmView(partial)).toEqual([`volume group "vg_own" has PV ${'E'.repeat(32)} that is not listed`]);
  });

  it('a VG not wholly on the member\'s disks says which PV is where', () => {
    const facts: LvmFacts = {
      pvUuids: ['A'.repeat(32), 'B'.repeat(32)],
      vgs: [{ name: 'vg', uuid: 'u', pvUuids: ['A'.repeat(32), 'B'.repeat(32)] }],
      pvsOnDisks: [{ device: '/dev/sda2', uuid: 'A'.repeat(32) }, { device: '/dev/sdb2', uuid: 'B'.repeat(32) }],
    };
    expect(lvmOwnership(members, facts).alone.get(0)).toBe(`LVM volume group "vg" is not wholly on this VM's disks: its PV ${'B'.repeat(32)} is on the disks of VM #2 of the batch`);
  });

  it('as measured in a batch of 7: pvs-full names PVs by the kernel\'s names, here the first two disks the other way round; the own VG is still owned', () => {
    // Members: twin lvm-2 on sda, vg_own on sdb, twin lvm-1 on sdc; LVM (kernel names) said
    // the twins' PV was on /dev/sdb1 and vg_own's on /dev/sda1. Names play no part now.
    const own = 'HkBibg-s7oF-BQnu-9GpT-dzOA-wfv3-X1ogwD';
    const twin = 'xHuV25-E4AS-qAP0-XuNN-tCOd-FpWN-5BEOR1';
    const facts: LvmFacts = {
      pvUuids: [twin.replace(/-/g, ''), own.replace(/-/g, '')],
      vgs: [{ name: 'vg_golden', uuid: 'g', pvUuids: [twin] }, { name: 'vg_own', uuid: 'o', pvUuids: [own] }],
      pvsOnDisks: [{ device: '/dev/sda1', uuid: twin }, { device: '/dev/sdb1', uuid: own }, { device: '/dev/sdc1', uuid: twin }],
    };
    const r = lvmOwnership(members.slice(0, 2).concat([['/dev/sdc']]), facts);
    expect([...r.vgOwner]).toEqual([['vg_own', 1]]);
    expect([...r.alone.keys()]).toEqual([0, 2]);
    expect(staleLvmView(facts)).toEqual([]);
  });
});
