// The `customize` operation's steps that have a batch form, as virt-customize 1.48.2 does
// them (guestfs-tools v1.48.2 customize/customize_run.ml, hostname.ml, random_seed.ml,
// password.ml; common/mltools/tools_utils.ml run_in_guest_command): shell text generated
// per step, run after GUEST_LIB (guestLib.ts) in the guest root. Order, as the tool's:
// random seed, machine-id, then the options in command-line order, passwords last.
import { shQuote } from '../../../shared/catalog/guest/sh';
import { sh } from './guestLib';

export interface CustomizeStep {
  /** The virt-customize option (or built-in step) it follows. */
  option: string;
  does: string;
  source: string;
}

/** Listed in docs/agent.md (docs test checks the list against this table). */
export const CUSTOMIZE_STEPS: readonly CustomizeStep[] = [
  { option: '(random seed)', does: 'fills the random-seed files the tool knows with new random bytes (512-8192), or makes the family\'s one (0600) where its directory exists; else warns as the tool does', source: 'customize/random_seed.ml' },
  { option: '(machine-id)', does: 'writes a new random 32-hex machine-id into /etc/machine-id when it is an empty regular file', source: 'customize/customize_run.ml' },
  { option: '--hostname', does: 'Fedora >= 18, EL >= 7: /etc/hostname and PRETTY_HOSTNAME in /etc/machine-info; Debian, Ubuntu, Kali: /etc/hostname and the old name in /etc/hosts; older EL: HOSTNAME= in /etc/sysconfig/network; SUSE: /etc/HOSTNAME; else (Rocky in 1.48) the tool\'s warning', source: 'customize/hostname.ml' },
  { option: '--delete', does: 'removes each match of the glob (rm -rf)', source: 'customize/customize_run.ml' },
  { option: '--truncate', does: 'empties a regular file; a missing path fails the run as in the tool', source: 'customize/customize_run.ml' },
  { option: '--run', does: 'runs the script with /bin/sh in the guest root, its output appended to /tmp/builder.log (the tool\'s log, left in the guest) and passed on', source: 'common/mltools/tools_utils.ml run_in_guest_command' },
  { option: '--root-password, --password', does: 'sets the /etc/shadow password fields at the end (file:, password:, random, disabled, locked:...) with SHA-512 crypt hashes made on the host; the file keeps its inode', source: 'customize/password.ml' },
  { option: '--password-crypto', does: 'only sha512 has a batch form (the hash the host makes)', source: 'customize/password.ml' },
];

export const RANDOM_SEED = sh`
seeded=no
for f in ./var/lib/random-seed ./var/lib/systemd/random-seed ./var/lib/urandom/random-seed ./var/lib/misc/random-seed ./etc/random-seed; do
  if is_reg "$f"; then
    n=$(wc -c < "$f"); n=$((n < 512 ? 512 : n > 8192 ? 8192 : n))
    : > "$f"; head -c "$n" /dev/urandom >> "$f"; seeded=yes
  fi
done
if [ "$seeded" = no ]; then
  case "$DISTRO" in
    fedora|rhel|centos|scientificlinux|oraclelinux|redhat-based) f=./var/lib/random-seed ;;
    debian|ubuntu|kalilinux) f=./var/lib/urandom/random-seed ;;
    opensuse|sles|suse-based) f=./var/lib/misc/random-seed ;;
    cirros) f=./etc/random-seed ;;
    *) f= ;;
  esac
  if [ -n "$f" ] && [ -d "$(dirname "$f")" ] && [ ! -L "$(dirname "$f")" ]; then
    head -c 512 /dev/urandom | put "$f"; chown 0:0 "$f"; chmod 0600 "$f"; seeded=yes
  fi
fi
[ "$seeded" = yes ] || warn 'random seed could not be set for this type of guest'
`;

/**
 * The new machine-id is drawn on the host (16 random bytes as hex, as the tool draws
 * them): a minimal guest has no od or hexdump to do it inside.
 */
export function machineIdStep(): string {
  const id = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(16))).toString('hex');
  return sh`
if is_reg ./etc/machine-id && [ ! -s ./etc/machine-id ]; then
  printf '%s\n' ${id} | put ./etc/machine-id
fi
`;
}

