// The network customisation's guest script, run by the host's real sh (and busybox sh,
// the fixture guests' /bin/sh) against temporary guest trees (OVIRT_SYSPREP_ROOT): the
// format each kind of guest gets, the template's stale configuration removed, the other
// interfaces and `lo` kept, and a second run giving the same files.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { connectionUuid, networkScript } from '../../../shared/catalog/guest/networkScript';
import { RenderedInterface } from '../../../shared/catalog/network';
import { GUEST_SHELLS, makeGuestTree, removeGuestTrees, runGuestScript } from '../../helpers/guestScript';

const SHELLS = GUEST_SHELLS;

const STATIC: RenderedInterface = { name: 'eth0', address: '192.0.2.101/24', gateway: '192.0.2.1', dns: ['192.0.2.53', '192.0.2.54'], search: ['example.org', 'lab.example.org'] };
const DHCP: RenderedInterface = { name: 'eth1', dhcp: true };
const OLD_MAC = '52:54:00:12:34:56';
const OLD_IP = '192.168.122.57';

type Tree = Record<string, string>;

afterAll(removeGuestTrees);
const guest = (tree: Tree): string => makeGuestTree('netscript-', tree);

function run(shell: string, root: string, nics: RenderedInterface[]): { status: number | null; stdout: string; stderr: string } {
  return runGuestScript(shell, root, networkScript(nics));
}

/** Every file of the tree with its content and mode. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out[path.relative(root, p)] = `${(st.mode & 0o777).toString(8)} ${readFileSync(p, 'utf8')}`;
    }
  };
  walk(root);
  return out;
}

const read = (root: string, p: string) => readFileSync(path.join(root, p), 'utf8');
const mode = (root: string, p: string) => (statSync(path.join(root, p)).mode & 0o777).toString(8);

/** Runs twice: the second run must leave every file as the first wrote it. */
function configure(shell: string, tree: Tree, nics: RenderedInterface[] = [STATIC, DHCP]): string {
  const root = guest(tree);
  const first = run(shell, root, nics);
  expect(first).toMatchObject({ status: 0, stderr: '' });
  const once = snapshot(root);
  expect(run(shell, root, nics)).toMatchObject({ status: 0, stderr: '' });
  expect(snapshot(root)).toEqual(once);
  return root;
}

function noStale(root: string): void {
  for (const [p, content] of Object.entries(snapshot(root))) {
    expect([p, content.includes(OLD_IP)]).toEqual([p, false]);
    expect([p, content.toLowerCase().includes(OLD_MAC)]).toEqual([p, false]);
  }
}

const DEBIAN: Tree = {
  'etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
  'etc/network/interfaces':
    '# The loopback network interface\nsource /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\n' +
    `allow-hotplug eth0\niface eth0 inet static\n    address ${OLD_IP}/24\n    gateway 192.168.122.1\n    hwaddress ether ${OLD_MAC}\n\n` +
    'auto eth2\niface eth2 inet dhcp\n',
  'etc/network/interfaces.d/eth1': 'auto eth1\niface eth1 inet static\n    address 10.9.9.9/8\n',
  'etc/network/interfaces.d/other': 'auto eth3\niface eth3 inet dhcp\n',
};

const NM_GUEST: Tree = {
  'etc/os-release': 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=39\n',
  'usr/sbin/NetworkManager': '',
  'etc/NetworkManager/system-connections/Wired connection 1.nmconnection':
    `[connection]\nid=Wired connection 1\nuuid=0b8f3f4e-2a5e-4bb0-9e3c-000000000001\ntype=ethernet\n\n[ethernet]\nmac-address=${OLD_MAC.toUpperCase()}\n\n[ipv4]\nmethod=manual\naddress1=${OLD_IP}/24,192.168.122.1\n`,
  'etc/NetworkManager/system-connections/old-eth0.nmconnection': `[connection]\nid=old\ntype=ethernet\ninterface-name = eth0\n\n[ipv4]\naddress1=${OLD_IP}/24\n`,
  'etc/NetworkManager/system-connections/eth5.nmconnection': '[connection]\nid=eth5\ntype=ethernet\ninterface-name=eth5\n',
  'etc/NetworkManager/system-connections/home-wifi.nmconnection': '[connection]\nid=home\ntype=wifi\n\n[wifi]\nmac-address=AA:BB:CC:DD:EE:FF\n',
  // ifupdown leftovers make NetworkManager leave eth0 unmanaged.
  'etc/network/interfaces': `auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet static\n    address ${OLD_IP}/24\n`,
};

