// virt-sysprep's operations that have a batch form: one declarative entry each (name, what
// it removes or edits, the guestfs-tools file it follows, its shell), like the identity
// catalogue (shared/identity/items.ts). The shell runs in the guest root after GUEST_LIB
// (guestLib.ts): $DISTRO, $MAJOR and $EL_148 are set, the helpers rmrf / rmq / rmstrict /
// put / lines_without are there. Each entry was read from guestfs-tools v1.48.2
// (sysprep/sysprep_operation_NAME.ml; 1.47.2 is identical for these files) and does
// what that file does on a Linux root, with the same distribution lists: Rocky Linux is
// in none of 1.48's lists (so net-hwaddr leaves its HWADDR= lines, as the tool does).
//
// Glob notes: libguestfs' glob_expand and the shell both skip dot-files for `*`; an
// unmatched shell pattern stays literal and is "not present" to the helpers.
import { sh } from './guestLib';

export interface BatchOperation {
  name: string;
  /** What it removes or edits (docs/agent.md). */
  does: string;
  /** The guestfs-tools source file it follows. */
  source: string;
  shell: string;
}

const src = (name: string) => `sysprep/sysprep_operation_${name.replace(/-/g, '_')}.ml`;
const op = (name: string, does: string, shell: string): BatchOperation => ({ name, does, source: src(name), shell });

/** ifcfg-* of EL-family guests rewritten without lines starting with these prefixes (g#write: same inode). */
const ifcfgWithout = (...keys: string[]) => sh`
if [ "$EL_148" = yes ]; then
  for f in ./etc/sysconfig/network-scripts/ifcfg-*; do
    present "$f" || continue
    lines_without "$f" '^(${keys.join('|')})=' > "$f.ovirt-sysprep.new"
    put "$f" < "$f.ovirt-sysprep.new"
    rm -f -- "$f.ovirt-sysprep.new"
  done
fi`;

const LOG_GLOBS = [
  'var/log/*.log*', 'var/log/audit/*', 'var/log/btmp*', 'var/log/cron*', 'var/log/dmesg*', 'var/log/lastlog*',
  'var/log/maillog*', 'var/log/mail/*', 'var/log/messages*', 'var/log/secure*', 'var/log/spooler*', 'var/log/tallylog*',
  'var/log/wtmp*', 'var/log/apache2/*_log', 'var/log/apache2/*_log-*', 'var/log/ntp', 'var/log/tuned/tuned.log',
  'var/log/debug*', 'var/log/syslog*', 'var/log/faillog*', 'var/log/firewalld*', 'var/log/grubby*', 'var/log/xferlog*',
  'var/log/BackupPC/LOG', 'var/log/ceph/*.log', 'var/log/chrony/*.log', 'var/log/cups/*_log*',
  'var/log/glusterfs/*glusterd.vol.log', 'var/log/glusterfs/glusterfs.log', 'var/log/httpd/*log',
  'var/log/jetty/jetty-console.log', 'var/log/libvirt/libxl/*.log', 'var/log/libvirt/libvirtd.log',
  'var/log/libvirt/lxc/*.log', 'var/log/libvirt/qemu/*.log', 'var/log/libvirt/uml/*.log', 'var/named/data/named.run',
  'var/log/ppp/connect-errors', 'var/log/setroubleshoot/*.log', 'var/log/squid/*.log', 'var/lib/logrotate.status',
  'root/install.log', 'root/install.log.syslog', 'root/anaconda-ks.cfg', 'root/anaconda-post.log',
  'root/initial-setup-ks.cfg', 'root/original-ks.cfg', 'var/log/anaconda.syslog', 'var/log/anaconda/*',
  'var/log/installer/*', 'var/cache/gdm/*', 'var/lib/AccountService/users/*', 'var/lib/fprint/*',
  'var/cache/fontconfig/*', 'var/cache/man/*', 'var/log/sa/*', 'var/log/gdm/*', 'var/log/lightdm/*',
  'var/log/ntpstats/*', 'etc/Pegasus/*.cnf', 'etc/Pegasus/*.crt', 'etc/Pegasus/*.csr', 'etc/Pegasus/*.pem',
  'etc/Pegasus/*.srl', 'var/log/rhsm/*', 'var/log/journal/*', 'var/log/aptitude*', 'var/log/apt/*',
  'var/log/exim4/*', 'var/log/ConsoleKit/*',
];

/** `./a/b*` as a shell word list: the glob characters are bare, nothing else needs quoting. */
const globs = (list: readonly string[]) => list.map((g) => `./${g}`).join(' ');

