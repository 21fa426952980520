// The domain XML the libvirt actions define (domainXml.ts): a template's definition turned
// into a clone's (name, UUID, MACs, nvram, metadata, disks), a minimal domain for imports
// and template registrations, and our metadata elements; each read back with the same
// parser the inventory uses (libvirtModel.ts parseDomainXml).
import { XMLParser } from 'fast-xml-parser';
import { cloneDomainXml, cloneMetadataXml, marksMetadataXml, metadataXml, newDomainXml } from '../../../engine-plugin/libvirt/domainXml';
import { METADATA_NS, parseDomainXml, workDisks, domainStatus } from '../../../engine-plugin/libvirt/libvirtModel';

const TPL_UUID = '11111111-2222-4333-8444-555555555555';
const NEW_UUID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

/** A template definition as `virsh dumpxml --inactive` prints it, with what a clone must not copy. */
const TEMPLATE = `<domain type='qemu'>
  <name>golden</name>
  <uuid>${TPL_UUID}</uuid>
  <title>Golden &amp; co</title>
  <metadata>
    <ovirt-sysprep:template xmlns:ovirt-sysprep="${METADATA_NS.template}"/>
    <app:note xmlns:app="https://example.org/app">keep &lt;me&gt;</app:note>
  </metadata>
  <memory unit='KiB'>65536</memory>
  <os>
    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>
    <nvram>/var/lib/libvirt/qemu/nvram/golden_VARS.fd</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='/srv/images/golden.img'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/srv/iso/install.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file="/srv/images/it's data.qcow2"/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:56'/>
      <source network='lab'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:65:43:21'/>
      <source bridge='br0'/>
    </interface>
  </devices>
</domain>`;

const raw = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' });
const OVERLAYS = ['/srv/images/vms/x/disk0.qcow2', '/srv/images/vms/x/disk1.qcow2'];

