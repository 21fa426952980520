// What of virt-sysprep's `-v -x` trace must not reach the job log. The secrets
// themselves never appear (they travel through `file:` selectors and script files, so
// the trace names only the files), but the trace prints what the tool writes into the
// guest (verified with virt-sysprep 1.48):
//   libguestfs: trace: aug_set "/files/etc/shadow/root/password" "$y$j9T$...hash..."
//   libguestfs: trace: write "/path/in/guest" "...file content, e.g. a firstboot script..."
// A password hash is as good as the password to an offline guesser, and script contents
// are secret in the catalog: both are cut from the line, the rest of the trace stays.

const TRACE = 'libguestfs: trace: ';
/** A quoted trace argument (C escapes inside). */
const ARG = '"(?:[^"\\\\]|\\\\.)*"';

const RULES: readonly RegExp[] = [
  // Account passwords set through augeas: /etc/shadow and /etc/gshadow.
  new RegExp(`^(${TRACE}aug_set "[^"]*/g?shadow/[^"]*" ).+$`),
  // File contents written into the guest (scripts, keys, configuration).
  new RegExp(`^(${TRACE}(?:internal_)?write(?:_append)? ${ARG} ).+$`),
];

export const REDACTED = '<redacted>';

/** The line as it may be logged. */
export function redactTraceLine(line: string): string {
  if (!line.startsWith(TRACE)) return line;
  for (const rule of RULES) {
    const m = rule.exec(line);
    if (m) return m[1] + REDACTED;
  }
  return line;
}