export const OPERATIONS: readonly BatchOperation[] = [
  op('abrt-data', 'removes /var/spool/abrt/*', 'rmrf ./var/spool/abrt/*'),
  op('bash-history', 'removes /home/*/.bash_history and /root/.bash_history (files and links only)',
    'rmq ./home/*/.bash_history ./root/.bash_history'),
  op('crash-data', 'removes /var/crash/* and /var/log/dump/*', 'rmrf ./var/crash/* ./var/log/dump/*'),
  op('dhcp-client-state', 'removes /var/lib/dhclient/* and /var/lib/dhcp/*', 'rmrf ./var/lib/dhclient/* ./var/lib/dhcp/*'),
  op('dhcp-server-state', 'removes /var/lib/dhcpd/*', 'rmrf ./var/lib/dhcpd/*'),
  op('kerberos-hostkeytab', 'removes /etc/krb5.keytab', 'rmq ./etc/krb5.keytab'),
  op('logfiles', `removes the ${LOG_GLOBS.length} log globs of the tool (/var/log/*.log*, /var/log/journal/*, ...)`, `rmrf ${globs(LOG_GLOBS)}`),
  op('machine-id', 'empties /etc/machine-id and /var/lib/dbus/machine-id where they are regular files',
    'for f in ./etc/machine-id ./var/lib/dbus/machine-id; do if is_reg "$f"; then : > "$f"; fi; done'),
  op('net-hostname', 'EL family (not Rocky in 1.48): drops HOSTNAME= and DHCP_HOSTNAME= lines of ifcfg-*',
    ifcfgWithout('HOSTNAME', 'DHCP_HOSTNAME')),
  op('net-hwaddr', 'EL family (not Rocky in 1.48): drops HWADDR= lines of ifcfg-*', ifcfgWithout('HWADDR')),
  op('net-nmconn', 'EL family (not Rocky in 1.48): removes /etc/NetworkManager/system-connections/*.nmconnection',
    sh`if [ "$EL_148" = yes ]; then rmq ./etc/NetworkManager/system-connections/*.nmconnection; fi`),
  op('pacct-log', 'EL family: /var/account/pacct* removed, an empty pacct made; Debian, Ubuntu, Kali: the same in /var/log/account',
    sh`pacct() { rmq "$1"/pacct*; if [ -d "$1" ]; then : >> "$1/pacct"; fi; }
case "$DISTRO" in
  fedora|rhel|centos|scientificlinux|oraclelinux|redhat-based) pacct ./var/account ;;
  debian|ubuntu|kalilinux) pacct ./var/log/account ;;
esac`),
  op('rh-subscription-manager', 'RHEL only: removes /etc/pki/consumer/* and /etc/pki/entitlement/*',
    sh`if [ "$DISTRO" = rhel ]; then rmrf ./etc/pki/consumer/* ./etc/pki/entitlement/*; fi`),
  op('rhn-systemid', 'RHEL only: removes /etc/sysconfig/rhn/systemid and osad-auth.conf',
    sh`if [ "$DISTRO" = rhel ]; then rmq ./etc/sysconfig/rhn/systemid ./etc/sysconfig/rhn/osad-auth.conf; fi`),
  op('smolt-uuid', 'removes /etc/sysconfig/hw-uuid, /etc/smolt/uuid, /etc/smolt/hw-uuid',
    'rmq ./etc/sysconfig/hw-uuid ./etc/smolt/uuid ./etc/smolt/hw-uuid'),
  op('ssh-hostkeys', 'removes /etc/ssh/*_host_* (a directory there fails the run, as in the tool)', 'rmstrict ./etc/ssh/*_host_*'),
  op('tmp-files', 'removes everything in /tmp and /var/tmp, dot-files included',
    sh`for d in ./tmp ./var/tmp; do
  if [ -d "$d" ]; then for p in "$d"/* "$d"/.[!.]* "$d"/..?*; do rmrf "$p"; done; fi
done`),
  op('udev-persistent-net', 'removes /etc/udev/rules.d/70-persistent-net.rules', 'rmq ./etc/udev/rules.d/70-persistent-net.rules'),
  op('utmp', 'removes /var/run/utmp', 'rmq ./var/run/utmp'),
  op('yum-uuid', 'where the package manager is yum (EL 5-7, Fedora without /usr/bin/dnf): removes /var/lib/yum/uuid',
    sh`pm=other
case "$DISTRO" in
  fedora) if [ "$MAJOR" -ge 22 ] && [ -f ./usr/bin/dnf ]; then pm=dnf; elif [ "$MAJOR" -ge 1 ]; then pm=yum; fi ;;
  centos|rocky|oraclelinux|redhat-based|rhel|scientificlinux) if [ "$MAJOR" -ge 8 ]; then pm=dnf; elif [ "$MAJOR" -ge 5 ]; then pm=yum; fi ;;
  meego) pm=yum ;;
esac
if [ "$pm" = yum ]; then rmq ./var/lib/yum/uuid; fi`),
];

export const OPERATION_BY_NAME: ReadonlyMap<string, BatchOperation> = new Map(OPERATIONS.map((o) => [o.name, o]));
