// Sysprep options -> the API's request body (docs/api.md "Sysprep request body").
// SYSPREP_FLAGS is the one list of the options: commander's options, their help text
// (customisation descriptions come from the shared catalog) and the flag shown next to
// a field the engine refused (`params.hostname` -> --hostname) all come from it.
// Secrets and scripts are read from files, never taken from argv.
import { CUSTOMIZATION_BY_KEY } from '../../shared/catalog/customizations';
import { UsageError } from './exitCodes';

export interface SysprepFlag {
  /** commander option syntax. */
  option: string;
  description: string;
  /** May be given several times (values are collected in order). */
  repeatable?: boolean;
  choices?: string[];
  /** Request fields it fills: the engine's `details.field` is matched against them. */
  fields: string[];
}

const catalog = (key: string) => CUSTOMIZATION_BY_KEY.get(key)?.description ?? key;

export const SYSPREP_FLAGS: readonly SysprepFlag[] = [
  { option: '--profile <name>', description: 'start from this profile (see "ovirt-sysprep profiles")', fields: ['profile'] },
  { option: '--enable <ops>', description: "run these operations too, comma-separated (see \"ovirt-sysprep operations\")", fields: ['operations.enable'] },
  { option: '--disable <ops>', description: 'do not run these operations, comma-separated', fields: ['operations.disable'] },
  { option: '--only <ops>', description: "run exactly these operations (replaces the profile's)", fields: ['operations.only'] },
  { option: '--hostname <pattern>', description: `${catalog('hostname')}; \${vm} \${pool} \${index} \${template} are replaced per VM`, fields: ['params.hostname'] },
  { option: '--root-password-file <file>', description: 'set the root password to the first line of FILE (keep it mode 0600)', fields: ['params.rootPassword'] },
  { option: '--random-root-password', description: 'set a random root password (not shown anywhere)', fields: ['params.rootPassword'] },
  { option: '--ssh-key-file <file>', repeatable: true, description: "inject the public keys of FILE (one per line) into root's authorized_keys (or --user's)", fields: ['params.users'] },
  { option: '--user <name>', description: 'the existing user that --ssh-key-file and --user-password-file apply to (default root)', fields: ['params.users'] },
  { option: '--user-password-file <file>', description: "set --user's password: the first line of FILE", fields: ['params.users'] },
  { option: '--remove-users <names>', description: `${catalog('removeUsers')}, comma-separated`, fields: ['params.removeUsers'] },
  { option: '--timezone <zone>', description: catalog('timezone'), fields: ['params.timezone'] },
  { option: '--script <file>', repeatable: true, description: `${catalog('scripts')}: the script in FILE (repeatable)`, fields: ['params.scripts'] },
  { option: '--firstboot <file>', repeatable: true, description: `${catalog('firstboot')}: the script in FILE (repeatable)`, fields: ['params.firstboot'] },
  { option: '--install <pkgs>', description: `${catalog('install')}, comma-separated`, fields: ['params.install'] },
  { option: '--update', description: catalog('update'), fields: ['params.update'] },
  { option: '--mode <mode>', choices: ['safe', 'in_place'], description: 'safe: work on overlays, commit only on success (default); in_place: write the disks directly', fields: ['mode'] },
  { option: '--dry-run', description: 'run virt-sysprep with --dry-run: nothing is changed', fields: ['dryRun'] },
];

