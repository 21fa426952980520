// Golden-image contents for every item of the identity catalogue (shared/identity), per
// Linux family: what the fixtures plant (guestImage.ts adds them to each flavour) so that
// the identity e2e measures every item on every family. Test data only: the product
// never reads this module.
//
// Each sample is checked against its item (plantedPathsMatch): its path must be one of
// the item's paths, match one of its globs, or lie under one of its directories, so the
// samples follow the catalogue; a catalogue item without a sample for a family it
// applies to fails the unit test (identitySamples.test.ts).
import type { LinuxFamily } from '../../shared/guestOs';
import { IDENTITY_ITEMS, IdentityItem } from '../../shared/identity';
import { pathOfItem } from './identityView';

export interface Sample {
  path: string;
  content: string;
  mode?: number;
  uid?: number;
  gid?: number;
}

/** The golden values the samples repeat (passed in by guestImage.ts, which owns them). */
export interface GoldenValues {
  hostname: string;
  machineId: string;
  mac: string;
  ip: string;
}

type SampleSet = (g: GoldenValues, family: LinuxFamily) => Sample[];

const pem = (what: string) =>
  `-----BEGIN ${what}-----\nZ29sZGVuLWltYWdlIHRlc3QgZGF0YSwgbmV2ZXIgYSByZWFsIGtleQ==\n-----END ${what}-----\n`;
const NM_UUID = '0f6a3c2e-8b1d-4e55-9c7a-2d4e6f8a1b3c';

