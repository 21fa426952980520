// Where the CLI finds the engine, its token and the CA that signed an https engine's
// certificate. Precedence: flags > environment (OVIRT_SYSPREP_URL, OVIRT_SYSPREP_TOKEN,
// OVIRT_SYSPREP_TOKEN_FILE, OVIRT_SYSPREP_CA_FILE) > config file (--config,
// OVIRT_SYSPREP_CONFIG, else $XDG_CONFIG_HOME/ovirt-sysprep/cli.conf, keys url, token,
// token_file, ca_file at the top or under [cli]) > the engine started with --local by this
// user (localEngineFile.ts: its URL and <data dir>/admin.token) > default URL, system CAs.
// A token given on argv is visible to every user in `ps`: it works, with a warning.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseIni } from '../../shared/config';
import { localEngineFile } from '../localEngineFile';
import { UsageError } from './exitCodes';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const CONFIG_KEYS = ['url', 'token', 'token_file', 'ca_file'];

export interface ConnectionFlags {
  engine?: string;
  token?: string;
  tokenFile?: string;
  caFile?: string;
  config?: string;
}

export interface Connection {
  /** Base URL without /api/v1, no trailing slash. */
  url: string;
  token: string;
  /** PEM certificates to trust for an https URL instead of the system CAs (--ca-file). */
  ca?: string;
  /** Things the user should know (token on argv, readable config file). */
  warnings: string[];
}

export function defaultConfigFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'ovirt-sysprep', 'cli.conf');
}

/** Reads cli.conf; keys may stand before any section (plain `url = ...`) or under [cli]. */
export function parseCliConf(text: string, file: string): Record<string, string> {
  let sections: Record<string, Record<string, string>>;
  try {
    sections = parseIni(`[cli]\n${text}`);
  } catch (err) {
    // parseIni counts the line we added.
    const msg = (err as Error).message.replace(/^line (\d+)/, (_, n: string) => `line ${Number(n) - 1}`);
    throw new UsageError(`${file}: ${msg}`);
  }
  const conf = sections.cli ?? {};
  for (const key of Object.keys(conf)) {
    if (!CONFIG_KEYS.includes(key)) throw new UsageError(`${file}: unknown key "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
  }
  return conf;
}

function readSecretFile(file: string, what: string, warnings: string[]): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  warnIfReadableByOthers(file, what, warnings);
  const token = text.trim();
  if (!token) throw new UsageError(`${what}: ${file} is empty`);
  return token;
}

export function warnIfReadableByOthers(file: string, what: string, warnings: string[]): void {
  try {
    if (statSync(file).mode & 0o077) warnings.push(`${what} ${file} is readable by other users (chmod 600 ${file})`);
  } catch {
    /* already reported by the read */
  }
}

export function normalizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`engine URL: ${JSON.stringify(raw)} is not a URL such as http://engine.example:8080`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`engine URL: ${raw} must be http:// or https://`);
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): Connection {
  const warnings: string[] = [];
  const configFile = flags.config ?? env.OVIRT_SYSPREP_CONFIG ?? defaultConfigFile(env);
  const explicitConfig = Boolean(flags.config ?? env.OVIRT_SYSPREP_CONFIG);
  let conf: Record<string, string> = {};
  if (explicitConfig || existsSync(configFile)) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (err) {
      throw new UsageError(`config file: cannot read ${configFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    conf = parseCliConf(text, configFile);
    if (conf.token) warnIfReadableByOthers(configFile, 'config file', warnings);
  }

  const local = readLocalEngine(env);
  const url = normalizeUrl(flags.engine ?? env.OVIRT_SYSPREP_URL ?? conf.url ?? local?.url ?? DEFAULT_URL);

  let token: string | undefined;
  if (flags.token !== undefined && flags.tokenFile !== undefined) throw new UsageError('--token and --token-file: give one of them');
  if (flags.token !== undefined) {
    warnings.push('a token on the command line is visible to other users (ps): prefer --token-file or OVIRT_SYSPREP_TOKEN');
    token = flags.token;
  } else if (flags.tokenFile !== undefined) token = readSecretFile(flags.tokenFile, '--token-file', warnings);
  else if (env.OVIRT_SYSPREP_TOKEN) token = env.OVIRT_SYSPREP_TOKEN;
  else if (env.OVIRT_SYSPREP_TOKEN_FILE) token = readSecretFile(env.OVIRT_SYSPREP_TOKEN_FILE, 'OVIRT_SYSPREP_TOKEN_FILE', warnings);
  else if (conf.token) token = conf.token;
  else if (conf.token_file) token = readSecretFile(conf.token_file, `token_file of ${configFile}`, warnings);
  else if (local?.token_file && normalizeUrl(local.url) === url) token = readSecretFile(local.token_file, `the --local engine's token (from ${local.file})`, warnings);
  if (!token) {
    throw new UsageError(
      `no API token: use --token-file FILE, OVIRT_SYSPREP_TOKEN(_FILE), or "token_file = FILE" in ${configFile}` +
        ' (an engine started with --local by this user is found by itself)',
    );
  }
  const caFile = flags.caFile ?? env.OVIRT_SYSPREP_CA_FILE ?? conf.ca_file;
  const caFrom = flags.caFile !== undefined ? '--ca-file' : env.OVIRT_SYSPREP_CA_FILE ? 'OVIRT_SYSPREP_CA_FILE' : `ca_file of ${configFile}`;
  const ca = caFile ? readCaFile(caFile, caFrom) : undefined;
  if (ca && url.startsWith('http:')) warnings.push(`${caFrom} is not used: ${url} is not an https URL`);
  return ca ? { url, token, ca, warnings } : { url, token, warnings };
}

/** The pointer a running `ovirt-sysprep-engine --local` left for this user, if any. */
function readLocalEngine(env: NodeJS.ProcessEnv): { url: string; token_file?: string; file: string } | undefined {
  const file = localEngineFile(env);
  if (!existsSync(file)) return undefined;
  const conf = parseCliConf(readFileSync(file, 'utf8'), file);
  return conf.url ? { url: conf.url, token_file: conf.token_file, file } : undefined;
}

/** The CA file's PEM text, once every certificate in it parses. */
function readCaFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (!pems.length) throw new UsageError(`${what}: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new UsageError(`${what}: ${file}: a certificate in it does not parse (${(err as Error).message})`);
    }
  }
  return text;
}