/** virt-customize --hostname NAME: split at the first dot as the tool does (short name, domain). */
export function hostnameStep(name: string): string {
  const dot = name.indexOf('.');
  const short = dot < 0 ? name : name.slice(0, dot);
  const domain = dot < 0 ? '' : name.slice(dot + 1);
  return sh`
H=${shQuote(name)}
# replace_line_in_file: KEY=... lines of a regular file dropped and KEY=VALUE appended; else the file is that one line.
set_line() {
  if is_reg "$1"; then
    { kept "$1" "^$2="; printf '%s=%s\n' "$2" "$3"; } > "$1.ovirt-sysprep.new"
    put "$1" < "$1.ovirt-sysprep.new"; rm -f -- "$1.ovirt-sysprep.new"
  else
    printf '%s=%s\n' "$2" "$3" | put "$1"
  fi
}
case "$DISTRO" in
  fedora) hn=$([ "$MAJOR" -ge 18 ] && echo new || echo old) ;;
  rhel|centos|scientificlinux|oraclelinux|redhat-based) hn=$([ "$MAJOR" -ge 7 ] && echo new || echo old) ;;
  debian|ubuntu|kalilinux) hn=debian ;;
  opensuse|sles|suse-based) hn=suse ;;
  *) hn=none ;;
esac
case "$hn" in
  new) printf '%s\n' "$H" | put ./etc/hostname; set_line ./etc/machine-info PRETTY_HOSTNAME "$H" ;;
  old) set_line ./etc/sysconfig/network HOSTNAME "$H" ;;
  suse) printf '%s' "$H" | put ./etc/HOSTNAME ;;
  debian)
    old=; has_old=no
    if is_reg ./etc/hostname && [ -s ./etc/hostname ]; then old=$(head -n 1 ./etc/hostname); has_old=yes; fi
    printf '%s\n' "$H" | put ./etc/hostname
    if is_reg ./etc/hosts; then
      # The augeas hosts edit: every name of an entry (not its address, not a comment)
      # equal to the old name, the old short name or Debian's unassigned-hostname is
      # replaced; the separators are kept. Written back only when something changed.
      oldshort=$\{old%%.*}
      ws=" $(printf '\t')"
      changed=no
      while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in
          *[!$ws]*) ;;
          *) printf '%s\n' "$line"; continue ;;
        esac
        rest=$line; out=; n=0
        while [ -n "$rest" ]; do
          case "$rest" in
            [$ws]*) w=$\{rest%%[!$ws]*} ;;
            '#'*) w=$rest ;;
            *)
              w=$\{rest%%[$ws#]*}; n=$((n + 1))
              r=$w
              if [ "$n" -gt 1 ]; then
                if [ "$has_old" = yes ] && [ "$w" = "$old" ]; then r=$H
                elif [ "$has_old" = yes ] && [ "$w" = "$oldshort" ]; then r=${shQuote(short)}
                elif [ "$w" = unassigned-hostname ]; then r=${shQuote(short)}
                elif [ "$w" = unassigned-hostname.unassigned-domain ] && [ -n ${shQuote(domain)} ]; then r=$H
                fi
              fi
              [ "$r" = "$w" ] || changed=yes
              rest=$\{rest#"$w"}; out=$out$r; continue ;;
          esac
          rest=$\{rest#"$w"}; out=$out$w
        done
        printf '%s\n' "$out"
      done < ./etc/hosts > ./etc/hosts.ovirt-sysprep.new
      if [ "$changed" = yes ]; then put ./etc/hosts < ./etc/hosts.ovirt-sysprep.new; fi
      rm -f ./etc/hosts.ovirt-sysprep.new
    fi ;;
  none) warn 'hostname could not be set for this type of guest' ;;
esac
`;
}

/** A guest path as shell words: relative to the root, the glob characters * and ? bare, the rest quoted. */
export function globWords(path: string): string {
  const rel = `.${path}`;
  return rel.split(/([*?])/).map((part) => (part === '*' || part === '?' ? part : part ? shQuote(part) : '')).join('');
}

export function deleteStep(path: string): string {
  return `for p in ${globWords(path)}; do rmrf "$p"; done`;
}

export function truncateStep(path: string): string {
  const w = shQuote(`.${path}`);
  return sh`if is_reg ${w}; then : > ${w}
elif present ${w} && [ ! -L ${w} ]; then printf 'error: truncate: %s is not a regular file\n' ${shQuote(path)}; exit 1
elif [ -L ${w} ]; then alone ${shQuote(`--truncate ${path}: a symlink (the tool truncates its target)`)}
else printf 'error: truncate: open: %s: No such file or directory\n' ${shQuote(path)}; exit 1; fi`;
}

/**
 * --run FILE: the tool's prologue (output appended to its log, /tmp/builder.log, or
 * /builder.log without a /tmp directory) then the script, in one `sh -c` from the root;
 * what the script wrote to the log is passed on to the batch's output afterwards.
 */
export function runStep(name: string, content: string): string {
  return sh`
if [ -d ./tmp ]; then log=tmp/builder.log; else log=builder.log; fi
before=0; if [ -f "./$log" ]; then before=$(wc -c < "./$log"); fi
body=${shQuote(content)}
rc=0
sh -c "exec >>'$\{OVIRT_SYSPREP_ROOT:-}/$log' 2>&1


$body
" < /dev/null || rc=$?
if [ -f "./$log" ] && [ "$(wc -c < "./$log")" -gt "$before" ]; then
  tail -c +$((before + 1)) "./$log"
  # A last line without its newline gets one: the next step line starts a line of its own.
  if [ -n "$(tail -c 1 "./$log")" ]; then printf '\n'; fi
fi
if [ "$rc" -ne 0 ]; then printf 'error: %s: command exited with an error\n' ${shQuote(name)}; exit "$rc"; fi
`;
}

/** The password fields of /etc/shadow, in place (same inode: owner, mode and label kept). */
export function passwordsStep(fields: ReadonlyArray<readonly [string, string]>): string {
  const cases = fields.map(([user, field]) => `    ${shQuote(user)}) f=${shQuote(field)} ;;`).join('\n');
  return sh`
if [ -f ./etc/shadow ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in *:*) ;; *) printf '%s\n' "$line"; continue ;; esac
    user=$\{line%%:*}; f=
    case "$user" in
${cases}
    esac
    if [ -z "$f" ]; then printf '%s\n' "$line"; continue; fi
    rest=$\{line#*:}
    case "$rest" in *:*) printf '%s:%s:%s\n' "$user" "$f" "$\{rest#*:}" ;; *) printf '%s:%s\n' "$user" "$f" ;; esac
  done < ./etc/shadow > ./etc/shadow.ovirt-sysprep.new
  cat ./etc/shadow.ovirt-sysprep.new > ./etc/shadow
  rm -f ./etc/shadow.ovirt-sysprep.new
fi
`;
}
