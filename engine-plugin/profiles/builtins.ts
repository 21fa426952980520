// The built-in profiles. Operation names a given virt-sysprep does not know are dropped
// when the profile is resolved (tool versions differ; the installed tool decides).
import type { Profile } from './Profile';

/** The identity a clone carries from its golden image: what every new VM must lose. */
export const IDENTITY_OPERATIONS = [
  'abrt-data', 'crash-data', 'bash-history', 'dhcp-client-state', 'dhcp-server-state',
  'kerberos-hostkeytab', 'logfiles', 'machine-id', 'net-hostname', 'net-hwaddr', 'net-nmconn',
  'pacct-log', 'rh-subscription-manager', 'rhn-systemid', 'smolt-uuid', 'ssh-hostkeys',
  'tmp-files', 'udev-persistent-net', 'utmp', 'yum-uuid', 'lvm-system-devices',
];

/**
 * What virt-sysprep 1.48 leaves behind on a Debian guest (design.md section 3):
 * cloud-init's per-instance state, and LVM's devices file (makes EL9 clones unbootable).
 */
export const LEFTOVER_IDENTITY = ['/var/lib/cloud/instances/*', '/var/lib/cloud/instance', '/etc/lvm/devices/system.devices'];

/** The automatic reset's profile for a VM known to run Windows (AutoReset). */
export const WINDOWS_RESET_PROFILE = 'windows-reset';

export const BUILT_IN_PROFILES: readonly Profile[] = [
  {
    name: 'clone-reset',
    description: 'Reset the identity of a new clone: host keys, machine-id (a new one is written), leases, MAC rules, logs, history; hostname from the VM name',
    builtIn: true,
    operations: { only: IDENTITY_OPERATIONS },
    params: { hostname: '${vm}', delete: LEFTOVER_IDENTITY },
  },
  {
    name: 'template-seal',
    description: "Seal a template as oVirt's seal does (virt-sysprep defaults), hostname localhost, and /etc/machine-id left EMPTY so every clone makes its own",
    builtIn: true,
    operations: {},
    // customize would write a new machine-id into an empty file; its own --truncate runs
    // after that and empties it again (verified with virt-sysprep 1.48).
    params: { hostname: 'localhost', truncate: ['/etc/machine-id'], delete: LEFTOVER_IDENTITY },
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