describe('cloneDomainXml', () => {
  const xml = cloneDomainXml(TEMPLATE, {
    name: 'web-1',
    uuid: NEW_UUID,
    disks: OVERLAYS,
    metadata: [cloneMetadataXml(TPL_UUID, [{ file: OVERLAYS[0], pending: '/srv/images/vms/x/disk0.pending.qcow2' }, { file: OVERLAYS[1], pending: '/srv/images/vms/x/disk1.pending.qcow2' }], true), metadataXml('pool', { name: 'web', index: 1 }, [], true)],
  });
  const dom = raw.parse(xml).domain;
  const info = parseDomainXml(xml);

  it('gives the clone its name and UUID, the template mark gone, clone and pool marks in, other metadata kept', () => {
    expect(info).toMatchObject({ name: 'web-1', uuid: NEW_UUID, template: false, cloneOf: TPL_UUID, pool: { name: 'web', index: 1 }, overlays: OVERLAYS });
    expect(xml).not.toContain(TPL_UUID + '</uuid>');
    expect(dom.metadata['app:note']['#text']).toBe('keep <me>');
    expect(dom.title).toBe('Golden & co');
  });

  it('removes every MAC address (libvirt generates new ones) and keeps the interfaces otherwise', () => {
    expect(xml).not.toContain('52:54:00');
    expect(dom.devices.interface).toHaveLength(2);
    expect(dom.devices.interface[0].mac).toBeUndefined();
    expect(dom.devices.interface[0].source['@network']).toBe('lab');
  });

  it('points each disk at its overlay (qcow2, no backingStore), leaves the cdrom, drops the nvram', () => {
    expect(info.disks).toEqual([{ path: OVERLAYS[0], format: 'qcow2' }, { path: OVERLAYS[1], format: 'qcow2' }]);
    expect(dom.devices.disk[0].backingStore).toBeUndefined();
    expect(dom.devices.disk[0].driver['@cache']).toBe('none');
    expect(dom.devices.disk[1].source['@file']).toBe('/srv/iso/install.iso');
    expect(dom.os.nvram).toBeUndefined();
    expect(dom.os.loader['#text']).toBe('/usr/share/OVMF/OVMF_CODE.fd');
  });

  it('reads a held clone as image_locked with its disks at the staging paths', () => {
    expect(info.held).toBe(true);
    expect(domainStatus(info, 5)).toBe('image_locked');
    expect(domainStatus(info, 1)).toBe('up');
    expect(workDisks(info).map((d) => d.path)).toEqual(['/srv/images/vms/x/disk0.pending.qcow2', '/srv/images/vms/x/disk1.pending.qcow2']);
  });

  it.each([
    ['more overlays than disks', [...OVERLAYS, '/x/disk2.qcow2'], 'has 2 disk(s), 3 overlay(s)'],
    ['fewer overlays than disks', [OVERLAYS[0]], 'more disks than the 1 overlay(s)'],
  ])('refuses %s', (_, disks, message) => {
    expect(() => cloneDomainXml(TEMPLATE, { name: 'x', uuid: NEW_UUID, disks, metadata: [] })).toThrow(message);
  });

  it.each([
    ['a block disk', "<disk type='block' device='disk'><source dev='/dev/sdb'/><target dev='vda'/></disk>", 'type "block"'],
    ['no <domain>', null, 'no <domain>'],
  ])('refuses %s', (_, disk, message) => {
    const doc = disk === null ? '<other/>' : `<domain type='qemu'><name>t</name><uuid>${TPL_UUID}</uuid><devices>${disk}</devices></domain>`;
    expect(() => cloneDomainXml(doc, { name: 'x', uuid: NEW_UUID, disks: ['/a/disk0.qcow2'], metadata: [] })).toThrow(message);
  });

  it("keeps the clone's marks (escaped values read back as given) and drops the template's own", () => {
    const marks = { room: 'lab-1', 'rollout.time': '2026-12-06T05:00:00Z', odd: `a & b < "c" 'd' > é` };
    const marked = TEMPLATE.replace('</metadata>', `<m:marks xmlns:m="${METADATA_NS.marks}"><m:mark key="from" value="template"/></m:marks></metadata>`);
    expect(parseDomainXml(marked).marks).toEqual({ from: 'template' });
    const clone = parseDomainXml(cloneDomainXml(marked, { name: 'm', uuid: NEW_UUID, disks: OVERLAYS, metadata: [marksMetadataXml(marks)] }));
    expect(clone.marks).toEqual(marks);
    expect(parseDomainXml(cloneDomainXml(marked, { name: 'm', uuid: NEW_UUID, disks: OVERLAYS, metadata: [] })).marks).toBeUndefined();
  });

  it('adds a <metadata> and a <driver> where the template has none', () => {
    const bare = `<domain type='qemu'><name>t</name><uuid>${TPL_UUID}</uuid><devices><disk type='file' device='disk'><source file='/a.img'/><target dev='vda'/></disk></devices></domain>`;
    const out = parseDomainXml(cloneDomainXml(bare, { name: 'c', uuid: NEW_UUID, disks: ['/s/vms/c/disk0.qcow2'], metadata: [cloneMetadataXml(TPL_UUID, [{ file: '/s/vms/c/disk0.qcow2' }], true)] }));
    expect(out).toMatchObject({ name: 'c', uuid: NEW_UUID, cloneOf: TPL_UUID, disks: [{ path: '/s/vms/c/disk0.qcow2', format: 'qcow2' }] });
    expect(out.held).toBeUndefined();
  });
});

describe('newDomainXml and metadataXml', () => {
  it('defines a minimal qemu domain with the disks, no interface, escaped values', () => {
    const xml = newDomainXml({ name: 'imp', uuid: NEW_UUID, disks: [{ path: '/s/a "b" & c.qcow2', format: 'qcow2' }, { path: '/s/d.img', format: 'raw' }], metadata: [metadataXml('hold', {}, [], true)] });
    const dom = raw.parse(xml).domain;
    expect(dom['@type']).toBe('qemu');
    expect(dom.devices.interface).toBeUndefined();
    const info = parseDomainXml(xml);
    expect(info).toMatchObject({ name: 'imp', uuid: NEW_UUID, held: true, disks: [{ path: '/s/a "b" & c.qcow2', format: 'qcow2' }, { path: '/s/d.img', format: 'raw' }] });
    expect(dom.devices.disk.map((d: { target: Record<string, string> }) => d.target['@dev'])).toEqual(['vda', 'vdb']);
  });

  it.each([
    [metadataXml('template'), '<template/>'],
    [metadataXml('pool', { name: 'w"1', index: 3 }), '<pool name="w&quot;1" index="3"/>'],
    [cloneMetadataXml(TPL_UUID, [{ file: '/s/disk0.qcow2' }]), `<clone template="${TPL_UUID}"><overlay file="/s/disk0.qcow2"/></clone>`],
    [metadataXml('template', {}, [], true), `<ovirt-sysprep:template xmlns:ovirt-sysprep="${METADATA_NS.template}"/>`],
  ])('builds %s', (xml, expected) => {
    expect(xml).toBe(expected);
  });
});
