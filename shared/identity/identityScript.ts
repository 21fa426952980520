// The guest script of the `identity` customisation (virt-customize `--run`): it does the
// catalogue's script items (items.ts, `by: 'script'`) for the guest's own family, in the
// same appliance pass as virt-sysprep's operations, so what the installed tool lacks
// (net-nmconn on Debian and SUSE, lvm-system-devices before 1.50, zsh-history before
// 1.56, and the items no tool handles) is done on every tool version. Decision note
// "identity: our own catalogue, done by a guest script".
//
// Steps of the script:
//   1. cd to the guest root: `${OVIRT_SYSPREP_ROOT:-/}` (unset in the guest, where
//      virt-customize runs it chrooted; unit tests point it at a temporary tree), so every
//      guest path is relative to it. virt-sysprep runs the script once per OS root;
//   2. the family, from /etc/os-release (or /usr/lib/os-release): ID, then each word of
//      ID_LIKE; unknown: only the items every family carries are done (a message says so);
//   3. each item whose families include the guest's: its paths (globs expanded by the
//      shell) removed, emptied or edited. An absent path is no error, a symlink is never
//      followed (removed as a link, never emptied or edited through), an edit keeps the
//      file's owner and mode and replaces it by rename.
// Running it twice gives the same tree. Only busybox-level tools (rm, cp, mv, grep) are
// used. Every path goes through shQuote, except the `*` of a glob.
//
// Pure (no Node API): bundled for the browser with the catalog.
import { LINUX_FAMILIES, LinuxFamily } from '../guestOs';
import { script, shQuote } from '../catalog/guest/sh';
import type { IdentityItem } from './IdentityItem';
import { IDENTITY_ITEM_BY_NAME } from './items';

/** os-release ID / ID_LIKE words per family (os-release(5); the distributions' own files). */
const OS_RELEASE_IDS: Readonly<Record<LinuxFamily, readonly string[]>> = {
  debian: ['debian', 'ubuntu', 'linuxmint', 'raspbian', 'kali', 'devuan', 'pop', 'elementary'],
  el: ['rhel', 'centos', 'fedora', 'rocky', 'almalinux', 'ol', 'scientific', 'amzn', 'cloudlinux', 'eurolinux', 'circle', 'virtuozzo'],
  suse: ['suse', 'opensuse', 'opensuse-leap', 'opensuse-tumbleweed', 'opensuse-microos', 'sles', 'sled', 'sle-micro'],
};

