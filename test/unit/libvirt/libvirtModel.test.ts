// Domain XML -> disks and metadata, libvirt state -> VM status: parsing unit tests on
// XML as libvirt 9.0's `virsh dumpxml` writes it (plain strings, no daemon).
import { DOMAIN_STATES, METADATA_NS, parseDomainXml, vmStatusOf } from '../../../engine-plugin/libvirt/libvirtModel';

const domain = (devices: string, metadata = '') => `<domain type='qemu'>
  <name>web-01</name>
  <uuid>da5884e6-c6e1-4f37-ad4f-569ee7d098af</uuid>
  ${metadata ? `<metadata>\n${metadata}\n  </metadata>` : ''}
  <memory unit='KiB'>65536</memory>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${devices}
    <controller type='pci' index='0' model='pci-root'/>
  </devices>
</domain>
`;

describe('libvirt state -> VM status', () => {
  it.each([
    [0, 'unknown'], [1, 'up'], [2, 'up'], [3, 'up'], [4, 'powering_down'], [5, 'down'], [6, 'up'], [7, 'up'], [8, 'unknown'], [undefined, 'unknown'],
  ])('state %p is %p', (state, status) => {
    expect(vmStatusOf(state)).toBe(status);
  });

  it('only "shut off" is down', () => {
    expect(Object.values(DOMAIN_STATES).filter((s) => s.status === 'down').map((s) => s.name)).toEqual(['shut off']);
  });
});

describe('domain XML -> disks', () => {
  it('reads file disks (qcow2, raw, no driver type = raw) and leaves cdrom and floppy out', () => {
    const info = parseDomainXml(domain(`
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/web-01.qcow2'/>
      <backingStore type='file'><format type='qcow2'/><source file='/var/lib/libvirt/images/golden.qcow2'/></backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/web-01-data.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/nodriver.img'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/var/lib/libvirt/images/debian.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <disk type='file' device='floppy'><target dev='fda' bus='fdc'/></disk>`));
    expect(info).toEqual({
      uuid: 'da5884e6-c6e1-4f37-ad4f-569ee7d098af',
      name: 'web-01',
      template: false,
      disks: [
        { path: '/var/lib/libvirt/images/web-01.qcow2', format: 'qcow2' },
        { path: '/var/lib/libvirt/images/web-01-data.img', format: 'raw' },
        { path: '/var/lib/libvirt/images/nodriver.img', format: 'raw' },
      ],
    });
  });

  it('reports block, network, volume, lun and other formats as unsupported, with the reason', () => {
    const { disks } = parseDomainXml(domain(`
    <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/vg0/web'/><target dev='vda' bus='virtio'/></disk>
    <disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd' name='export1'><host name='127.0.0.1' port='10809'/></source><target dev='vdb' bus='virtio'/></disk>
    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='default' volume='web.qcow2'/><target dev='vdc' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qed'/><source file='/img/w.qed'/><target dev='vdd' bus='virtio'/></disk>
    <disk type='file' device='lun'><driver name='qemu' type='raw'/><source file='/img/l.img'/><target dev='sda' bus='scsi'/></disk>
    <disk type='nvme' device='disk'><driver name='qemu' type='raw'/><source type='pci' namespace='1'/><target dev='vde' bus='virtio'/></disk>`));
    expect(disks.map((d) => [d.path, d.format, d.unsupported?.split(':')[0] ?? d.unsupported])).toEqual([
      ['/dev/vg0/web', 'raw', 'a block device (type "block")'],
      ['nbd://127.0.0.1/export1', 'raw', 'a network disk (protocol "nbd")'],
      ['default/web.qcow2', 'qcow2', 'a storage-pool volume (type "volume")'],
      ['/img/w.qed', 'qed', 'format "qed"'],
      ['/img/l.img', 'raw', 'a "lun" device passes SCSI commands to the host'],
      ['(vde)', 'raw', 'a disk of type "nvme"'],
    ]);
    for (const d of disks) expect(d.unsupported).toBeTruthy();
  });

  it('accepts the vmdk, vpc, vhdx and vdi file disks the agents work on (issue 15)', () => {
    const { disks } = parseDomainXml(domain(['vmdk', 'vpc', 'vhdx', 'vdi'].map((f, i) => `
    <disk type='file' device='disk'><driver name='qemu' type='${f}'/><source file='/img/w.${f}'/><target dev='vd${'abcd'[i]}' bus='virtio'/></disk>`).join('')));
    expect(disks).toEqual(['vmdk', 'vpc', 'vhdx', 'vdi'].map((f) => ({ path: `/img/w.${f}`, format: f })));
  });

  it('reads a single disk as a list, and a domain without disks', () => {
    expect(parseDomainXml(domain('')).disks).toEqual([]);
    expect(() => parseDomainXml('<domain><name>x</name></domain>')).toThrow('not a libvirt domain XML');
  });
});