/** The flag to name next to a field the engine refused (longest matching field wins). */
export function flagForField(field: string | undefined): string | undefined {
  if (!field) return undefined;
  let best: { flag: string; len: number } | undefined;
  for (const f of SYSPREP_FLAGS) {
    for (const prefix of f.fields) {
      const hit = field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`);
      if (hit && (!best || prefix.length > best.len)) best = { flag: f.option.split(' ')[0], len: prefix.length };
    }
  }
  // Several flags fill params.users: name them all.
  if (best && field.startsWith('params.users')) return field.includes('password') ? '--user-password-file' : field.includes('sshKeys') ? '--ssh-key-file' : '--user';
  return best?.flag;
}

/** Parsed options, as commander names them. */
export interface SysprepOptions {
  profile?: string;
  enable?: string;
  disable?: string;
  only?: string;
  hostname?: string;
  rootPasswordFile?: string;
  randomRootPassword?: boolean;
  sshKeyFile?: string[];
  user?: string;
  userPasswordFile?: string;
  removeUsers?: string;
  timezone?: string;
  script?: string[];
  firstboot?: string[];
  install?: string;
  update?: boolean;
  mode?: string;
  dryRun?: boolean;
}

export interface SysprepBody {
  profile?: string;
  operations?: { enable?: string[]; disable?: string[]; only?: string[] };
  params?: Record<string, unknown>;
  dryRun: boolean;
  mode?: string;
}

export interface FileReader {
  read(file: string): string;
  /** Mode bits, to warn about secrets readable by others; undefined when unknown. */
  mode?(file: string): number | undefined;
}

function list(flag: string, raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new UsageError(`${flag}: expects a comma-separated list, got ${JSON.stringify(raw)}`);
  return items;
}

function readFile(files: FileReader, flag: string, file: string): string {
  try {
    return files.read(file);
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function readSecret(files: FileReader, flag: string, file: string, warnings: string[]): string {
  const text = readFile(files, flag, file);
  const mode = files.mode?.(file);
  if (mode !== undefined && mode & 0o077) warnings.push(`${flag}: ${file} is readable by other users (chmod 600 ${file})`);
  const value = text.split(/\r?\n/)[0];
  if (!value) throw new UsageError(`${flag}: the first line of ${file} is empty`);
  return value;
}

export function buildSysprepBody(o: SysprepOptions, files: FileReader): { body: SysprepBody; warnings: string[] } {
  const warnings: string[] = [];
  const body: SysprepBody = { dryRun: Boolean(o.dryRun) };
  if (o.profile !== undefined) body.profile = o.profile;
  if (o.mode !== undefined) body.mode = o.mode;

  const operations = { enable: list('--enable', o.enable), disable: list('--disable', o.disable), only: list('--only', o.only) };
  if (operations.only && (operations.enable || operations.disable)) throw new UsageError('--only replaces the operation list: do not combine it with --enable or --disable');
  const ops = Object.fromEntries(Object.entries(operations).filter(([, v]) => v));
  if (Object.keys(ops).length) body.operations = ops;

  const params: Record<string, unknown> = {};
  if (o.hostname !== undefined) params.hostname = o.hostname;
  if (o.rootPasswordFile !== undefined && o.randomRootPassword) throw new UsageError('--root-password-file and --random-root-password: give one of them');
  if (o.rootPasswordFile !== undefined) params.rootPassword = { value: readSecret(files, '--root-password-file', o.rootPasswordFile, warnings) };
  if (o.randomRootPassword) params.rootPassword = { random: true };

  const keys = (o.sshKeyFile ?? []).flatMap((file) => {
    const lines = readFile(files, '--ssh-key-file', file).split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    if (!lines.length) throw new UsageError(`--ssh-key-file: ${file} holds no public key`);
    return lines;
  });
  const userPassword = o.userPasswordFile !== undefined ? readSecret(files, '--user-password-file', o.userPasswordFile, warnings) : undefined;
  if (o.user !== undefined && !keys.length && userPassword === undefined) throw new UsageError('--user: give --ssh-key-file or --user-password-file for that user');
  if (keys.length || userPassword !== undefined) {
    params.users = [{ name: o.user ?? 'root', ...(userPassword !== undefined ? { password: { value: userPassword } } : {}), ...(keys.length ? { sshKeys: keys } : {}) }];
  }

  const removeUsers = list('--remove-users', o.removeUsers);
  if (removeUsers) params.removeUsers = removeUsers;
  if (o.timezone !== undefined) params.timezone = o.timezone;
  if (o.script?.length) params.scripts = o.script.map((f) => readFile(files, '--script', f));
  if (o.firstboot?.length) params.firstboot = o.firstboot.map((f) => readFile(files, '--firstboot', f));
  const install = list('--install', o.install);
  if (install) params.install = install;
  if (o.update) params.update = true;
  if (Object.keys(params).length) body.params = params;
  return { body, warnings };
}
