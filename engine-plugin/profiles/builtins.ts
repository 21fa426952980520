// The built-in profiles. Operation names a given virt-sysprep does not know are dropped
// when the profile is resolved (tool versions differ; the installed tool decides). What
// the installed tool lacks (identity it leaves on some families or versions: Debian NM
// keyfiles, cloud-init state, LVM's devices file, ...) is the identity catalogue's, done
// by the `identity` customisation's guest script (shared/identity/): one source, every
// tool version.
import type { Profile } from './Profile';

/** The identity a clone carries from its golden image: what every new VM must lose. */
export const IDENTITY_OPERATIONS = [
  'abrt-data', 'crash-data', 'bash-history', 'dhcp-client-state', 'dhcp-server-state',
  'kerberos-hostkeytab', 'logfiles', 'machine-id', 'net-hostname', 'net-hwaddr', 'net-nmconn',
  'pacct-log', 'rh-subscription-manager', 'rhn-systemid', 'smolt-uuid', 'ssh-hostkeys',
  'tmp-files', 'udev-persistent-net', 'utmp', 'yum-uuid', 'lvm-system-devices',
];

/** The automatic reset's profile for a VM known to run Windows (AutoReset). */
export const WINDOWS_RESET_PROFILE = 'windows-reset';

export const BUILT_IN_PROFILES: readonly Profile[] = [
  {
    name: 'clone-reset',
    description: 'Reset the identity of a new clone: host keys, machine-id (a new one is written), leases, MAC rules, logs, history, and every item of the identity catalogue; hostname from the VM name',
    builtIn: true,
    operations: { only: IDENTITY_OPERATIONS },
    params: { hostname: '${vm}', identity: 'all' },
  },
  {
    name: 'template-seal',
    description: "Seal a template as oVirt's seal does (virt-sysprep defaults) plus every item of the identity catalogue, hostname localhost, and /etc/machine-id left EMPTY so every clone makes its own",
    builtIn: true,
    operations: {},
    // customize would write a new machine-id into an empty file; its own --truncate runs
    // after that and empties it again (verified with virt-sysprep 1.48). The identity
    // script never touches /etc/machine-id (a tool item), so it stays empty.
    params: { hostname: 'localhost', truncate: ['/etc/machine-id'], identity: 'all' },
  },
  {
    name: WINDOWS_RESET_PROFILE,
    description: "Reset what can be reset offline on a new Windows clone: the computer name from the VM name (registry; the answer file's when one is given). Windows' own SID and generalize step need sysprep inside the guest (docs/windows.md)",
    builtIn: true,
    // No virt-sysprep operation: they are Linux-only (the OS guard refuses them on Windows).
    operations: {},
    params: { computerName: '${vm}' },
  },
  {
    name: 'full-defaults',
    description: "virt-sysprep's own default operations, no customisation",
    builtIn: true,
    operations: {},
    params: {},
  },
];
