// The fixed head of every batch script (batchScript.ts): the helpers the operations and
// customize steps share, and the guest's distribution and major version as libguestfs
// 1.48's inspection names them (daemon/inspect_fs_unix.ml, inspect_fs.ml at v1.48.6),
// because every family-specific step of virt-sysprep matches on those names. Where the
// inspection would take a path this reduction does not follow (an /etc/lsb-release or
// /etc/SuSE-release fallback), the script stops with `alone` and the VM runs the per-VM
// path: never a guess.
//
// Shell rules (busybox sh as well as dash/bash): relative guest paths from the root the
// script cd'd into; only the tools a minimal busybox guest links (the fixtures' /bin: no
// awk, od or cmp): sh, cat, grep, sed, head, tail, wc, tr, rm, mv, readlink, dirname,
// chmod, chown; `$\{` in the template stands for the shell's `${`.
/**
 * Shell text as a template literal: the template's own `$\{` becomes the shell's `${`;
 * interpolated values (quoted with shQuote by the caller) are kept exactly as they are.
 */
export function sh(strings: TemplateStringsArray, ...values: string[]): string {
  return strings.raw.map((s, i) => s.replace(/\$\\\{/g, '${') + (i < values.length ? values[i] : '')).join('');
}

export const GUEST_LIB = sh`
step() { printf 'ovirt-sysprep-step: %s\n' "$1"; }
warn() { printf 'warning: %s\n' "$1"; }
# alone REASON: this guest needs the per-VM path; the VM's overlays are discarded and it runs alone.
alone() { printf 'ovirt-sysprep-alone: %s\n' "$1"; exit 3; }

# is_reg PATH: a regular file, not a symlink (libguestfs is_file without followsymlinks).
is_reg() { [ -f "$1" ] && [ ! -L "$1" ]; }
# present PATH: anything there, a dangling symlink included (glob(3) lists it).
present() { [ -e "$1" ] || [ -L "$1" ]; }

# rmrf MATCH...: g#rm_rf of each glob match (the unmatched pattern is not present).
rmrf() { for p in "$@"; do if present "$p"; then rm -rf -- "$p"; fi; done; }
# rmq MATCH...: g#rm with its error ignored: a file or a link is removed, a directory stays.
rmq() { for p in "$@"; do if [ -L "$p" ] || { [ -e "$p" ] && [ ! -d "$p" ]; }; then rm -f -- "$p" || :; fi; done; }
# rmstrict MATCH...: g#rm whose error stops the tool: a directory match fails the run.
rmstrict() {
  for p in "$@"; do
    if [ -L "$p" ]; then rm -f -- "$p"
    elif [ -d "$p" ]; then printf 'error: rm: %s is a directory\n' "$\{p#.}"; exit 1
    elif [ -e "$p" ]; then rm -f -- "$p"; fi
  done
}

# target PATH: sets TARGET to the file a write to PATH lands in. libguestfs writes through
# a symlink; the script follows only a relative link to a plain name in the same directory
# (SUSE's /etc/HOSTNAME -> hostname) and sends any other link to the per-VM path.
target() {
  TARGET=$1
  if [ -L "$1" ]; then
    t=$(readlink "$1")
    case "$t" in
      */*|.|..|'') alone "$\{1#.} is a symlink to $t" ;;
    esac
    TARGET="$(dirname "$1")/$t"
    if [ -L "$TARGET" ]; then alone "$\{1#.} is a chain of symlinks"; fi
  fi
}

# put PATH: stdin becomes PATH's content, as g#write does: an existing file keeps its
# inode (owner, mode, SELinux label), a new one is made 0644 (the daemon's umask 022).
put() {
  target "$1"
  if [ -e "$TARGET" ]; then cat > "$TARGET"
  else cat > "$TARGET.ovirt-sysprep.tmp"; mv -f -- "$TARGET.ovirt-sysprep.tmp" "$TARGET"; fi
}

# kept PATH ERE: g#read_lines of PATH without the lines matching ERE (a ^PREFIX= list),
# each printed with its newline. lines_without: the same joined as the tool writes them
# back (lines joined by newlines plus a final one: an empty list is one newline).
kept() { grep -v -E "$2" "$1" || [ $? -eq 1 ]; }
lines_without() {
  kept "$1" "$2" > "$1.ovirt-sysprep.kept"
  if [ -s "$1.ovirt-sysprep.kept" ]; then cat "$1.ovirt-sysprep.kept"; else printf '\n'; fi
  rm -f -- "$1.ovirt-sysprep.kept"
}

# The distribution as libguestfs 1.48 inspection names it, and its major version.
osr() { sed -n "s/^$1=//p" etc/os-release | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"; }
major_of() { printf '%s\n' "$1" | sed -n 's/^[^0-9]*\([0-9][0-9]*\).*/\1/p'; }
minor_of() { printf '%s\n' "$1" | sed -n 's/^[^0-9]*[0-9][0-9]*\.\([0-9][0-9]*\).*/\1/p'; }
DISTRO=
MAJOR=
if [ -f etc/os-release ]; then
  id=$(osr ID); vid=$(osr VERSION_ID); pretty=$(osr PRETTY_NAME)
  case "$id" in
    alpine) DISTRO=alpinelinux ;; arch) DISTRO=archlinux ;; kali) DISTRO=kalilinux ;;
    pld) DISTRO=pldlinux ;; void) DISTRO=voidlinux ;; sles|sled) DISTRO=sles ;;
    opensuse|opensuse-*) DISTRO=opensuse ;;
    altlinux|centos|coreos|debian|fedora|frugalware|gentoo|kylin|mageia|neokylin|openmandriva|pardus|rhel|rocky|ubuntu) DISTRO=$id ;;
  esac
  MAJOR=$(major_of "$vid")
  minor=$(minor_of "$vid")
  osr_ok=yes
  if [ -z "$DISTRO" ] || [ -z "$pretty" ] || [ -z "$MAJOR" ]; then osr_ok=no; fi
  case "$DISTRO" in
    debian|centos|rocky) if [ "$\{minor:-0}" -eq 0 ]; then osr_ok=no; fi ;;
    archlinux|gentoo|voidlinux) if [ -z "$MAJOR" ] && [ -n "$pretty" ]; then osr_ok=yes; MAJOR=0; fi ;;
  esac
else
  osr_ok=no
fi
if [ "$osr_ok" = no ]; then
  # The release files, in the inspection's order, each tried only when it exists.
  first() { head -n 1 "$1"; }
  rel() { first "$1" | grep -Eq "$2" && { DISTRO=$3; MAJOR=$(first "$1" | sed -En "s/.*$2.*/\1/p" | head -n 1); }; }
  if [ -e etc/lsb-release ]; then alone 'the guest has /etc/lsb-release (an inspection path the batch form does not follow)'
  elif [ -f etc/oracle-release ] && rel etc/oracle-release 'Oracle Linux.*release ([0-9]+)' oraclelinux; then :
  elif [ -f etc/centos-release ] && rel etc/centos-release 'CentOS.*release ([0-9]+)' centos; then :
  elif [ -f etc/altlinux-release ]; then DISTRO=altlinux; MAJOR=$(major_of "$(first etc/altlinux-release)")
  elif [ -f etc/redhat-release ]; then
    rel etc/redhat-release 'Fedora release ([0-9]+)' fedora ||
    rel etc/redhat-release 'Red Hat.*release ([0-9]+)' rhel ||
    rel etc/redhat-release 'CentOS.*release ([0-9]+)' centos ||
    rel etc/redhat-release 'Scientific Linux.*release ([0-9]+)' scientificlinux ||
    { DISTRO=redhat-based; MAJOR=$(major_of "$(first etc/redhat-release)"); }
  elif [ -f etc/debian_version ]; then DISTRO=debian; MAJOR=$(major_of "$(first etc/debian_version)")
  elif [ -e etc/SuSE-release ]; then alone 'the guest has /etc/SuSE-release (an inspection path the batch form does not follow)'
  fi
fi
MAJOR=$\{MAJOR:-0}
case "$DISTRO" in
  fedora|rhel|centos|scientificlinux|oraclelinux|redhat-based) EL_148=yes ;; *) EL_148=no ;;
esac
`;
