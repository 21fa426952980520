// The [ovirt] section of engine.conf and `inventory = ovirt`.
import { parseEngineConfig } from '../../../engine-plugin/config';
import { defaultOvirtConfig, parseOvirtSection } from '../../../engine-plugin/ovirt/OvirtConfig';

const MINIMAL = { url: 'https://engine.example.com/ovirt-engine/api', username: 'ovirt-sysprep@internal', password_file: '/etc/ovirt-sysprep/ovirt.password' };

describe('[ovirt] configuration', () => {
  it('parses every key, with defaults for the rest', () => {
    const c = parseOvirtSection({
      ...MINIMAL,
      ca_file: '/etc/pki/ovirt-engine/ca.pem',
      agent_port: '6000',
      mount_root: '/rhev/data-center/mnt',
      cache_ttl_sec: '10',
      page_size: '5000',
      events_interval_sec: '5',
      events_max_backoff_sec: '120',
      ready_timeout_sec: '600',
      required_permits: 'edit_vm_properties, manipulate_vm_snapshots',
      user_role: 'viewer',
      user_token_ttl_sec: '30',
      guard: 'none',
      guard_tag: 'sysprep-busy',
      guard_poll_sec: '3',
      external_jobs: 'off',
    });
    expect(c).toEqual({
      ...defaultOvirtConfig(),
      url: 'https://engine.example.com',
      caFile: '/etc/pki/ovirt-engine/ca.pem',
      username: 'ovirt-sysprep@internal',
      passwordFile: '/etc/ovirt-sysprep/ovirt.password',
      agentPort: 6000,
      cacheTtlSec: 10,
      pageSize: 1000,
      eventsIntervalSec: 5,
      eventsMaxBackoffSec: 120,
      readyTimeoutSec: 600,
      requiredPermits: ['edit_vm_properties', 'manipulate_vm_snapshots'],
      userRole: 'viewer',
      userTokenTtlSec: 30,
      guard: 'none',
      guardTag: 'sysprep-busy',
      guardPollSec: 3,
      externalJobs: false,
    });
  });

  it.each([
    ['an unknown key', { ...MINIMAL, colour: 'blue' }, /\[ovirt\] has no key "colour"/],
    ['a url without scheme', { ...MINIMAL, url: 'engine.example.com' }, /url must be the engine URL/],
    ['port 0', { ...MINIMAL, agent_port: '0' }, /agent_port must be a positive integer/],
    ['an unknown guard', { ...MINIMAL, guard: 'lock' }, /guard must be tag or none/],
    ['no password', { url: MINIMAL.url, username: MINIMAL.username }, /needs password_file/],
    ['no username', { url: MINIMAL.url, password: 'x' }, /username is required/],
    // ovirt-engine 0111fc6 enginesso SsoService.translateUser: the profile follows the last "@".
    ['a username without its profile', { ...MINIMAL, username: 'ovirt-sysprep' }, /username must end with its oVirt profile/],
    ['a username ending with "@"', { ...MINIMAL, username: 'ovirt-sysprep@ovirt@' }, /username must end with its oVirt profile/],
  ])('refuses %s, naming the key', (_what, section, message) => {
    expect(() => parseOvirtSection(section as Record<string, string>, 'engine.conf')).toThrow(message);
  });

  it('accepts a Keycloak user name (user "ovirt-sysprep@ovirt", profile "internalsso")', () => {
    expect(parseOvirtSection({ ...MINIMAL, username: 'ovirt-sysprep@ovirt@internalsso' }, 'engine.conf').username).toBe('ovirt-sysprep@ovirt@internalsso');
  });

  it('selects the oVirt inventory from engine.conf, which then needs [ovirt]', () => {
    const text = ['[engine]', 'inventory = ovirt', '[ovirt]', ...Object.entries(MINIMAL).map(([k, v]) => `${k} = ${v}`), ''].join('\n');
    const { config } = parseEngineConfig(text);
    expect(config.inventory).toBe('ovirt');
    expect(config.ovirt?.url).toBe('https://engine.example.com');
    expect(() => parseEngineConfig('[engine]\ninventory = ovirt\n')).toThrow(/needs an \[ovirt\] section/);
    expect(() => parseEngineConfig('[engine]\ninventory = vmware\n')).toThrow(/inventory must be embedded, ovirt or libvirt/);
    expect(parseEngineConfig('').config).toMatchObject({ inventory: 'embedded', ovirt: null });
  });
});
