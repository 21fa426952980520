// The guest script of the `network` customisation (virt-customize `--run`): it runs in
// the guest (chrooted, its own /bin/sh) during the same appliance pass as the identity
// reset, finds which network stack the guest itself uses, removes the template's stale
// configuration of the interfaces it is given, and writes each one in that stack's
// native format. Decision note "guest network: the guest chooses its own format".
//
// Steps of the script:
//   1. cd to the guest root: `${OVIRT_SYSPREP_ROOT:-/}` (unset in the guest; unit tests
//      point it at a temporary tree and run the script with the host's sh), so every
//      guest path below is relative to it;
//   2. detect, first match wins: netplan (/etc/netplan and a netplan binary), EL 7/8
//      ifcfg (/etc/sysconfig/network-scripts, os-release of the rhel/centos/fedora family
//      with VERSION_ID 7 or 8), NetworkManager (its binary), ifupdown
//      (/etc/network/interfaces or ifup); none: exit 3 with a message, nothing changed;
//   3. remove, in every stack present (a stale ifupdown stanza makes NetworkManager
//      leave the interface alone, netplan merges address lists across files): keyfiles
//      and ifcfg files naming a given interface or bound to a MAC only, route-NAME,
//      netplan files naming it, its ifupdown stanzas (`lo` and others kept);
//   4. write the interfaces (each file made beside and renamed: writeFileCommands).
// Running it twice gives the same files. Only shell built-ins and busybox-level tools
// (mkdir, rm, mv, chmod) are used: minimal guests have nothing more.
//
// Pure (no Node API): bundled for the browser with the catalog.
import { formatIpv4, parseCidr } from '../ipv4';
import type { RenderedInterface } from '../network';
import { script, shQuote, writeFileCommands } from './sh';

export type NetworkFormat = 'netplan' | 'ifcfg' | 'nm' | 'ifupdown';

const MARK = 'written by ovirt-sysprep';

const addr = (nic: RenderedInterface) => {
  const c = parseCidr(nic.address!)!;
  return { ip: formatIpv4(c.ip), prefix: c.prefix };
};

