// The drive paths of oVirt disks, against vdsm's own rules. Every expected mount
// directory below was worked out from oVirt/vdsm at fd4b0df:
//  * lib/vdsm/storage/storageServer.py MountConnection.__init__/_getLocalPath (NFS through
//    NFSConnection, POSIX, and GlusterFSConnection with DIR = "glusterSD"):
//    <mount root>/[glusterSD/]transformPath(normalize_path(connection));
//  * storageServer.py LocalDirectoryConnection._getLocalPath: transformPath(path), the
//    path as given, not normalised;
//  * lib/vdsm/storage/fileUtils.py transformPath ("_" -> "__" first, then "/" -> "_"),
//    normalize_path (host, optional port, normpath of the path) and normpath
//    (os.path.normpath, then a leading "//" -> "/");
//  * lib/vdsm/common/network/address.py hosttail_split/hosttail_join (IPv6 in brackets).
// The connection is what the engine hands vdsm: address + ":" + path, or the path alone
// (ovirt-engine 0111fc6, restapi StorageDomainMapper.map(StorageDomain, StorageServerConnections)
// and BackendStorageDomainsResource.mapFileDomain for the reverse split).
import { domainDir, drivePath, mountDirName, OvStorageDomain, vdsmNormalizePath } from '../../../engine-plugin/ovirt/ovirtModel';

const MNT = '/rhev/data-center/mnt';
const DISK = 'a0a0a0a0-1111-4222-8333-444455556601';
const VOL = 'b1b1b1b1-2222-4333-8444-555566667701';

describe('vdsm mount directory of a file storage domain (vdsm storageServer.py + fileUtils.py)', () => {
  it.each([
    // NFS (NFSConnection -> MountConnection): "_" doubled, then "/" -> "_".
    ['nfs', 'nfs', '/exports/vm_data', 'nfs:_exports_vm__data'],
    ['nfs', 'nfs.example.com', '/exports/data', 'nfs.example.com:_exports_data'],
    // normpath drops a trailing slash, double slashes, "." and "..".
    ['nfs', '10.0.0.5', '/srv/ovirt/data/', '10.0.0.5:_srv_ovirt_data'],
    ['nfs', 'nfs.example.com', '//exports//vm_data//', 'nfs.example.com:_exports_vm__data'],
    ['nfs', 'nfs.example.com', '/exports/./old/../vm_data', 'nfs.example.com:_exports_vm__data'],
    // IPv6: the API gives the address in brackets (mapFileDomain); hosttail_join keeps them.
    ['nfs', '[2001:db8::5]', '/exports/vm_data', '[2001:db8::5]:_exports_vm__data'],
    // Gluster (GlusterFSConnection.DIR = "glusterSD"): "server:vol" keeps no slash it did not have.
    ['glusterfs', 'gluster.example.com', 'vmstore', 'glusterSD/gluster.example.com:vmstore'],
    ['glusterfs', 'gl1.example.com', '/vm_store/', 'glusterSD/gl1.example.com:_vm__store'],
    // POSIX (MountConnection): with an address like NFS, without one the spec alone.
    ['posixfs', 'ceph.example.com', '/vm_data', 'ceph.example.com:_vm__data'],
    ['posixfs', undefined, '/dev/mapper/vg-lv_data', '_dev_mapper_vg-lv__data'],
    // Local (LocalDirectoryConnection): a symlink named by transformPath of the path AS GIVEN.
    ['localfs', undefined, '/data/images', '_data_images'],
    ['localfs', undefined, '/data/vm_images/', '_data_vm__images_'],
  ])('%s %s %s -> %s', (type, address, p, dir) => {
    expect(domainDir({ id: 'sd', storage: { type, address, path: p } })).toBe(dir);
  });

  it('normalises a remote path as vdsm normalize_path does (port kept, bad host:tail refused)', () => {
    expect(vdsmNormalizePath('ceph.example.com:6789://vm_data/')).toBe('ceph.example.com:6789:/vm_data');
    // "0123" is no port for vdsm (is_port): the whole tail is a path.
    expect(vdsmNormalizePath('host:0123:/x/')).toBe('host:0123:/x');
    // address.hosttail_split raises HosttailError: vdsm cannot mount these, we have no dir.
    expect(vdsmNormalizePath('[2001:db8::5:/x')).toBeUndefined();
    expect(vdsmNormalizePath('host:')).toBeUndefined();
    expect(domainDir({ id: 'sd', storage: { type: 'nfs', address: '[2001:db8::5', path: '/x' } })).toBeUndefined();
  });

  it('escapes "_" before "/" so that two remote paths never share a directory', () => {
    expect(mountDirName('a:/b_c')).toBe('a:_b__c');
    expect(mountDirName('a:/b/c')).toBe('a:_b_c');
    expect(mountDirName('a:/b_c')).not.toBe(mountDirName('a:/b/c'));
  });

  it('has no file layout for block, unknown or unconnected domains', () => {
    for (const type of ['iscsi', 'fcp', 'cinder', 'managed_block_storage', undefined]) {
      expect(domainDir({ id: 'sd', storage: { type, address: 'x', path: '/y' } })).toBeUndefined();
    }
    expect(domainDir({ id: 'sd', storage: { type: 'nfs' } })).toBeUndefined();
    expect(domainDir({ id: 'sd', storage: { type: 'localfs', path: '..' } })).toBeUndefined();
  });
});

