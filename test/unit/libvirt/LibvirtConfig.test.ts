// The [libvirt] section of engine.conf, `libvirt_uri` in [host:ID] and `inventory = libvirt`.
import { parseEngineConfig } from '../../../engine-plugin/config';
import { defaultLibvirtConfig, LIBVIRT_KEYS, libvirtSources, parseLibvirtSection } from '../../../engine-plugin/libvirt/LibvirtConfig';
import { docTableKeys } from '../../helpers/docTableKeys';

describe('[libvirt] configuration', () => {
  it('parses every key, with defaults for the rest', () => {
    expect(parseLibvirtSection({})).toEqual({ uri: 'qemu:///system', timeoutSec: 30, cacheTtlSec: 10 });
    expect(parseLibvirtSection({ uri: 'qemu+ssh://root@kvm2.example.com/system', timeout_sec: '5', cache_ttl_sec: '0' })).toEqual({
      uri: 'qemu+ssh://root@kvm2.example.com/system',
      timeoutSec: 5,
      cacheTtlSec: 0,
    });
  });

  it.each([
    [{ url: 'qemu:///system' }, '[libvirt] has no key "url" (known: uri, timeout_sec, cache_ttl_sec)'],
    [{ uri: 'system' }, '[libvirt] uri must be a libvirt URI'],
    [{ uri: 'qemu:///system extra' }, '[libvirt] uri must be a libvirt URI'],
    [{ timeout_sec: '0' }, '[libvirt] timeout_sec must be an integer of at least 1, got "0"'],
    [{ cache_ttl_sec: '-1' }, '[libvirt] cache_ttl_sec must be an integer of at least 0'],
  ])('refuses %j naming the key', (values, message) => {
    expect(() => parseLibvirtSection(values, 'engine.conf')).toThrow(`engine.conf: ${message}`);
  });

  it('reads inventory = libvirt, [libvirt] and libvirt_uri per host', () => {
    const { config } = parseEngineConfig(
      [
        '[engine]', 'inventory = libvirt',
        '[libvirt]', 'uri = qemu:///session',
        '[host:kvm1]', 'address = 127.0.0.1:54323', 'storage_roots = /var/lib/libvirt/images',
        '[host:kvm2]', 'address = kvm2.example.com:54323', 'storage_roots = /var/lib/libvirt/images', 'libvirt_uri = qemu+ssh://root@kvm2.example.com/system',
      ].join('\n'),
    );
    expect(config.inventory).toBe('libvirt');
    expect(config.libvirt).toEqual({ ...defaultLibvirtConfig(), uri: 'qemu:///session' });
    expect(config.hosts.map((h) => [h.id, h.libvirtUri])).toEqual([['kvm1', undefined], ['kvm2', 'qemu+ssh://root@kvm2.example.com/system']]);
    expect(libvirtSources(config.hosts, config.libvirt)).toEqual([
      { uri: 'qemu:///session', hostId: 'kvm1' },
      { uri: 'qemu+ssh://root@kvm2.example.com/system', hostId: 'kvm2' },
    ]);
  });

  it('defaults to qemu:///system without a [libvirt] section, and refuses an unknown inventory', () => {
    expect(parseEngineConfig('[engine]\ninventory = libvirt\n').config.libvirt.uri).toBe('qemu:///system');
    expect(() => parseEngineConfig('[engine]\ninventory = vmware\n')).toThrow('engine.conf: inventory must be embedded, ovirt or libvirt, got "vmware"');
    expect(() => parseEngineConfig('[host:a]\naddress = 127.0.0.1:1\nlibvirt_uri = kvm2\n')).toThrow('engine.conf: [host:a] libvirt_uri must be a libvirt URI');
  });

  it('reads one daemon per host; no host: [libvirt] uri alone; two hosts on one daemon: refused', () => {
    const c = defaultLibvirtConfig();
    expect(libvirtSources([], c)).toEqual([{ uri: 'qemu:///system' }]);
    expect(() => libvirtSources([{ id: 'a' }, { id: 'b' }], c)).toThrow('[host:a] and [host:b] both read libvirt at qemu:///system: give each host its own libvirt_uri');
  });
});

describe('docs/libvirt.md', () => {
  it('documents every [libvirt] key in its table', () => {
    expect(docTableKeys('libvirt.md', '### `[libvirt]` keys')).toEqual(Object.keys(LIBVIRT_KEYS).sort());
    expect(docTableKeys('libvirt.md', '### `[host:ID]` key for libvirt')).toEqual(['libvirt_uri']);
  });
});
