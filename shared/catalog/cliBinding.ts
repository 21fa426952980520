// How a catalog entry shows on the command line: its flags and the function from the
// flags' strings to the param value. The CLI (engine-plugin/cli/sysprepFlags.ts) turns
// these into commander options and the request body; nothing here touches a file or the
// process, so the catalog stays usable in the browser bundle.
import { InputError } from '../errors';

export interface CliFlag {
  /** commander syntax: `--hostname <pattern>`, or `--update` for a switch. */
  option: string;
  help: string;
  /** May be given several times (values are collected in order). */
  repeatable?: boolean;
  /** Its argument names a file whose content is used (secrets and scripts never sit in argv). */
  readsFile?: boolean;
  /** virt-sysprep's own name for the same flag, accepted too. */
  alias?: string;
  /** For an entry with several flags: the part(s) of the value it fills (`password`, `sshKeys`). */
  fills?: string | readonly string[];
}

/** What a parse function gets: the given flags and a way to read the files they name. */
export interface CliGiven {
  /** The value of a flag (`--hostname`) as given; repeatable flags give string[]. */
  get(flag: string): string | string[] | boolean | undefined;
  /** The whole text of a file. */
  text(flag: string, file: string): string;
  /** The first line of a secret file (warns when others may read it). */
  secret(flag: string, file: string): string;
  /** The lines of a file, blank lines and `#` comments skipped. */
  lines(flag: string, file: string): string[];
}

export interface CliBinding<T> {
  flags: CliFlag[];
  /** The param value from the given flags, or undefined when none was given. Throws InputError naming the flag. */
  parse(given: CliGiven): T | undefined;
}

/** `--hostname <pattern>` -> `--hostname`. */
export const flagName = (option: string): string => option.split(/[ ,]/)[0];

/** A comma-separated list flag's items; an empty list is a mistake, not "nothing". */
export function commaList(flag: string, raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new InputError(flag, `expects a comma-separated list, got ${JSON.stringify(raw)}`);
  return items;
}

const many = (v: unknown): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

/** One value, as given. */
export function cliText(option: string, help: string): CliBinding<string> {
  const flag = flagName(option);
  return { flags: [{ option, help }], parse: (g) => g.get(flag) as string | undefined };
}

/** A comma-separated list (virt-sysprep's own syntax for --install, --remove-user-accounts). */
export function cliList(option: string, help: string): CliBinding<string[]> {
  const flag = flagName(option);
  return {
    flags: [{ option, help: `${help}, comma-separated` }],
    parse: (g) => {
      const raw = g.get(flag);
      return typeof raw === 'string' ? commaList(flag, raw) : undefined;
    },
  };
}

/** A repeatable flag, one value each time (as virt-sysprep's --delete, --chmod). */
export function cliRepeated(option: string, help: string): CliBinding<string[]> {
  const flag = flagName(option);
  return {
    flags: [{ option, help: `${help} (repeatable)`, repeatable: true }],
    parse: (g) => {
      const values = many(g.get(flag));
      return values.length ? values : undefined;
    },
  };
}

/** A repeatable flag naming a file whose whole text is one value (scripts). */
export function cliFiles(option: string, help: string, alias?: string): CliBinding<string[]> {
  const flag = flagName(option);
  return {
    flags: [{ option, help: `${help}: the script in FILE (repeatable)`, repeatable: true, readsFile: true, alias }],
    parse: (g) => {
      const files = many(g.get(flag));
      return files.length ? files.map((f) => g.text(flag, f)) : undefined;
    },
  };
}

/** A switch: true when given. */
export function cliSwitch(option: string, help: string): CliBinding<boolean> {
  const flag = flagName(option);
  return { flags: [{ option, help }], parse: (g) => (g.get(flag) === true ? true : undefined) };
}