const EL8: Tree = {
  'etc/os-release': 'NAME="Rocky Linux"\nVERSION="8.9 (Green Obsidian)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.9"\n',
  'etc/redhat-release': 'Rocky Linux release 8.9 (Green Obsidian)\n',
  'usr/sbin/NetworkManager': '',
  'etc/sysconfig/network-scripts/ifcfg-lo': 'DEVICE=lo\nIPADDR=127.0.0.1\n',
  'etc/sysconfig/network-scripts/ifcfg-eth0': `TYPE=Ethernet\nBOOTPROTO=none\nNAME=eth0\nDEVICE=eth0\nONBOOT=yes\nHWADDR=${OLD_MAC}\nIPADDR=${OLD_IP}\nPREFIX=24\n`,
  'etc/sysconfig/network-scripts/ifcfg-System_eth1': `DEVICE="eth1"\nBOOTPROTO=static\nIPADDR=10.1.1.1\n`,
  'etc/sysconfig/network-scripts/ifcfg-ens9': 'DEVICE=ens9\nBOOTPROTO=dhcp\n',
  'etc/sysconfig/network-scripts/route-eth0': `default via 192.168.122.1 dev eth0\n`,
};

const NETPLAN: Tree = {
  'etc/os-release': 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n',
  'usr/sbin/netplan': '',
  'usr/sbin/NetworkManager': '',
  'etc/netplan/50-cloud-init.yaml':
    `network:\n  version: 2\n  ethernets:\n    ens3:\n      match:\n        macaddress: "${OLD_MAC}"\n      set-name: eth0\n      addresses: [${OLD_IP}/24]\n`,
  'etc/netplan/01-other.yaml': 'network:\n  version: 2\n  ethernets:\n    eth7:\n      dhcp4: true\n',
};

