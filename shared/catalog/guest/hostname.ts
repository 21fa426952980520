// The script that follows virt-customize's `--hostname` in the `hostname` entry: it makes
// sure the guest got the name, whatever the installed tool knows. virt-customize picks the
// file by the inspected distro, and 1.48 does not know the EL rebuilds libguestfs inspects
// as `rocky` or `almalinux` (their support came with guestfs-tools 1.50, RHBZ#2133443): it
// warns "hostname could not be set for this type of guest" and leaves the golden name.
// Steps, once per OS root, after the tool's own step:
//   1. one of the files the tool writes already holds the name (/etc/hostname, SUSE's
//      /etc/HOSTNAME, EL 6's HOSTNAME= in /etc/sysconfig/network, Gentoo's
//      /etc/conf.d/hostname): nothing to do, silently;
//   2. else, on a guest that reads /etc/hostname (it has one, or it has systemd, which reads
//      only that file), write it (made beside and renamed: a symlink is replaced, never
//      written through) and the PRETTY_HOSTNAME of /etc/machine-info when it has one, as
//      the tool does on EL 7+; print a `warning:` line saying the product wrote it, after
//      the tool's own warning;
//   3. else print `warning: hostname not set: ...`: the job ends `incomplete`
//      (host-agent/sysprep/toolWarnings.ts), as it did when only the tool's warning said so.
// Decision 52 gives the reasons. Pure.
import { hasVariableLine, script, setVariableCommands, shQuote, warningCommand, writeFileCommands } from './sh';

/** The `warning:` line of step 3 starts with this (toolWarnings.ts matches it). */
export const HOSTNAME_NOT_SET = 'hostname not set:';

export function hostnameScript(name: string): string {
  const q = shQuote(name);
  return script([
    'cd "${OVIRT_SYSPREP_ROOT:-/}"',
    `if [ "$(head -n 1 etc/hostname 2>/dev/null)" = ${q} ] || [ "$(head -n 1 etc/HOSTNAME 2>/dev/null)" = ${q} ] \\`,
    `  || grep -Fqx ${shQuote(`HOSTNAME=${name}`)} etc/sysconfig/network 2>/dev/null \\`,
    `  || grep -Fqx ${shQuote(`hostname="${name}"`)} etc/conf.d/hostname 2>/dev/null; then`,
    '  :',
    'elif [ -e etc/hostname ] || [ -L etc/hostname ] || [ -d usr/lib/systemd ] || [ -d lib/systemd ]; then',
    ...writeFileCommands('etc/hostname', `${name}\n`, '644').map((c) => `  ${c}`),
    `  if [ -f etc/machine-info ] && ${hasVariableLine('etc/machine-info', 'PRETTY_HOSTNAME')}; then`,
    ...setVariableCommands('etc/machine-info', [['PRETTY_HOSTNAME', name]]).map((c) => `    ${c}`),
    '  fi',
    `  ${warningCommand(`ovirt-sysprep wrote the hostname ${name} to /etc/hostname: the installed virt-customize cannot set it on this distribution`)}`,
    'else',
    `  ${warningCommand(`${HOSTNAME_NOT_SET} the guest has no /etc/hostname and no systemd, and virt-customize did not set it either`)}`,
    'fi',
  ]);
}
