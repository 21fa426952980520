// What of virt-sysprep's `-v -x` output must not reach the job log. Passwords travel
// through `file:` selectors and scripts as files, so argv names only the files; but the
// verbose trace prints what the tool does with them (verified with virt-sysprep 1.48):
//   libguestfs: trace: aug_set "/files/etc/shadow/root/password" "$y$j9T$...hash..."
//   libguestfs: trace: write "/path/in/guest" "...file content..."
//   running command:                                  (virt-customize --run, verbose:
//   #!/bin/sh                                          the script, line by line)
//   libguestfs: trace: sh "exec >>'/tmp/builder.log' 2>&1\n\n\n#!/bin/sh\n..."
//   commandrvf: /bin/sh -c "exec >>'/tmp/builder.log' 2>&1    (the appliance, again)
// Two defences, line by line: rules that cut the values of those trace calls (a new
// password hash is known to nobody in advance, and is as good as the password to an
// offline guesser), and a scrub of the job's own secret contents (each password, each
// script line, raw or as the trace escapes it) wherever else they show up.

const TRACE = 'libguestfs: trace: ';
/** A quoted trace argument (C escapes inside). */
const ARG = '"(?:[^"\\\\]|\\\\.)*"';

const RULES: readonly RegExp[] = [
  // Account passwords set through augeas: /etc/shadow and /etc/gshadow.
  new RegExp(`^(${TRACE}aug_set "[^"]*/g?shadow/[^"]*" ).+$`),
  // File contents written into the guest (scripts, keys, configuration).
  new RegExp(`^(${TRACE}(?:internal_)?write(?:_append)? ${ARG} ).+$`),
  // Commands run in the guest (--run scripts).
  new RegExp(`^(${TRACE}(?:sh|sh_lines|command|command_lines) ).+$`),
];

export const REDACTED = '<redacted>';

/** Secret text shorter than this is not scrubbed (it would cut common words out of the whole log). */
export const MIN_SCRUBBED = 4;

/** The line as it may be logged, by the rules alone. */
export function redactTraceLine(line: string): string {
  if (!line.startsWith(TRACE)) return line;
  for (const rule of RULES) {
    const m = rule.exec(line);
    if (m) return m[1] + REDACTED;
  }
  return line;
}

/** How libguestfs's trace quotes a string argument. */
const traceEscaped = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/** Redacts one job's output: the rules, then its own secret contents wherever they appear. */
export class TraceRedactor {
  private readonly needles: string[];

  constructor(secrets: readonly string[] = []) {
    const pieces = new Set<string>();
    for (const s of secrets) {
      for (const piece of [s, ...s.split(/\r?\n/)]) {
        for (const form of [piece, piece.trim(), traceEscaped(piece), traceEscaped(piece.trim())]) {
          if (form.length >= MIN_SCRUBBED) pieces.add(form);
        }
      }
    }
    // Longest first, so a whole secret goes before a line of it.
    this.needles = [...pieces].sort((a, b) => b.length - a.length);
  }

  redact(line: string): string {
    let out = redactTraceLine(line);
    for (const needle of this.needles) if (out.includes(needle)) out = out.split(needle).join(REDACTED);
    return out;
  }
}
