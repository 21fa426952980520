// The identity customisation's guest script, run by the host's real sh and busybox sh
// (the fixture guests' /bin/sh) against temporary guest trees of each family
// (OVIRT_SYSPREP_ROOT): every script item of the family removed, emptied or edited, the
// other lines and the file modes kept, items of other families and the tool's items left
// alone, absent paths no error, and a second run giving the same tree.
import { chmodSync, lstatSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import type { LinuxFamily } from '../../../../shared/guestOs';
import { IDENTITY_ITEMS, SCRIPT_ITEMS } from '../../../../shared/identity';
import { guestPathWord, identityScript } from '../../../../shared/identity/identityScript';
import { selectedItems } from '../../../../shared/identity/identityValue';
import { GUEST_SHELLS, makeGuestTree, removeGuestTrees, runGuestScript } from '../../../helpers/guestScript';

const MAC = '52:54:00:12:34:56';

const OS_RELEASE: Record<LinuxFamily, string> = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
  el: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n',
  suse: 'NAME="openSUSE Leap"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.5"\n',
};

const KEYFILE = `[connection]\nid=Wired\ntype=ethernet\n\n[ethernet]\nmac-address=${MAC}\n  cloned-mac-address = ${MAC}\nmtu=1500\n\n[ipv4]\nmethod=auto\n`;

/** Every item planted, plus the tool's files the script must not touch. */
function tree(osRelease: string | undefined): Record<string, string> {
  return {
    ...(osRelease ? { '/etc/os-release': osRelease } : {}),
    '/etc/NetworkManager/system-connections/Wired.nmconnection': KEYFILE,
    '/etc/NetworkManager/system-connections/Wired connection 1': `[connection]\nid=Wired connection 1\n[ethernet]\nmac-address=${MAC}\n`,
    '/var/lib/NetworkManager/secret_key': 'golden-secret-key-0123456789',
    '/var/lib/NetworkManager/internal-6b1b-eth0.lease': 'ADDRESS=192.168.122.57\n',
    '/var/lib/NetworkManager/dhclient6-6b1b-eth0.lease': 'default-duid "\\000\\001";\n',
    '/var/lib/NetworkManager/timestamps': '[timestamps]\n',
    '/etc/iscsi/initiatorname.iscsi': 'InitiatorName=iqn.1993-08.org.debian:01:golden\n',
    '/var/lib/systemd/credential.secret': 'golden credential secret',
    '/etc/hostid': '\x01\x02\x03\x04',
    '/etc/salt/minion_id': 'golden\n',
    '/etc/salt/pki/minion/minion.pem': 'PRIVATE',
    '/etc/salt/pki/minion/minion.pub': 'PUBLIC',
    '/etc/salt/pki/minion/minion_master.pub': 'MASTER',
    '/etc/puppetlabs/puppet/ssl/certs/golden.pem': 'CERT',
    '/etc/puppetlabs/puppet/ssl/private_keys/golden.pem': 'KEY',
    '/var/lib/puppet/ssl/certs/golden.pem': 'CERT',
    '/etc/chef/client.pem': 'KEY',
    '/etc/chef/client.rb': 'chef_server_url "https://chef.example"\n',
    '/var/lib/docker/engine-id': '0f0e0d0c-golden',
    '/etc/docker/key.json': '{"kid":"GOLD"}',
    '/var/lib/cloud/instances/i-golden/obj.pkl': 'x',
    '/var/lib/cloud/data/instance-id': 'i-golden\n',
    '/var/lib/cloud/sem/config_scripts_per_once.once': '',
    '/var/lib/cloud/seed/nocloud/user-data': '#cloud-config\n',
    '/etc/lvm/devices/system.devices': 'IDTYPE=sys_wwid IDNAME=golden\n',
    '/root/.zsh_history': ': 1:0;ls\n',
    '/home/a b/.zsh_history': ': 1:0;ls\n',
    '/home/c/.zshrc': 'kept\n',
    '/var/lib/wicked/duid.xml': '<duid>golden</duid>\n',
    '/var/lib/wicked/iaid.xml': '<iaid>golden</iaid>\n',
    '/var/lib/dbus/machine-id': 'b4d6c0ffee0000000000000000000001\n',
    // The tool's items: the script leaves them to virt-sysprep and virt-customize.
    '/etc/machine-id': 'b4d6c0ffee0000000000000000000001\n',
    '/etc/ssh/ssh_host_ed25519_key': 'HOSTKEY',
    '/etc/hostname': 'golden\n',
    '/var/lib/dhcp/dhclient.leases': 'lease {}\n',
  };
}