describe('domain XML -> our metadata', () => {
  it('reads the template mark by namespace, whatever the prefix', () => {
    expect(parseDomainXml(domain('', `    <ovirt-sysprep:template xmlns:ovirt-sysprep="${METADATA_NS.template}"/>`)).template).toBe(true);
    expect(parseDomainXml(domain('', `    <t:template xmlns:t="${METADATA_NS.template}"/>`)).template).toBe(true);
    // Same element name, another namespace (another tool's metadata): not ours.
    expect(parseDomainXml(domain('', '    <ovirt-sysprep:template xmlns:ovirt-sysprep="https://other.example/ns"/>')).template).toBe(false);
  });

  it('reads the overlays our clone metadata lists (children written with the root\'s prefix, as libvirt 9.0 stores them)', () => {
    const xml = (inner: string) => `<domain type='qemu'><name>c</name><uuid>0b1c2d3e-0000-4000-8000-000000000002</uuid><metadata>${inner}</metadata><devices/></domain>`;
    const two = parseDomainXml(xml(`<ovirt-sysprep:clone xmlns:ovirt-sysprep="${METADATA_NS.clone}" template="t"><ovirt-sysprep:overlay file="/s/vms/c/disk0.qcow2"/><ovirt-sysprep:overlay file="/s/vms/c/disk1.qcow2"/></ovirt-sysprep:clone>`));
    expect(two).toMatchObject({ cloneOf: 't', overlays: ['/s/vms/c/disk0.qcow2', '/s/vms/c/disk1.qcow2'] });
    expect(parseDomainXml(xml(`<x:clone xmlns:x="${METADATA_NS.clone}" template="t"><x:overlay file="/one"/></x:clone>`)).overlays).toEqual(['/one']);
    expect(parseDomainXml(xml(`<x:clone xmlns:x="${METADATA_NS.clone}" template="t"/>`)).overlays).toBeUndefined();
  });

  it('reads pool membership and the template a clone came from, next to other tools\' metadata', () => {
    const info = parseDomainXml(domain('', [
      '    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0"><libosinfo:os id="http://debian.org/debian/12"/></libosinfo:libosinfo>',
      `    <ovirt-sysprep:pool xmlns:ovirt-sysprep="${METADATA_NS.pool}" name="web" index="3"/>`,
      `    <ovirt-sysprep:clone xmlns:ovirt-sysprep="${METADATA_NS.clone}" template="0b1c2d3e-0000-4000-8000-000000000001"/>`,
    ].join('\n')));
    expect(info).toMatchObject({ template: false, pool: { name: 'web', index: 3 }, cloneOf: '0b1c2d3e-0000-4000-8000-000000000001' });
    expect(parseDomainXml(domain('', `    <p:pool xmlns:p="${METADATA_NS.pool}" name="web" index="x"/>`)).pool).toEqual({ name: 'web' });
    expect(parseDomainXml(domain('', `    <p:pool xmlns:p="${METADATA_NS.pool}" index="1"/>`)).pool).toBeUndefined();
  });
});
