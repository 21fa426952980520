// The identity catalogue's invariants: unique kebab names, every family covered, absolute
// paths made only of characters the guest script may leave unquoted, a reason and a source
// for each item, and the fields each action needs.
import { LINUX_FAMILIES } from '../../../../shared/guestOs';
import { IDENTITY_ITEMS, SCRIPT_ITEMS } from '../../../../shared/identity';

describe('IDENTITY_ITEMS', () => {
  it('has at least 25 items with unique kebab-case names', () => {
    expect(IDENTITY_ITEMS.length).toBeGreaterThanOrEqual(25);
    const names = IDENTITY_ITEMS.map((i) => i.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect([n, /^[a-z0-9]+(-[a-z0-9]+)*$/.test(n)]).toEqual([n, true]);
  });

  it.each(LINUX_FAMILIES)('covers the %s family, by the script and by the tool', (family) => {
    expect(IDENTITY_ITEMS.filter((i) => i.families.includes(family) && i.by === 'script').length).toBeGreaterThan(5);
    expect(IDENTITY_ITEMS.filter((i) => i.families.includes(family) && i.by === 'tool').length).toBeGreaterThan(5);
  });

  it.each(IDENTITY_ITEMS.map((i) => [i.name, i] as const))('%s: absolute glob paths, a reason, a source, a known family', (_n, item) => {
    expect(item.paths.length).toBeGreaterThan(0);
    for (const p of item.paths) expect([p, /^\/[A-Za-z0-9._\-/*]+$/.test(p) && !p.includes('..') && !p.endsWith('/')]).toEqual([p, true]);
    expect(item.families.length).toBeGreaterThan(0);
    for (const f of item.families) expect(LINUX_FAMILIES).toContain(f);
    expect(item.title).toMatch(/^\S.*[^.]$/);
    expect(item.reason).toMatch(/^\S.{10,}[^.]$/);
    expect(item.source).toMatch(/https?:\/\/|\(\d\)/);
    if (item.action === 'regenerate') expect(item.firstBoot).toMatch(/\S/);
    if (item.coveredBy) {
      expect(item.coveredBy.since).toMatch(/^1\.\d+$/);
      for (const f of item.coveredBy.families) expect(LINUX_FAMILIES).toContain(f);
    }
  });

  it('script items with an edit say what the edit is; tool items are covered on every family they apply to', () => {
    for (const i of SCRIPT_ITEMS) if (i.action === 'edit') expect([i.name, i.edit]).toEqual([i.name, expect.anything()]);
    for (const i of IDENTITY_ITEMS.filter((x) => x.by === 'tool')) {
      expect([i.name, i.coveredBy?.since]).toEqual([i.name, '1.48']);
      for (const f of i.families) expect([i.name, i.coveredBy!.families]).toEqual([i.name, expect.arrayContaining([f])]);
    }
  });

  it('holds the items the issue names', () => {
    const names = IDENTITY_ITEMS.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining([
      'nm-keyfile-mac', 'nm-secret-key', 'nm-dhcp-leases', 'iscsi-initiator-name', 'systemd-credential-secret', 'hostid',
      'salt-minion-identity', 'puppet-agent-ssl', 'chef-client-key', 'docker-engine-id', 'dbus-machine-id', 'cloud-init-instance',
      'lvm-system-devices', 'zsh-history', 'ssh-host-keys', 'machine-id', 'dhcp-client-leases', 'udev-persistent-net', 'hostname',
      'bash-history', 'logfiles',
    ]));
  });
});
