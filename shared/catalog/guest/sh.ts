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
 * Commands that write `content` to `path` in the guest with `mode` (octal string), made
 * in a temporary name beside it and renamed, so a failed write never leaves half a file.
 * The content goes through printf '%s' with one quoted word: no here-document, whose end
 * marker could appear in the content.
 */
export function writeFileCommands(path: string, content: string, mode: string): string[] {
  const tmp = `${path}.ovirt-sysprep.tmp`;
  return [
    `mkdir -p ${shQuote(dirname(path))}`,
    `printf '%s' ${shQuote(content)} > ${shQuote(tmp)}`,
    `chmod ${mode} ${shQuote(tmp)}`,
    `mv -f ${shQuote(tmp)} ${shQuote(path)}`,
  ];
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** A whole script: strict mode, then the lines. */
export function script(lines: readonly string[]): string {
  return ['#!/bin/sh', 'set -eu', ...lines, ''].join('\n');
}