afterAll(removeGuestTrees);

function guest(files: Record<string, string>): string {
  const root = makeGuestTree('idscript-', files);
  chmodSync(path.join(root, 'etc/NetworkManager/system-connections/Wired.nmconnection'), 0o600);
  // cloud-init's current-instance link: removed as a link (relative, so it never points outside the tree).
  symlinkSync('instances/i-golden', path.join(root, 'var/lib/cloud/instance'));
  return root;
}

/** Every file and link of the tree: content (or link target) and mode. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else out[`/${path.relative(root, p)}`] = `${(st.mode & 0o777).toString(8)} ${st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : readFileSync(p, 'utf8')}`;
    }
  };
  walk(root);
  return out;
}

/** Runs the script for 'all' twice on a planted tree: the second run changes nothing. */
function reset(shell: string, osRelease: string | undefined): { root: string; after: Record<string, string>; stdout: string } {
  const root = guest(tree(osRelease));
  const text = identityScript(selectedItems('all'));
  const first = runGuestScript(shell, root, text);
  expect(first).toMatchObject({ status: 0, stderr: '' });
  const after = snapshot(root);
  expect(runGuestScript(shell, root, text)).toMatchObject({ status: 0, stderr: '' });
  expect(snapshot(root)).toEqual(after);
  return { root, after, stdout: first.stdout };
}

const GONE_EVERYWHERE = [
  '/var/lib/NetworkManager/secret_key', '/var/lib/NetworkManager/internal-6b1b-eth0.lease', '/var/lib/NetworkManager/dhclient6-6b1b-eth0.lease',
  '/var/lib/systemd/credential.secret', '/etc/hostid', '/etc/salt/minion_id', '/etc/salt/pki/minion/minion.pem', '/etc/salt/pki/minion/minion.pub',
  '/etc/puppetlabs/puppet/ssl/certs/golden.pem', '/etc/puppetlabs/puppet/ssl/private_keys/golden.pem', '/var/lib/puppet/ssl/certs/golden.pem',
  '/etc/chef/client.pem', '/var/lib/docker/engine-id', '/etc/docker/key.json', '/var/lib/cloud/instances/i-golden/obj.pkl',
  '/var/lib/cloud/instance', '/var/lib/cloud/data/instance-id', '/var/lib/cloud/sem/config_scripts_per_once.once', '/etc/lvm/devices/system.devices',
  '/root/.zsh_history', '/home/a b/.zsh_history', '/var/lib/dbus/machine-id',
];
const KEPT_EVERYWHERE = [
  '/var/lib/NetworkManager/timestamps', '/etc/salt/pki/minion/minion_master.pub', '/etc/chef/client.rb', '/var/lib/cloud/seed/nocloud/user-data',
  '/home/c/.zshrc', '/etc/machine-id', '/etc/ssh/ssh_host_ed25519_key', '/etc/hostname', '/var/lib/dhcp/dhclient.leases',
];