const KEY = /^[A-Za-z0-9_-]+$/;
const PATH = /^\/[A-Za-z0-9._\-/*]+$/;

/** A guest path relative to the root, every part quoted but the glob stars: ./'var/lib/x/'*'.lease'. */
export function guestPathWord(path: string): string {
  if (!PATH.test(path) || path.includes('..')) throw new Error(`identityScript: bad path ${JSON.stringify(path)}`);
  return path.slice(1).split('*').map((part, i, parts) => (part ? shQuote(i === 0 ? `./${part}` : part) : i === 0 ? './' : '')).join('*');
}

// The fixed part: family detection and the three file helpers. `$\{` stands for the
// shell's `${` (a template literal would take it for its own).
const LIB = String.raw`
say() { printf 'ovirt-sysprep identity: %s\n' "$1"; }

# remove PATH: a file, a directory or a symlink (the link itself), when present.
remove() {
  if [ -e "$1" ] || [ -L "$1" ]; then rm -rf -- "$1"; say "removed $\{1#.}"; fi
}

# empty PATH: a regular file (not a link) truncated, owner and mode kept.
empty() {
  if [ -f "$1" ] && [ ! -L "$1" ] && [ -s "$1" ]; then : > "$1"; say "emptied $\{1#.}"; fi
}

# drop_keys PATH KEYS: lines KEY=... (KEYS: an ERE alternation) removed; the copy beside
# the file keeps its owner and mode (cp -p) and takes its name by rename.
drop_keys() {
  [ -f "$1" ] && [ ! -L "$1" ] || return 0
  grep -Eq "^[[:space:]]*($2)[[:space:]]*=" "$1" || return 0
  t="$1.ovirt-sysprep.tmp"
  cp -p "$1" "$t"
  { grep -Ev "^[[:space:]]*($2)[[:space:]]*=" "$1" || [ $? -eq 1 ]; } > "$t"
  mv -f "$t" "$1"
  say "edited $\{1#.}"
}

# replace PATH TEXT: the whole content replaced, owner and mode kept (an absent file stays absent).
replace() {
  [ -f "$1" ] && [ ! -L "$1" ] || return 0
  t="$1.ovirt-sysprep.tmp"
  cp -p "$1" "$t"
  printf '%s' "$2" > "$t"
  mv -f "$t" "$1"
  say "rewrote $\{1#.}"
}

# The family from os-release: ID first, then the words of ID_LIKE.
id=''; like=''; family=''
for f in ./etc/os-release ./usr/lib/os-release; do
  [ -f "$f" ] || continue
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      ID=*) id=$\{line#ID=} ;;
      ID_LIKE=*) like=$\{line#ID_LIKE=} ;;
    esac
  done < "$f"
  break
done
unquote() { r=$1; r=$\{r#\"}; r=$\{r%\"}; r=$\{r#\'}; r=$\{r%\'}; }
unquote "$id"; id=$r
unquote "$like"; like=$r
`.replace(/\$\\\{/g, '${');

function familyCase(): string {
  const arms = LINUX_FAMILIES.map((f) => `      ${OS_RELEASE_IDS[f].join('|')}) family=${f}; break ;;`);
  return [
    'set -f',
    'for w in $id $like; do',
    '  case $w in',
    ...arms,
    '  esac',
    'done',
    'set +f',
    `[ -n "$family" ] || say "unknown family (os-release ID=$id ID_LIKE=$like): only the items of every family are done"`,
  ].join('\n');
}

/** The shell lines of one item (without its family guard). */
function itemLines(item: IdentityItem): string[] {
  const each = (command: (p: string) => string) => item.paths.map((p) => (p.includes('*') ? `for p in ${guestPathWord(p)}; do ${command('"$p"')}; done` : command(guestPathWord(p))));
  switch (item.action) {
    case 'remove':
    case 'regenerate':
      return each((p) => `remove ${p}`);
    case 'empty':
      return each((p) => `empty ${p}`);
    case 'edit': {
      const edit = item.edit;
      if (!edit) throw new Error(`identityScript: item ${item.name} has no edit`);
      if ('dropKeys' in edit) {
        if (!edit.dropKeys.length || !edit.dropKeys.every((k) => KEY.test(k))) throw new Error(`identityScript: bad keys in ${item.name}`);
        return each((p) => `drop_keys ${p} ${shQuote(edit.dropKeys.join('|'))}`);
      }
      return each((p) => `replace ${p} ${shQuote(edit.replaceWith)}`);
    }
  }
}

function itemBlock(item: IdentityItem): string[] {
  const lines = itemLines(item);
  const everyFamily = LINUX_FAMILIES.every((f) => item.families.includes(f));
  const head = `# ${item.name}: ${item.title}`;
  if (everyFamily) return [head, ...lines];
  return [head, `case $family in ${item.families.join('|')})`, ...lines.map((l) => `  ${l}`), ';; esac'];
}

/** The whole script for these items (catalogue order, each once). */
export function identityScript(items: readonly IdentityItem[]): string {
  for (const i of items) if (IDENTITY_ITEM_BY_NAME.get(i.name) !== i) throw new Error(`identityScript: ${i.name} is not a catalogue item`);
  return script([
    'cd "${OVIRT_SYSPREP_ROOT:-/}"',
    LIB,
    familyCase(),
    ...items.flatMap(itemBlock),
  ]);
}