/** A stable connection UUID per interface name (FNV-1a; NetworkManager only needs it unique in the guest). */
export function connectionUuid(name: string): string {
  const words = [0x811c9dc5, 0x01000193, 0x050c5d1f, 0x2b6f4a3d].map((seed) => {
    let h = seed >>> 0;
    for (const ch of `ovirt-sysprep:${name}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    return h.toString(16).padStart(8, '0');
  });
  const hex = words.join('');
  // Version 8 (custom) and the RFC 4122 variant bits, so tools accept it as a UUID.
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** /etc/netplan/90-ovirt-sysprep-NAME.yaml. */
export function netplanFile(nic: RenderedInterface): string {
  const lines = [`# ${MARK}`, 'network:', '  version: 2', '  ethernets:', `    "${nic.name}":`];
  if (nic.dhcp) lines.push('      dhcp4: true');
  else {
    const a = addr(nic);
    lines.push('      dhcp4: false', `      addresses: ["${a.ip}/${a.prefix}"]`);
    // `to: 0.0.0.0/0` rather than `to: default` (netplan 0.103+) or the deprecated gateway4.
    if (nic.gateway) lines.push('      routes:', `        - to: "0.0.0.0/0"`, `          via: "${nic.gateway}"`);
  }
  if (nic.dns || nic.search) {
    lines.push('      nameservers:');
    if (nic.dns) lines.push(`        addresses: [${nic.dns.map((d) => `"${d}"`).join(', ')}]`);
    if (nic.search) lines.push(`        search: [${nic.search.map((d) => `"${d}"`).join(', ')}]`);
  }
  return lines.join('\n') + '\n';
}

/** /etc/sysconfig/network-scripts/ifcfg-NAME (no HWADDR: bound by name). */
export function ifcfgFile(nic: RenderedInterface): string {
  const lines = [`# ${MARK}`, `DEVICE=${nic.name}`, `NAME=${nic.name}`, 'TYPE=Ethernet', 'ONBOOT=yes'];
  if (nic.dhcp) lines.push('BOOTPROTO=dhcp');
  else {
    const a = addr(nic);
    lines.push('BOOTPROTO=none', `IPADDR=${a.ip}`, `PREFIX=${a.prefix}`);
    if (nic.gateway) lines.push(`GATEWAY=${nic.gateway}`, 'DEFROUTE=yes');
  }
  (nic.dns ?? []).forEach((d, i) => lines.push(`DNS${i + 1}=${d}`));
  if (nic.search) lines.push(`DOMAIN="${nic.search.join(' ')}"`);
  return lines.join('\n') + '\n';
}

/** /etc/NetworkManager/system-connections/NAME.nmconnection: matched by interface-name, never a MAC. */
export function keyfile(nic: RenderedInterface): string {
  const lines = [`# ${MARK}`, '[connection]', `id=${nic.name}`, `uuid=${connectionUuid(nic.name)}`, 'type=ethernet', `interface-name=${nic.name}`, 'autoconnect=true', '', '[ethernet]', '', '[ipv4]'];
  if (nic.dhcp) lines.push('method=auto');
  else {
    const a = addr(nic);
    lines.push('method=manual', `address1=${a.ip}/${a.prefix}`);
    if (nic.gateway) lines.push(`gateway=${nic.gateway}`);
  }
  if (nic.dns) lines.push(`dns=${nic.dns.join(';')};`);
  if (nic.search) lines.push(`dns-search=${nic.search.join(';')};`);
  lines.push('', '[ipv6]', 'method=auto');
  return lines.join('\n') + '\n';
}

/** The ifupdown stanza of one interface (its comment inside, so a second run removes it with the stanza). */
export function ifupdownStanza(nic: RenderedInterface): string {
  const lines = [`auto ${nic.name}`, `iface ${nic.name} inet ${nic.dhcp ? 'dhcp' : 'static'}`, `    # ${MARK}`];
  if (!nic.dhcp) {
    const a = addr(nic);
    lines.push(`    address ${a.ip}/${a.prefix}`);
    if (nic.gateway) lines.push(`    gateway ${nic.gateway}`);
  }
  if (nic.dns) lines.push(`    dns-nameservers ${nic.dns.join(' ')}`);
  if (nic.search) lines.push(`    dns-search ${nic.search.join(' ')}`);
  return lines.join('\n') + '\n';
}

// The fixed part: detection and stale removal. `NAMES` (the interfaces) is set before it.
// `$\{` stands for the shell's `${` (a template literal would take it for its own).
const LIB = String.raw`
is_ours() {
  for n in $NAMES; do [ "$1" = "$n" ] && return 0; done
  return 1
}

# r = $1 without leading and trailing blanks.
trim() {
  r=$1
  while :; do
    case $r in
      ' '*|'	'*) r=$\{r#?} ;;
      *' '|*'	') r=$\{r%?} ;;
      *) return 0 ;;
    esac
  done
}

exists() { [ -e "$1" ] || [ -L "$1" ]; }

# os-release of the EL family (rhel, centos, fedora in ID or ID_LIKE) with VERSION_ID 7 or 8.
is_el78() {
  f=etc/os-release
  exists "$f" || f=usr/lib/os-release
  [ -f "$f" ] || return 1
  id= like= ver=
  while IFS= read -r line || [ -n "$line" ]; do
    v=$\{line#*=}; v=$\{v#[\"\']}; v=$\{v%[\"\']}
    case $line in
      ID=*) id=$v ;;
      ID_LIKE=*) like=$v ;;
      VERSION_ID=*) ver=$\{v%%.*} ;;
    esac
  done < "$f"
  case " $id $like " in *' rhel '*|*' centos '*|*' fedora '*) ;; *) return 1 ;; esac
  case $ver in 7|8) return 0 ;; esac
  return 1
}

detect() {
  if [ -d etc/netplan ]; then
    for b in usr/sbin/netplan usr/bin/netplan sbin/netplan; do
      if exists "$b"; then echo netplan; return 0; fi
    done
  fi
  if [ -d etc/sysconfig/network-scripts ] && is_el78; then echo ifcfg; return 0; fi
  for b in usr/sbin/NetworkManager usr/bin/NetworkManager sbin/NetworkManager; do
    if exists "$b"; then echo nm; return 0; fi
  done
  if exists etc/network/interfaces || exists sbin/ifup || exists usr/sbin/ifup; then echo ifupdown; return 0; fi
  echo none
}

# Reads a keyfile or an ifcfg file: dev (interface-name, DEVICE), mac (mac-address, HWADDR), kind (type, TYPE).
read_conf() {
  dev= mac= kind=
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in *=*) ;; *) continue ;; esac
    trim "$\{line%%=*}"; k=$r
    trim "$\{line#*=}"; v=$\{r#[\"\']}; v=$\{v%[\"\']}
    case $k in
      interface-name|DEVICE) dev=$v ;;
      mac-address|HWADDR) mac=$v ;;
      type|TYPE) kind=$v ;;
    esac
  done < "$1"
}

# FILE [DEVICE-FROM-NAME]: configures a given interface, or an Ethernet device by MAC only
# (the template's NIC: its MAC is not the clone's, and the file names no device).
is_stale_conf() {
  read_conf "$1"
  [ -n "$dev" ] || dev=$\{2:-}
  if [ -n "$dev" ]; then is_ours "$dev"; return; fi
  [ -n "$mac" ] || return 1
  case $kind in ''|ethernet|802-3-ethernet|Ethernet) return 0 ;; esac
  return 1
}

# A netplan file naming a given interface (as a key or a set-name).
names_in_yaml() {
  while IFS= read -r line || [ -n "$line" ]; do
    trim "$line"
    for n in $NAMES; do
      case $r in
        "$n:"|"$n: "*|"\"$n\":"*|"'$n':"*|"set-name: $n"|"set-name: \"$n\""|"set-name: '$n'") return 0 ;;
      esac
    done
  done < "$1"
  return 1
}

# kept = FILE without the stanzas of the given interfaces (and their names in auto/allow-*
# lines), trailing blank lines dropped; changed=1 when something was dropped.
filter_ifupdown() {
  kept= changed=0 skip=0
  while IFS= read -r line || [ -n "$line" ]; do
    trim "$line"
    set -f
    set -- $r
    set +f
    kw=$\{1:-}
    case $kw in
      iface|mapping)
        if is_ours "$\{2:-}"; then skip=1 changed=1; continue; fi
        skip=0 ;;
      auto|allow-*|no-auto-down|no-scripts)
        skip=0; shift; rest=
        for w in "$@"; do if is_ours "$w"; then changed=1; else rest="$rest $w"; fi; done
        [ -n "$rest" ] || continue
        [ "$rest" = " $*" ] || line="$kw$rest" ;;
      source|source-directory) skip=0 ;;
    esac
    if [ "$skip" = 1 ]; then continue; fi
    kept="$kept$line
"
  done < "$1"
  kept=$(printf '%s' "$kept")
}

remove_stale() {
  for f in etc/NetworkManager/system-connections/*; do
    if [ -f "$f" ] && is_stale_conf "$f"; then echo "removing $f"; rm -f "$f"; fi
  done
  for f in etc/sysconfig/network-scripts/ifcfg-*; do
    b=$\{f##*/ifcfg-}
    if [ -f "$f" ] && [ "$b" != lo ] && is_stale_conf "$f" "$b"; then echo "removing $f"; rm -f "$f"; fi
  done
  for n in $NAMES; do rm -f "etc/sysconfig/network-scripts/route-$n"; done
  for f in etc/netplan/*.yaml; do
    if [ -f "$f" ] && names_in_yaml "$f"; then echo "removing $f"; rm -f "$f"; fi
  done
  for f in etc/network/interfaces.d/*; do
    [ -f "$f" ] || continue
    filter_ifupdown "$f"
    [ "$changed" = 1 ] || continue
    echo "removing the stanzas of $NAMES from $f"
    if [ -n "$kept" ]; then printf '%s\n' "$kept" > "$f.ovirt-sysprep.tmp" && mv -f "$f.ovirt-sysprep.tmp" "$f"; else rm -f "$f"; fi
  done
  if [ -f etc/network/interfaces ] && [ "$format" != ifupdown ]; then
    filter_ifupdown etc/network/interfaces
    if [ "$changed" = 1 ]; then
      echo "removing the stanzas of $NAMES from etc/network/interfaces"
      printf '%s\n' "$kept" > etc/network/interfaces.ovirt-sysprep.tmp
      mv -f etc/network/interfaces.ovirt-sysprep.tmp etc/network/interfaces
    fi
  fi
}
`.replace(/\$\\\{/g, '${');

/** The whole script for these interfaces (rendered for one VM). */
export function networkScript(nics: readonly RenderedInterface[]): string {
  const names = nics.map((n) => n.name).join(' ');
  const writes = (f: (nic: RenderedInterface) => string[]) => nics.flatMap(f).map((l) => `    ${l}`);
  const stanzas = nics.map(ifupdownStanza).join('\n');
  return script([
    'cd "${OVIRT_SYSPREP_ROOT:-/}"',
    `NAMES=${shQuote(names)}`,
    LIB,
    'format=$(detect)',
    'if [ "$format" = none ]; then',
    '  echo "ovirt-sysprep network: the guest has none of the network configurations it knows (netplan, EL 7/8 network-scripts, NetworkManager, ifupdown): nothing written" >&2',
    '  exit 3',
    'fi',
    'echo "ovirt-sysprep network: configuring $NAMES as $format"',
    'remove_stale',
    'case $format in',
    '  netplan)',
    ...writes((n) => writeFileCommands(`etc/netplan/90-ovirt-sysprep-${n.name}.yaml`, netplanFile(n), '600')),
    '    ;;',
    '  ifcfg)',
    ...writes((n) => writeFileCommands(`etc/sysconfig/network-scripts/ifcfg-${n.name}`, ifcfgFile(n), '644')),
    '    ;;',
    '  nm)',
    ...writes((n) => writeFileCommands(`etc/NetworkManager/system-connections/${n.name}.nmconnection`, keyfile(n), '600')),
    '    ;;',
    '  ifupdown)',
    // The file's other stanzas (lo first) kept as they are, the interfaces' own appended.
    '    kept=',
    '    if [ -f etc/network/interfaces ]; then filter_ifupdown etc/network/interfaces; fi',
    '    mkdir -p etc/network',
    '    { [ -z "$kept" ] || printf \'%s\\n\\n\' "$kept"; printf \'%s\' ' + shQuote(stanzas) + '; } > etc/network/interfaces.ovirt-sysprep.tmp',
    '    chmod 644 etc/network/interfaces.ovirt-sysprep.tmp',
    '    mv -f etc/network/interfaces.ovirt-sysprep.tmp etc/network/interfaces',
    '    ;;',
    'esac',
  ]);
}
