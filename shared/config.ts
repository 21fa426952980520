// vdsm-style configuration: an ini file (`[section]`, `key = value`, `#`/`;` comments)
// plus environment overrides, described by a declarative key table so that parsing,
// `--help` and the docs come from one list.
import { existsSync, readFileSync } from 'node:fs';

export interface ConfigKey<T> {
  /** Key in the ini file (snake_case). */
  key: string;
  /** Environment variable that overrides it. */
  env: string;
  description: string;
  /** Default value, as it would be written in the file (shown in docs and --help). */
  default: string;
  parse(raw: string): T;
}

export const parsers = {
  string: (raw: string) => raw,
  list: (raw: string) => raw.split(',').map((s) => s.trim()).filter(Boolean),
  bool(raw: string): boolean {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new Error(`expected true or false, got ${JSON.stringify(raw)}`);
  },
  positiveInt(raw: string): number {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive integer, got ${JSON.stringify(raw)}`);
    return n;
  },
  /** An integer in [min, max]. */
  intIn: (min: number, max: number) => (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return n;
  },
  oneOf: <T extends string>(...values: T[]) => (raw: string): T => {
    if (!(values as string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
    return raw as T;
  },
};

/**
 * The value of a `key = value` line. Inline comments as Python's configparser with
 * inline_comment_prefixes: a `#` or `;` after whitespace starts a comment, so
 * `listen = 127.0.0.1:8384  # REST API` is `127.0.0.1:8384`, while a `#` inside a word
 * (a token, a URL fragment) stays. A value in double quotes is taken as written
 * (`\"` and `\\` escaped), for a password that holds ` #`.
 */
function iniValue(raw: string, where: string): string {
  if (raw.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"\s*(?:[#;].*)?$/.exec(raw);
    if (!m) throw new Error(`${where}: a value that starts with " must end with " (then only a comment)`);
    return m[1].replace(/\\(.)/g, '$1');
  }
  return raw.replace(/(^|\s)[#;].*$/, '').trim();
}

/**
 * Parses ini text into section -> key -> value. Comment lines start with `#` or `;`;
 * inline comments as iniValue says, after a `[section]` header too. A line that is
 * neither is an error naming it (a typo must not be silently ignored).
 */
export function parseIni(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = '';
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const where = `line ${i + 1}`;
    const sec = /^\[([^\]]+)\]\s*(?:[#;].*)?$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      out[section] ??= {};
      return;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv || !section) throw new Error(`${where}: expected "[section]" or "key = value", got ${JSON.stringify(raw)}`);
    out[section][kv[1]] = iniValue(kv[2], `${where} (${kv[1]})`);
  });
  return out;
}

export type KeyTable = Record<string, ConfigKey<unknown>>;
export type ConfigOf<K extends KeyTable> = { [P in keyof K]: K[P] extends ConfigKey<infer T> ? T : never };

/** Refuses a key of `values` that the table does not know (a typo must not be silently ignored). */
function assertKnown(keys: KeyTable, values: Record<string, string>, where: string): void {
  const known = new Set(Object.values(keys).map((k) => k.key));
  for (const key of Object.keys(values)) {
    if (!known.has(key)) throw new Error(`${where}: unknown key "${key}"`);
  }
}

function parseKey(spec: ConfigKey<unknown>, raw: string): unknown {
  try {
    return spec.parse(raw);
  } catch (err) {
    throw new Error(`config ${spec.key} (${spec.env}): ${(err as Error).message}`);
  }
}

/**
 * Resolves a config: defaults < file section < environment < explicit overrides.
 * Unknown keys in the file are errors.
 */
export function loadConfig<K extends KeyTable>(
  keys: K,
  section: string,
  opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Partial<ConfigOf<K>>; required?: boolean },
): ConfigOf<K> {
  const env = opts.env ?? process.env;
  let fileValues: Record<string, string> = {};
  if (opts.file && (existsSync(opts.file) || opts.required)) {
    let ini: Record<string, Record<string, string>>;
    try {
      ini = parseIni(readFileSync(opts.file, 'utf8'));
    } catch (err) {
      throw new Error(`${opts.file}: ${(err as Error).message}`);
    }
    fileValues = ini[section] ?? {};
    assertKnown(keys, fileValues, `${opts.file}: [${section}]`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(keys)) out[name] = parseKey(spec, env[spec.env] ?? fileValues[spec.key] ?? spec.default);
  return { ...out, ...(opts.overrides ?? {}) } as ConfigOf<K>;
}

/** Only the keys present in `values` (a section of another file), parsed by the table; unknown keys refused. */
export function parseSection<K extends KeyTable>(keys: K, values: Record<string, string>, where: string): Partial<ConfigOf<K>> {
  assertKnown(keys, values, where);
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(keys)) if (spec.key in values) out[name] = parseKey(spec, values[spec.key]);
  return out as Partial<ConfigOf<K>>;
}

/** Markdown table of the keys (docs) and plain text (--help). */
export function describeKeys(keys: KeyTable, format: 'markdown' | 'text'): string {
  const rows = Object.values(keys);
  if (format === 'text') {
    return rows.map((k) => `  ${k.key} (${k.env})\n      ${k.description} [default: ${k.default || '""'}]`).join('\n');
  }
  return ['| key | environment | default | description |', '|---|---|---|---|']
    .concat(rows.map((k) => `| \`${k.key}\` | \`${k.env}\` | \`${k.default}\` | ${k.description} |`))
    .join('\n');
}