describe.each(GUEST_SHELLS)('identityScript with %s', (shell) => {
  const planted = tree(undefined);

  it.each(['debian', 'el', 'suse'] as const)('resets every %s item and nothing else', (family) => {
    const { after } = reset(shell, OS_RELEASE[family]);
    for (const p of GONE_EVERYWHERE) expect([p, after[p]]).toEqual([p, undefined]);
    for (const p of KEPT_EVERYWHERE) expect([p, after[p]]).toEqual([p, `644 ${planted[p]}`]);
    // The keyfiles: MAC lines gone, the rest (and the 0600 mode) kept.
    expect(after['/etc/NetworkManager/system-connections/Wired.nmconnection']).toBe('600 [connection]\nid=Wired\ntype=ethernet\n\n[ethernet]\nmtu=1500\n\n[ipv4]\nmethod=auto\n');
    expect(after['/etc/NetworkManager/system-connections/Wired connection 1']).toBe('644 [connection]\nid=Wired connection 1\n[ethernet]\n');
    const iscsi = after['/etc/iscsi/initiatorname.iscsi'];
    if (family === 'debian') expect(iscsi).toMatch(/^644 (## .*\n)+GenerateName=yes\n$/);
    else expect(iscsi).toBeUndefined();
    const wicked = family === 'suse' ? undefined : `644 ${planted['/var/lib/wicked/duid.xml']}`;
    expect(after['/var/lib/wicked/duid.xml']).toEqual(wicked);
    expect(Object.keys(after).filter((p) => p.includes('ovirt-sysprep.tmp'))).toEqual([]);
  });

  it('does only the items of every family when os-release names no known family, and says so', () => {
    const { after, stdout } = reset(shell, 'ID=plan9\n');
    expect(stdout).toContain('unknown family (os-release ID=plan9 ID_LIKE=)');
    for (const p of GONE_EVERYWHERE) expect([p, after[p]]).toEqual([p, undefined]);
    expect(after['/etc/iscsi/initiatorname.iscsi']).toBe(`644 ${planted['/etc/iscsi/initiatorname.iscsi']}`);
    expect(after['/var/lib/wicked/duid.xml']).toBe(`644 ${planted['/var/lib/wicked/duid.xml']}`);
  });

  it('succeeds on an empty guest (every path absent) and on a guest without os-release', () => {
    const root = makeGuestTree('idscript-', {});
    expect(runGuestScript(shell, root, identityScript(selectedItems('all')))).toMatchObject({ status: 0, stderr: '' });
    expect(readdirSync(root)).toEqual([]);
  });

  it('does only the items named in a list', () => {
    const root = guest(tree(OS_RELEASE.debian));
    expect(runGuestScript(shell, root, identityScript(selectedItems(['hostid', 'zsh-history'])))).toMatchObject({ status: 0, stderr: '' });
    const after = snapshot(root);
    expect(after['/etc/hostid']).toBeUndefined();
    expect(after['/home/a b/.zsh_history']).toBeUndefined();
    expect(after['/var/lib/NetworkManager/secret_key']).toBeDefined();
  });
});

describe('identityScript text', () => {
  it("selects every script item for 'all' (also inside a list) and never a tool item", () => {
    expect(selectedItems('all')).toEqual(SCRIPT_ITEMS);
    expect(selectedItems(['hostid', 'all'])).toEqual(SCRIPT_ITEMS);
    expect(selectedItems(['machine-id', 'hostid']).map((i) => i.name)).toEqual(['hostid']);
    const text = identityScript(selectedItems('all'));
    for (const i of IDENTITY_ITEMS) expect([i.name, text.includes(`# ${i.name}: `)]).toEqual([i.name, i.by === 'script']);
  });

  it.each([
    ['/etc/hostid', `'./etc/hostid'`],
    ['/var/lib/NetworkManager/*.lease', `'./var/lib/NetworkManager/'*'.lease'`],
    ['/home/*/.zsh_history', `'./home/'*'/.zsh_history'`],
    ['/etc/ssh/ssh_host_*', `'./etc/ssh/ssh_host_'*`],
  ])('quotes %s as %s', (p, word) => expect(guestPathWord(p)).toBe(word));

  it.each(['etc/hostid', '/etc/a b', "/etc/'x", '/etc/$x', '/etc/../x', '/etc/[ab]'])('refuses the path %j', (p) => {
    expect(() => guestPathWord(p)).toThrow(/bad path/);
  });
});