/** item name -> its samples for a family (only families the item applies to are asked). */
const SAMPLES: Readonly<Record<string, SampleSet>> = {
  'nm-keyfile-mac': (g) => [{
    path: '/etc/NetworkManager/system-connections/Wired.nmconnection', mode: 0o600, content:
      `[connection]\nid=Wired\nuuid=${NM_UUID}\ntype=ethernet\n\n[ethernet]\nmac-address=${g.mac.toUpperCase()}\n\n` +
      '[ipv4]\nmethod=auto\n\n[ipv6]\naddr-gen-mode=stable-privacy\nmethod=auto\n',
  }],
  'nm-secret-key': () => [{ path: '/var/lib/NetworkManager/secret_key', mode: 0o600, content: 'nm-secret-key:9d1f0c7e52a84b6fa3e1c05d7b92e6f4c8a0b3d5e7f91a2c4e6b8d0f2a4c6e8b\n' }],
  'nm-dhcp-leases': (g) => [{
    path: `/var/lib/NetworkManager/internal-${NM_UUID}-eth0.lease`, content:
      `# This is private data. Do not parse.\nADDRESS=${g.ip}\nNETMASK=255.255.255.0\nROUTER=192.168.122.1\nSERVER_ADDRESS=192.168.122.1\n` +
      `CLIENTID=01${g.mac.replace(/:/g, '')}\n`,
  }],
  'iscsi-initiator-name': (_g, family) => [{
    path: '/etc/iscsi/initiatorname.iscsi', mode: 0o600,
    content: family === 'suse' ? 'InitiatorName=iqn.1996-04.de.suse:01:8c2f4a6b1d3e\n' : 'InitiatorName=iqn.1994-05.com.redhat:5d7c0a8b9e1f\n',
  }],
  'iscsi-initiator-name-debian': () => [{
    path: '/etc/iscsi/initiatorname.iscsi', mode: 0o600, content:
      '## DO NOT EDIT OR REMOVE THIS FILE!\n## If you remove this file, the iSCSI daemon will not start.\n' +
      '## The InitiatorName must be unique for each iSCSI initiator.\nInitiatorName=iqn.1993-08.org.debian:01:6f3c2a1b0e9d\n',
  }],
  'systemd-credential-secret': () => [{ path: '/var/lib/systemd/credential.secret', mode: 0o400, content: 'sd-credential-secret:3b6e9a1c4f7d2e5a8b0c3f6e9d2a5c8b1e4f7a0d3c6b9e2f5a8c1d4e7b0a3f6c\n' }],
  hostid: () => [{ path: '/etc/hostid', content: 'k\u001f\u0002\u001a' }],
  'salt-minion-identity': (g) => [
    { path: '/etc/salt/minion_id', content: `${g.hostname}\n` },
    { path: '/etc/salt/pki/minion/minion.pem', mode: 0o400, content: pem('RSA PRIVATE KEY') },
    { path: '/etc/salt/pki/minion/minion.pub', content: pem('PUBLIC KEY') },
  ],
  'puppet-agent-ssl': (g) => [
    { path: `/etc/puppetlabs/puppet/ssl/certs/${g.hostname}.pem`, content: pem('CERTIFICATE') },
    { path: `/etc/puppetlabs/puppet/ssl/private_keys/${g.hostname}.pem`, mode: 0o600, content: pem('RSA PRIVATE KEY') },
    { path: `/var/lib/puppet/ssl/certs/${g.hostname}.pem`, content: pem('CERTIFICATE') },
  ],
  'chef-client-key': () => [{ path: '/etc/chef/client.pem', mode: 0o600, content: pem('RSA PRIVATE KEY') }],
  'docker-engine-id': () => [
    { path: '/var/lib/docker/engine-id', mode: 0o600, content: '7c3e1a9b-5d2f-4e8a-b6c0-1f3d5e7a9b2c' },
    { path: '/etc/docker/key.json', mode: 0o600, content: '{"crv":"P-256","d":"Z29sZGVu","kid":"GOLD:EN00:IMAG:E000","kty":"EC","x":"eA","y":"eQ"}\n' },
  ],
  'cloud-init-instance': (g) => [
    { path: '/var/lib/cloud/instances/iid-golden01/datasource', content: 'DataSourceNoCloud: DataSourceNoCloud [seed=/dev/sr0][dsmode=net]\n' },
    { path: '/var/lib/cloud/instances/iid-golden01/sem/config_ssh', content: '8961\n' },
    { path: '/var/lib/cloud/data/instance-id', content: 'iid-golden01\n' },
    { path: '/var/lib/cloud/data/previous-hostname', content: `${g.hostname}\n` },
    { path: '/var/lib/cloud/sem/config_scripts_per_once.once', content: '8961\n' },
  ],
  'lvm-system-devices': () => [{
    path: '/etc/lvm/devices/system.devices', content:
      '# LVM uses devices listed in this file.\n# Created by LVM command vgimportdevices pid 812 at Wed Jan 10 10:00:00 2024\n' +
      'VERSION=1.1.2\nIDTYPE=sys_wwid IDNAME=naa.6001405a1b2c3d4e5f60718293a4b5c6 DEVNAME=/dev/sda2 PVID=Gold3nPVid0000aaaa1111bbbb2222cc PART=2\n',
  }],
  'zsh-history': () => [
    { path: '/root/.zsh_history', mode: 0o600, content: ': 1704880800:0;ssh admin@10.0.0.5\n: 1704880810:0;vi /etc/salt/minion\n' },
    { path: '/home/student/.zsh_history', mode: 0o600, uid: 1001, gid: 1001, content: ': 1704880900:0;cat notes.txt\n' },
  ],
  'wicked-duid': () => [
    { path: '/var/lib/wicked/duid.xml', content: '<duid>00:04:3f:9c:2a:7b:5e:1d:4c:8f:a0:6b:9e:2d:7c:1f:4a:85</duid>\n' },
    { path: '/var/lib/wicked/iaid.xml', content: '<iaid><device>eth0</device><value>1862843988</value></iaid>\n' },
  ],
  'dbus-machine-id': (g) => [{ path: '/var/lib/dbus/machine-id', content: `${g.machineId}\n` }],
  'machine-id': (g) => [{ path: '/etc/machine-id', mode: 0o444, content: `${g.machineId}\n` }],
  'ssh-host-keys': () => [{ path: '/etc/ssh/ssh_host_ecdsa_key', mode: 0o600, content: pem('OPENSSH PRIVATE KEY') }],
  'dhcp-client-leases': (g, family) => [{
    path: family === 'el' ? '/var/lib/dhclient/dhclient6.leases' : '/var/lib/dhcp/dhclient6.eth0.leases', content:
      `default-duid "\\000\\001\\000\\001\\055\\036\\232\\140${g.mac.split(':').map((b) => `\\${parseInt(b, 16).toString(8).padStart(3, '0')}`).join('')}";\n`,
  }],
  'udev-persistent-net': (g) => [{
    path: '/etc/udev/rules.d/70-persistent-net.rules', content:
      `SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="${g.mac}", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"\n`,
  }],
  'ifcfg-hwaddr': (g) => [{ path: '/etc/sysconfig/network-scripts/ifcfg-eth0', content: `TYPE=Ethernet\nBOOTPROTO=dhcp\nDEVICE=eth0\nONBOOT=yes\nHWADDR=${g.mac}\n` }],
  'ifcfg-hostname': (g) => [{ path: '/etc/sysconfig/network-scripts/ifcfg-eth1', content: `TYPE=Ethernet\nBOOTPROTO=dhcp\nDEVICE=eth1\nONBOOT=no\nDHCP_HOSTNAME=${g.hostname}\n` }],
  hostname: (g) => [{ path: '/etc/hostname', content: `${g.hostname}\n` }],
  'random-seed': () => [{ path: '/var/lib/systemd/random-seed', mode: 0o600, content: 'golden-random-seed:5f8e2b7a1c4d9e0f3a6b8c1d4e7f0a2b5c8d1e4f7a0b3c6d9e2f5a8b1c4d7e0f\n' }],
  'bash-history': () => [{ path: '/root/.bash_history', mode: 0o600, content: 'apt-get update\n' }],
  logfiles: (g) => [
    { path: `/var/log/journal/${g.machineId}/system.journal`, mode: 0o640, content: `LPKSHHRH golden journal of ${g.hostname}\n` },
    { path: '/var/log/wtmp', mode: 0o664, content: `golden log-in records of ${g.hostname}\n` },
  ],
  'kerberos-keytab': (g) => [{ path: '/etc/krb5.keytab', mode: 0o600, content: `\u0005\u0002golden host/${g.hostname}.example.org@EXAMPLE.ORG keys\n` }],
  'rhsm-identity': () => [
    { path: '/etc/pki/consumer/cert.pem', content: pem('CERTIFICATE') },
    { path: '/etc/pki/consumer/key.pem', mode: 0o600, content: pem('RSA PRIVATE KEY') },
    { path: '/etc/pki/entitlement/4781297359312746120.pem', content: pem('CERTIFICATE') },
  ],
};

/** The items that apply to a family. */
export const itemsOf = (family: LinuxFamily): IdentityItem[] => IDENTITY_ITEMS.filter((i) => i.families.includes(family));

/** The samples of every item that applies to `family`; throws when an item has none or a sample is not the item's. */
export function identitySamples(family: LinuxFamily, golden: GoldenValues): Array<Sample & { item: string }> {
  return itemsOf(family).flatMap((item) => {
    const set = SAMPLES[item.name];
    if (!set) throw new Error(`identity item ${item.name} has no sample for the fixtures (test/helpers/identitySamples.ts)`);
    const samples = set(golden, family);
    for (const s of samples) {
      if (!pathOfItem(item, s.path)) throw new Error(`sample ${s.path} is not a path of identity item ${item.name} (${item.paths.join(', ')})`);
    }
    return samples.map((s) => ({ ...s, item: item.name }));
  });
}
