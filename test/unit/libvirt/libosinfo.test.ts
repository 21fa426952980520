import { osOfLibosinfoId } from '../../../engine-plugin/libvirt/libosinfo';
import { parseDomainXml } from '../../../engine-plugin/libvirt/libvirtModel';
import { osOfOvirtType } from '../../../engine-plugin/ovirt/ovirtModel';

describe('the declared guest OS', () => {
  it.each([
    ['http://microsoft.com/win/10', { type: 'windows', distro: 'windows', version: '10' }],
    ['http://microsoft.com/win/2k19', { type: 'windows', distro: 'windows', version: '2k19' }],
    ['http://debian.org/debian/12', { type: 'linux', distro: 'debian', family: 'debian', version: '12' }],
    ['http://redhat.com/rhel/9.2', { type: 'linux', distro: 'rhel', family: 'el', version: '9.2' }],
    ['http://opensuse.org/opensuse/15.5', { type: 'linux', distro: 'opensuse', family: 'suse', version: '15.5' }],
    ['http://freebsd.org/freebsd/13.0', undefined],
    ['not a url', undefined],
  ])('libosinfo %s', (id, os) => {
    expect(osOfLibosinfoId(id)).toEqual(os);
  });

  it.each([
    ['windows_2019x64', 'windows'],
    ['windows_10', 'windows'],
    ['rhel_9x64', 'linux'],
    ['other_linux', 'linux'],
    ['debian_9', 'linux'],
    ['other', undefined],
    [undefined, undefined],
  ])('oVirt os.type %s', (type, os) => {
    expect(osOfOvirtType(type)?.type).toBe(os);
  });

  it('reads the product\'s own <os type/> before libosinfo, in any prefix', () => {
    const xml = (meta: string) => `<domain type="qemu"><name>w</name><uuid>00000000-0000-4000-8000-000000000001</uuid><metadata>${meta}</metadata><devices/></domain>`;
    expect(parseDomainXml(xml('<libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0"><libosinfo:os id="http://microsoft.com/win/10"/></libosinfo:libosinfo>')).os).toMatchObject({ type: 'windows' });
    expect(parseDomainXml(xml('<x:os xmlns:x="https://ovirt-sysprep.example/xmlns/os/1" type="linux"/><libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0"><libosinfo:os id="http://microsoft.com/win/10"/></libosinfo:libosinfo>')).os).toEqual({ type: 'linux' });
    expect(parseDomainXml(xml('')).os).toBeUndefined();
  });
});
