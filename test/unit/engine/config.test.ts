import { ENGINE_KEYS, parseEngineConfig, TRIGGERS, triggerConfig, withDefaults } from '../../../engine-plugin/config';
import { docTableKeys } from '../../helpers/docTableKeys';

describe('engine configuration file', () => {
  const text = `
# comment
[engine]
listen = 0.0.0.0:8443
data_dir = /var/lib/x
max_jobs_per_host = 3

[tls]
ca = /pki/ca.pem
cert = /pki/engine.pem
key = /pki/engine.key

[tokens]
alice = admin:aaaaaaaaaaaaaaaaaaaaaa
bob = viewer:bbbbbbbbbbbbbbbbbbbbbb

[host:kvm1]
address = kvm1.example.org:54323
storage_roots = /rhev/data-center/mnt, /var/lib/libvirt/images

[auto_reset]
import = off
pool = template-seal
`;

  it('reads every section into the startEngine shape', () => {
    const { config } = parseEngineConfig(text);
    expect(config).toMatchObject({
      listen: '0.0.0.0:8443',
      dataDir: '/var/lib/x',
      maxJobsPerHost: 3,
      agentTls: { caFile: '/pki/ca.pem', certFile: '/pki/engine.pem', keyFile: '/pki/engine.key' },
      tokens: [{ name: 'alice', role: 'admin' }, { name: 'bob', role: 'viewer' }],
      hosts: [{ id: 'kvm1', address: 'kvm1.example.org:54323', storageRoots: ['/rhev/data-center/mnt', '/var/lib/libvirt/images'] }],
      autoReset: { clone: { enabled: true, profile: 'clone-reset' }, import: { enabled: false }, pool: { enabled: true, profile: 'template-seal' } },
    });
  });

  it.each([
    ['[engine]\nlisten_port = 1\n', /\[engine\] has no key "listen_port"/],
    ['[tokens]\nalice = root:aaaaaaaaaaaaaaaaaaaa\n', /admin\|operator\|viewer:TOKEN/],
    ['[tokens]\nalice = admin:short\n', /at least 16 characters/],
    ['[engine]\nmax_jobs_per_host = many\n', /non-negative integer/],
    ['[host:h]\nstorage_roots = /x\n', /needs address/],
    ['[auto_reset]\nsnapshot = off\n', /knows clone, import, pool/],
  ])('refuses %j with a clear message', (bad, message) => {
    expect(() => parseEngineConfig(bad, 'engine.conf')).toThrow(message);
  });

  it.each([
    ['clone-reset', { enabled: true, profile: 'clone-reset' }],
    ['off', { enabled: false, profile: 'clone-reset' }],
    ['all:my-reset', { enabled: true, profile: 'my-reset', everyDomain: true }],
  ])('reads [auto_reset] libvirt_defined = %s', (value, expected) => {
    expect(parseEngineConfig(`[auto_reset]\nlibvirt_defined = ${value}\n`).config.autoReset.libvirt_defined).toEqual(expected);
  });

  it('defaults libvirt_defined to clone-reset for template-backed domains, also when a caller leaves it out', () => {
    expect(parseEngineConfig('').config.autoReset.libvirt_defined).toEqual({ enabled: true, profile: 'clone-reset' });
    expect(triggerConfig({ autoReset: { clone: { enabled: false, profile: 'x' }, import: { enabled: false, profile: 'x' }, pool: { enabled: false, profile: 'x' } } }, 'libvirt_defined')).toEqual({ enabled: true, profile: 'clone-reset' });
    expect(() => parseEngineConfig('[auto_reset]\nclone = all:clone-reset\n', 'engine.conf')).toThrow(/"all:" is for libvirt_defined only/);
  });

  it('merges partial auto-reset settings with the defaults', () => {
    const c = withDefaults({ autoReset: { clone: { enabled: false, profile: 'clone-reset' } } as never });
    expect(c.autoReset.import).toEqual({ enabled: true, profile: 'clone-reset' });
    expect(c.autoReset.clone.enabled).toBe(false);
  });

  it('documents every [engine] key and [auto_reset] trigger in the tables of docs/engine.md', () => {
    expect(docTableKeys('engine.md', '### `[engine]` keys')).toEqual(Object.keys(ENGINE_KEYS).sort());
    expect(docTableKeys('engine.md', '### `[auto_reset]` keys')).toEqual([...TRIGGERS].sort());
  });
});