describe.each(SHELLS)('the network script run by %s', (shell) => {
  it('writes ifupdown stanzas on a Debian guest: lo and other interfaces kept, the old stanzas gone', () => {
    const root = configure(shell, DEBIAN);
    expect(read(root, 'etc/network/interfaces')).toBe(
      '# The loopback network interface\nsource /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nauto eth2\niface eth2 inet dhcp\n\n' +
      'auto eth0\niface eth0 inet static\n    # written by ovirt-sysprep\n    address 192.0.2.101/24\n    gateway 192.0.2.1\n' +
      '    dns-nameservers 192.0.2.53 192.0.2.54\n    dns-search example.org lab.example.org\n\n' +
      'auto eth1\niface eth1 inet dhcp\n    # written by ovirt-sysprep\n');
    expect(mode(root, 'etc/network/interfaces')).toBe('644');
    // interfaces.d: eth1's file held only eth1 (removed), the other is untouched.
    expect(existsSync(path.join(root, 'etc/network/interfaces.d/eth1'))).toBe(false);
    expect(read(root, 'etc/network/interfaces.d/other')).toBe(DEBIAN['etc/network/interfaces.d/other']);
    noStale(root);
  });

  it('removes one name from an `auto a b` line and keeps the others', () => {
    const root = configure(shell, { 'etc/network/interfaces': 'auto lo eth0 eth9\niface lo inet loopback\niface eth0 inet dhcp\niface eth9 inet dhcp\n' }, [STATIC]);
    expect(read(root, 'etc/network/interfaces')).toMatch(/^auto lo eth9\niface lo inet loopback\niface eth9 inet dhcp\n\nauto eth0\niface eth0 inet static\n/);
  });

  it('writes NetworkManager keyfiles (0600, by interface name) on a NetworkManager guest', () => {
    const root = configure(shell, NM_GUEST);
    const dir = 'etc/NetworkManager/system-connections';
    expect(readdirSync(path.join(root, dir)).sort()).toEqual(['eth0.nmconnection', 'eth1.nmconnection', 'eth5.nmconnection', 'home-wifi.nmconnection']);
    expect(read(root, `${dir}/eth0.nmconnection`)).toBe(
      `# written by ovirt-sysprep\n[connection]\nid=eth0\nuuid=${connectionUuid('eth0')}\ntype=ethernet\ninterface-name=eth0\nautoconnect=true\n\n[ethernet]\n\n` +
      '[ipv4]\nmethod=manual\naddress1=192.0.2.101/24\ngateway=192.0.2.1\ndns=192.0.2.53;192.0.2.54;\ndns-search=example.org;lab.example.org;\n\n[ipv6]\nmethod=auto\n');
    expect(read(root, `${dir}/eth1.nmconnection`)).toMatch(/interface-name=eth1\n[\s\S]*\[ipv4\]\nmethod=auto\n/);
    expect(mode(root, `${dir}/eth0.nmconnection`)).toBe('600');
    expect(mode(root, `${dir}/eth1.nmconnection`)).toBe('600');
    expect(read(root, 'etc/network/interfaces')).toBe('auto lo\niface lo inet loopback\n');
    expect(connectionUuid('eth0')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    noStale(root);
  });

  it('writes ifcfg files on an EL 8 guest (NetworkManager present, ifcfg is its format there)', () => {
    const root = configure(shell, EL8);
    const dir = 'etc/sysconfig/network-scripts';
    expect(readdirSync(path.join(root, dir)).sort()).toEqual(['ifcfg-ens9', 'ifcfg-eth0', 'ifcfg-eth1', 'ifcfg-lo']);
    expect(read(root, `${dir}/ifcfg-eth0`)).toBe(
      '# written by ovirt-sysprep\nDEVICE=eth0\nNAME=eth0\nTYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=none\nIPADDR=192.0.2.101\nPREFIX=24\nGATEWAY=192.0.2.1\nDEFROUTE=yes\n' +
      'DNS1=192.0.2.53\nDNS2=192.0.2.54\nDOMAIN="example.org lab.example.org"\n');
    expect(read(root, `${dir}/ifcfg-eth1`)).toBe('# written by ovirt-sysprep\nDEVICE=eth1\nNAME=eth1\nTYPE=Ethernet\nONBOOT=yes\nBOOTPROTO=dhcp\n');
    expect(read(root, `${dir}/ifcfg-lo`)).toBe(EL8[`${dir}/ifcfg-lo`]);
    expect(existsSync(path.join(root, 'etc/NetworkManager'))).toBe(false);
    noStale(root);
  });

  it.each([['7', 'centos', 'rhel fedora'], ['8.6', 'rhel', 'fedora'], ['8', 'almalinux', 'rhel centos fedora']])('takes ifcfg for EL %s (%s)', (version, id, like) => {
    const root = configure(shell, { 'etc/os-release': `ID="${id}"\nID_LIKE="${like}"\nVERSION_ID="${version}"\n`, 'etc/sysconfig/network-scripts/': '', 'usr/sbin/NetworkManager': '' }, [STATIC]);
    expect(existsSync(path.join(root, 'etc/sysconfig/network-scripts/ifcfg-eth0'))).toBe(true);
  });

  it('takes NetworkManager keyfiles for EL 9 (ifcfg is deprecated there)', () => {
    const root = configure(shell, { 'etc/os-release': 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n', 'etc/sysconfig/network-scripts/': '', 'usr/sbin/NetworkManager': '' }, [STATIC]);
    expect(existsSync(path.join(root, 'etc/NetworkManager/system-connections/eth0.nmconnection'))).toBe(true);
    expect(existsSync(path.join(root, 'etc/sysconfig/network-scripts/ifcfg-eth0'))).toBe(false);
  });

  it('writes netplan files on a netplan guest, removing the files that named the interface', () => {
    const root = configure(shell, NETPLAN);
    expect(readdirSync(path.join(root, 'etc/netplan')).sort()).toEqual(['01-other.yaml', '90-ovirt-sysprep-eth0.yaml', '90-ovirt-sysprep-eth1.yaml']);
    expect(read(root, 'etc/netplan/90-ovirt-sysprep-eth0.yaml')).toBe(
      '# written by ovirt-sysprep\nnetwork:\n  version: 2\n  ethernets:\n    "eth0":\n      dhcp4: false\n      addresses: ["192.0.2.101/24"]\n' +
      '      routes:\n        - to: "0.0.0.0/0"\n          via: "192.0.2.1"\n      nameservers:\n        addresses: ["192.0.2.53", "192.0.2.54"]\n' +
      '        search: ["example.org", "lab.example.org"]\n');
    expect(read(root, 'etc/netplan/90-ovirt-sysprep-eth1.yaml')).toMatch(/"eth1":\n {6}dhcp4: true\n$/);
    expect(mode(root, 'etc/netplan/90-ovirt-sysprep-eth0.yaml')).toBe('600');
    noStale(root);
  });

  it('refuses a guest with no known network configuration: exit 3, a message, nothing written', () => {
    const root = guest({ 'etc/os-release': 'ID=alpine\n' });
    const before = snapshot(root);
    const r = run(shell, root, [STATIC]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/none of the network configurations it knows \(netplan, EL 7\/8 network-scripts, NetworkManager, ifupdown\)/);
    expect(snapshot(root)).toEqual(before);
  });
});

it('carries request values as quoted shell words: a hostile-looking value stays data', () => {
  // The schema refuses such names; the script would still carry them as data.
  const text = networkScript([{ ...STATIC, search: ["a'b$(touch /tmp/x)"] }]);
  expect(text).toContain("a'\\''b$(touch /tmp/x)");
  expect(execFileSync('sh', ['-n', '-c', text])).toBeDefined();
});
