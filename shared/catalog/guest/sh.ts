// POSIX shell text for the scripts some customisations run inside the guest
// (virt-customize `--run FILE`: the guest's own /bin/sh, chrooted in the appliance). Every
// value that comes from a request goes through shQuote; nothing else builds shell text.
// Pure (no Node API): the catalog is bundled for the browser too.

/** A single-quoted shell word: safe for any string (a NUL cannot be passed and is refused). */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('shQuote: NUL byte');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that prints a `warning:` line the agent puts on the job
 * (host-agent/sysprep/progress.ts). It starts with a newline: virt-customize copies a
 * script's output to its stderr (`download /tmp/builder.log /dev/stderr`) in one write
 * that may follow a console fragment the appliance left without its newline (measured:
 * "guestfsd: => rm (0x1d) took 0.00 secslibguestfs: trace: ..."); a script's first line
 * would be glued to it and missed.
 */
export function warningCommand(message: string): string {
  return `printf '\\nwarning: %s\\n' ${shQuote(message)}`;
}

/**
 * Commands that write `content` to `path` in the guest with `mode` (octal string), made
 * in a temporary name beside it and renamed, so a failed write never leaves half a file.
 * The content goes through printf '%s' with one quoted word: no here-document, whose end
 * marker could appear in the content.
 */
export function writeFileCommands(path: string, content: string, mode: string, check?: (tmp: string) => string): string[] {
  const tmp = `${path}.ovirt-sysprep.tmp`;
  return [
    `mkdir -p ${shQuote(dirname(path))}`,
    `printf '%s' ${shQuote(content)} > ${shQuote(tmp)}`,
    `chmod ${mode} ${shQuote(tmp)}`,
    // A file the guest would misread (a sudoers line) never takes the real name.
    ...(check ? [`${check(shQuote(tmp))} || { rm -f ${shQuote(tmp)}; exit 1; }`] : []),
    `mv -f ${shQuote(tmp)} ${shQuote(path)}`,
  ];
}

/**
 * Commands that set `NAME=VALUE` in a shell-style settings file (/etc/locale.conf,
 * /etc/vconsole.conf, /etc/default/keyboard): the other lines are kept, the file is
 * created 0644 when missing, and replaced by rename as writeFileCommands does.
 */
export function setVariableCommands(path: string, settings: ReadonlyArray<readonly [string, string]>): string[] {
  const tmp = `${path}.ovirt-sysprep.tmp`;
  const names = settings.map(([name]) => name).join('|');
  if (!/^[A-Za-z_][A-Za-z0-9_|]*$/.test(names)) throw new Error(`setVariableCommands: bad variable name in ${names}`);
  return [
    `mkdir -p ${shQuote(dirname(path))}`,
    `{ if [ -f ${shQuote(path)} ]; then grep -Ev ${shQuote(`^[[:space:]]*(${names})=`)} ${shQuote(path)} || true; fi; ${settings
      .map(([name, value]) => `printf '%s\\n' ${shQuote(`${name}=${value}`)}`)
      .join('; ')}; } > ${shQuote(tmp)}`,
    `chmod 0644 ${shQuote(tmp)}`,
    `mv -f ${shQuote(tmp)} ${shQuote(path)}`,
  ];
}

/** `if the settings file at PATH has a NAME= line`: the test part of an if/elif. */
export function hasVariableLine(path: string, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`hasVariableLine: bad variable name ${name}`);
  return `grep -Eq ${shQuote(`^[[:space:]]*${name}=`)} ${shQuote(path)}`;
}

/** `if COMMAND is installed in the guest`: the test part of an if/elif. */
export const hasCommand = (command: string): string => `command -v ${shQuote(command)} >/dev/null 2>&1`;

/** Stops the script with a message naming what the guest lacks, when COMMAND is missing. */
export function requireCommand(command: string, forWhat: string): string {
  return `${hasCommand(command)} || { echo ${shQuote(`error: the guest has no ${command}: cannot ${forWhat}`)} >&2; exit 1; }`;
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** A whole script: strict mode, then the lines. */
export function script(lines: readonly string[]): string {
  return ['#!/bin/sh', 'set -eu', ...lines, ''].join('\n');
}