describe('drive path of a disk, and the disks no agent can work on', () => {
  const sds = new Map<string, OvStorageDomain>([
    ['sd-nfs', { id: 'sd-nfs', name: 'data', storage: { type: 'nfs', address: 'nfs.example.com', path: '/exports/vm_data' } }],
    ['sd-iscsi', { id: 'sd-iscsi', name: 'data-iscsi', storage: { type: 'iscsi' } }],
    ['sd-fc', { id: 'sd-fc', name: 'data-fc', storage: { type: 'fcp' } }],
    ['sd-mbs', { id: 'sd-mbs', name: 'mbs', storage: { type: 'managed_block_storage' } }],
  ]);
  const disk = (sd: string, extra: object = {}) => ({ id: DISK, image_id: VOL, format: 'cow', storage_type: 'image', storage_domains: { storage_domain: [{ id: sd }] }, ...extra });

  it('lays a file-domain disk out as <mount root>/<dir>/<sd>/images/<disk>/<leaf volume> (vdsm fileSD)', () => {
    expect(drivePath(MNT, disk('sd-nfs'), sds)).toEqual({ path: `${MNT}/nfs.example.com:_exports_vm__data/sd-nfs/images/${DISK}/${VOL}`, format: 'qcow2', storageDomain: 'sd-nfs' });
  });

  it.each([
    ['iSCSI', 'sd-iscsi', /block storage domain data-iscsi \(iscsi\)/],
    ['FC', 'sd-fc', /block storage domain data-fc \(fcp\)/],
    ['managed block storage', 'sd-mbs', /mbs \(managed_block_storage\), which has no known file layout/],
    ['a domain oVirt did not list', 'sd-gone', /sd-gone \(unknown\), which has no known file layout/],
  ])('refuses a disk on %s: unsupported, on a path no agent serves', (_kind, sd, why) => {
    const ref = drivePath(MNT, disk(sd), sds);
    expect(ref.unsupported).toMatch(why);
    expect(ref.unsupported).toContain(DISK);
    expect(ref).toMatchObject({ path: `ovirt-disk:${DISK}`, storageDomain: sd });
  });

  it('refuses a direct LUN (storage_type lun) and a disk without a volume', () => {
    const lun = drivePath(MNT, { id: DISK, storage_type: 'lun', lun_storage: { logical_units: { logical_unit: [{ id: '36001405abcdef' }] } } }, sds);
    expect(lun).toMatchObject({ path: `ovirt-disk:${DISK}`, format: 'raw', unsupported: expect.stringMatching(/direct LUN \(36001405abcdef\)/) });
    expect(drivePath(MNT, disk('sd-nfs', { image_id: undefined }), sds).unsupported).toMatch(/no image_id/);
    expect(drivePath(MNT, { id: DISK, image_id: VOL }, sds).unsupported).toMatch(/names no storage domain/);
  });
});
