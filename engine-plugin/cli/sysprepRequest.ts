// Sysprep options -> the API's request body (docs/api.md "Sysprep request body"). The
// operation flags are read here; every param comes from its catalog entry's CLI binding
// (shared/catalog), so a new customisation needs nothing in this file. Secrets and
// scripts are read from files, never taken from argv.
import { CliGiven, commaList } from '../../shared/catalog/cliBinding';
import { CUSTOMIZATIONS } from '../../shared/catalog/customizations';
import { InputError } from '../../shared/errors';
import { UsageError } from './exitCodes';
import { optionKey, SYSPREP_FLAGS } from './sysprepFlags';

/** Parsed options, as commander names them (`rootPasswordFile`, `sshKeyFile`...). */
export type SysprepOptions = Record<string, unknown>;

export interface SysprepBody {
  profile?: string;
  operations?: { enable?: string[]; disable?: string[]; only?: string[] };
  params?: Record<string, unknown>;
  replace?: string[];
  dryRun: boolean;
  mode?: string;
}

export interface FileReader {
  read(file: string): string;
  /** Mode bits, to warn about secrets readable by others; undefined when unknown. */
  mode?(file: string): number | undefined;
}

/** Flag mistakes are usage errors (exit 2), with the flag named as the engine names fields. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError) throw new UsageError(err.message);
    throw err;
  }
}

const list = (flag: string, raw: unknown): string[] | undefined => (typeof raw === 'string' ? commaList(flag, raw) : undefined);

/**
 * virt-sysprep's `--operations`: `defaults` (or `+name`/`-name` after it) changes the
 * tool's default set; plain names are the whole list; `none` starts from nothing.
 */
export function operationsAlias(raw: string): SysprepBody['operations'] {
  const enable: string[] = [];
  const disable: string[] = [];
  let fromDefaults = false;
  for (const item of commaList('--operations', raw)) {
    if (item === 'defaults') fromDefaults = true;
    else if (item === 'none') fromDefaults = false;
    else if (item === 'all') throw new InputError('--operations', '"all" is not supported: name the operations (see "ovirt-sysprep operations")');
    else if (item.startsWith('-')) disable.push(item.slice(1));
    else enable.push(item.replace(/^\+/, ''));
  }
  if (fromDefaults) return { ...(enable.length ? { enable } : {}), ...(disable.length ? { disable } : {}) };
  const only = enable.filter((n) => !disable.includes(n));
  if (!only.length) throw new InputError('--operations', 'selects no operation (start with "defaults" to change the default set)');
  return { only };
}

export function buildSysprepBody(o: SysprepOptions, files: FileReader): { body: SysprepBody; warnings: string[] } {
  const warnings: string[] = [];
  const body: SysprepBody = { dryRun: Boolean(o.dryRun) };
  if (o.profile !== undefined) body.profile = String(o.profile);
  if (o.mode !== undefined) body.mode = String(o.mode);

  const given = usage(() => ({ enable: list('--enable', o.enable), disable: list('--disable', o.disable), only: list('--only', o.only) }));
  const picked = Object.entries(given).filter(([, v]) => v).map(([k]) => `--${k}`);
  if (given.only && (given.enable || given.disable)) throw new UsageError('--only replaces the operation list: do not combine it with --enable or --disable');
  if (o.operations !== undefined && picked.length) throw new UsageError(`--operations: do not combine it with ${picked.join(', ')}`);
  const ops = o.operations !== undefined ? usage(() => operationsAlias(String(o.operations))) : Object.fromEntries(Object.entries(given).filter(([, v]) => v));
  if (ops && Object.keys(ops).length) body.operations = ops;

  const params: Record<string, unknown> = {};
  const cli = cliGiven(o, files, warnings);
  for (const c of CUSTOMIZATIONS) {
    const value = usage(() => c.cli.parse(cli));
    if (value !== undefined) params[c.key] = value;
  }
  if (Object.keys(params).length) body.params = params;
  const replace = o.replace as string[] | undefined;
  if (replace?.length) body.replace = replace;
  return { body, warnings };
}

/** The catalog's view of the options: values by flag (aliases joined), files read. */
function cliGiven(o: SysprepOptions, files: FileReader, warnings: string[]): CliGiven {
  const read = (flag: string, file: string): string => {
    try {
      return files.read(file);
    } catch (err) {
      throw new InputError(flag, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  return {
    get(flag) {
      const own = o[optionKey(flag)] as string | string[] | boolean | undefined;
      const aliases = SYSPREP_FLAGS.filter((f) => f.aliasOf === flag).flatMap((f) => (o[optionKey(f.option)] as string[] | undefined) ?? []);
      return aliases.length ? [...((own as string[] | undefined) ?? []), ...aliases] : own;
    },
    text: read,
    secret(flag, file) {
      const text = read(flag, file);
      const mode = files.mode?.(file);
      if (mode !== undefined && mode & 0o077) warnings.push(`${flag}: ${file} is readable by other users (chmod 600 ${file})`);
      const value = text.split(/\r?\n/)[0];
      if (!value) throw new InputError(flag, `the first line of ${file} is empty`);
      return value;
    },
    lines: (flag, file) => read(flag, file).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')),
  };
}
