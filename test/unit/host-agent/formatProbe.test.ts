// The probe/refusal table: what qemu-img probed (as its JSON becomes ImageInfo) and what
// was declared -> the settled format or the refusal with its field and code.
import { DISK_FORMATS, FORMAT_SUPPORT, isDiskFormat } from '../../../shared/diskFormats';
import { settleFormat, structureProblem } from '../../../host-agent/storage/formatProbe';
import type { ImageInfo } from '../../../shared/tools/qemuImg';

const REAL = '/srv/images/disk.img';
const info = (format: string, extra: Partial<ImageInfo> = {}): ImageInfo => ({ format, virtualSize: 1 << 26, actualSize: 1 << 20, snapshots: [], ...extra });
const sparseVmdk = (extra: Partial<ImageInfo> = {}) => info('vmdk', { createType: 'monolithicSparse', extents: [REAL], ...extra });

describe('settleFormat', () => {
  it.each([
    // [what, declared, probed, settled format]
    ['an undeclared qcow2', '', info('qcow2'), 'qcow2'],
    ['a declared qcow2', 'qcow2', info('qcow2'), 'qcow2'],
    ['a declared raw probing raw', 'raw', info('raw'), 'raw'],
    ['an undeclared monolithicSparse vmdk', '', sparseVmdk(), 'vmdk'],
    ['a declared vmdk', 'vmdk', sparseVmdk(), 'vmdk'],
    ['an undeclared vpc (VHD)', '', info('vpc'), 'vpc'],
    ['a declared vhdx', 'vhdx', info('vhdx'), 'vhdx'],
    ['an undeclared vdi', '', info('vdi'), 'vdi'],
    ['a qcow2 with a backing file', '', info('qcow2', { backingFilename: '/srv/images/base.vmdk' }), 'qcow2'],
  ])('accepts %s', (_what, declared, probed, format) => {
    expect(settleFormat(declared, probed, REAL)).toEqual({ format });
  });

  it.each([
    // [what, declared, probed, field, code, message]
    ['an undeclared raw probe', '', info('raw'), 'path', 'NOT_A_DISK', /declare format "raw"/],
    ['a raw file declared vmdk', 'vmdk', info('raw'), 'path', 'NOT_A_DISK', /is not a vmdk image \(qemu-img sees raw data\)/],
    ['a qcow2 declared raw (in place would write it as raw data)', 'raw', info('qcow2'), 'format', 'FORMAT_MISMATCH', /declared "raw" but is a qcow2 image/],
    ['a vmdk declared qcow2', 'qcow2', sparseVmdk(), 'format', 'FORMAT_MISMATCH', /declared "qcow2" but is a vmdk image/],
    ['a vhdx declared vpc', 'vpc', info('vhdx'), 'format', 'FORMAT_MISMATCH', /declared "vpc" but is a vhdx image/],
    ['a qed image', '', info('qed'), 'path', 'UNSUPPORTED_FORMAT', /is a qed image: not measured.*accepted: "qcow2", "raw", "vmdk", "vpc", "vhdx", "vdi"/],
    ['a luks image', '', info('luks'), 'path', 'UNSUPPORTED_FORMAT', /is a luks image/],
    ['a streamOptimized vmdk', '', info('vmdk', { createType: 'streamOptimized', extents: [REAL] }), 'path', 'UNSUPPORTED_FORMAT', /streamOptimized vmdk: qemu-img commit fails part way/],
    ['a monolithicFlat vmdk (descriptor + flat extent)', '', info('vmdk', { createType: 'monolithicFlat', extents: ['/srv/images/disk-flat.img'] }), 'path', 'UNSUPPORTED_FORMAT', /monolithicFlat vmdk \(extents: \/srv\/images\/disk-flat.img\).*extent files/],
    ['a descriptor whose extent is /dev/sda', 'vmdk', info('vmdk', { createType: 'monolithicFlat', extents: ['/dev/sda'] }), 'path', 'UNSUPPORTED_FORMAT', /\/dev\/sda/],
    ['a twoGbMaxExtentSparse vmdk', '', info('vmdk', { createType: 'twoGbMaxExtentSparse', extents: ['/srv/images/disk-s001.vmdk'] }), 'path', 'UNSUPPORTED_FORMAT', /twoGbMaxExtentSparse/],
    ['a "monolithicSparse" whose extent is another file', '', sparseVmdk({ extents: ['/etc/shadow'] }), 'path', 'UNSUPPORTED_FORMAT', /\/etc\/shadow/],
    ['a vmdk without format data', '', info('vmdk'), 'path', 'UNSUPPORTED_FORMAT', /multi-file vmdk/],
    ['a vmdk with a parent', '', sparseVmdk({ backingFilename: '/srv/images/parent.vmdk' }), 'path', 'UNSUPPORTED_FORMAT', /vmdk image with a parent image \(\/srv\/images\/parent.vmdk\)/],
    ['a differencing vhdx', 'vhdx', info('vhdx', { fullBackingFilename: '/srv/images/p.vhdx' }), 'path', 'UNSUPPORTED_FORMAT', /parent image/],
    ['a qcow2 with an external data file', '', info('qcow2', { dataFile: '/etc/passwd' }), 'path', 'NOT_A_DISK', /external data file \(\/etc\/passwd\)/],
  ])('refuses %s', (_what, declared, probed, field, code, message) => {
    const v = settleFormat(declared, probed, REAL);
    expect(v).toMatchObject({ field, code });
    expect('why' in v && v.why).toMatch(message);
  });

  it('applies the same structure rules to a backing file', () => {
    expect(structureProblem(sparseVmdk(), REAL)).toBeUndefined();
    expect(structureProblem(info('raw'), REAL)).toBeUndefined();
    expect(structureProblem(info('vmdk', { createType: 'streamOptimized' }), REAL)).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
  });
});

describe('the formats table', () => {
  it('lists every accepted format as supported, with a reason for every row', () => {
    for (const f of DISK_FORMATS) expect(FORMAT_SUPPORT.find((r) => r.format === f)).toMatchObject({ supported: true });
    for (const r of FORMAT_SUPPORT) expect(r.reason.length).toBeGreaterThan(10);
    expect(isDiskFormat('vpc')).toBe(true);
    expect(isDiskFormat('vhd')).toBe(false);
  });
});
