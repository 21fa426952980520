// The customisation catalog: one declarative entry per customisation an administrator can
// ask for (shape: Customization.ts). The agent's argv, the validation, the REST listing,
// the OpenAPI document, the CLI flags and request body, the web form and the role check
// are all generated from this list: a new customisation is one entry here.
//
// Every entry runs inside a virt-sysprep operation (`customize` for virt-customize
// options, `user-account` for account removal): the spec resolver adds that operation
// and refuses the request when the caller explicitly disabled it.
import { z } from 'zod';
import { InputError } from '../errors';
import { bake } from './bake';
import { cliFiles, cliList, cliRepeated, cliSwitch, cliText, CliGiven } from './cliBinding';
import { Customization, entry, FilePlanner } from './Customization';
import * as v from './values';
import { networkSchema, networkUniqueValues, nicCli, renderedInterfaces, renderNetwork } from './network';
import { networkScript } from './guest/networkScript';

export type { Customization, FilePlanner } from './Customization';

/** 18 random bytes, base64url: a password nobody sees (Web Crypto: the same in Node and the browser). */
function randomPassword(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_');
}

function passwordSelector(p: v.Password, files: FilePlanner): string {
  if ('disabled' in p) return 'disabled';
  // Random passwords are generated here rather than with virt-customize's `random`,
  // which prints the password on stdout (and so into the job log).
  const secret = 'value' in p ? p.value : randomPassword();
  return `file:${files.file(secret)}`;
}

/** --root-password-file FILE | --random-root-password. */
function rootPasswordFromCli(g: CliGiven): v.Password | undefined {
  const file = g.get('--root-password-file') as string | undefined;
  const random = g.get('--random-root-password') === true;
  if (file !== undefined && random) throw new InputError('--root-password-file', 'give it or --random-root-password, not both');
  if (file !== undefined) return { value: g.secret('--root-password-file', file) };
  return random ? { random: true } : undefined;
}

/**
 * --ssh-key-file FILE, --user-password-file FILE (for --user, default root), and
 * virt-sysprep's --ssh-inject USER:file:FILE | USER:string:KEY: one entry per user.
 */
function usersFromCli(g: CliGiven): v.User[] | undefined {
  const users = new Map<string, v.User>();
  const of = (name: string) => users.get(name) ?? users.set(name, { name }).get(name)!;
  const addKeys = (name: string, keys: string[]) => {
    const u = of(name);
    u.sshKeys = [...(u.sshKeys ?? []), ...keys];
  };
  const user = g.get('--user') as string | undefined;
  const keyFiles = (g.get('--ssh-key-file') as string[] | undefined) ?? [];
  const keys = keyFiles.flatMap((file) => {
    const lines = g.lines('--ssh-key-file', file);
    if (!lines.length) throw new InputError('--ssh-key-file', `${file} holds no public key`);
    return lines;
  });
  const pwFile = g.get('--user-password-file') as string | undefined;
  const password = pwFile !== undefined ? g.secret('--user-password-file', pwFile) : undefined;
  if (user !== undefined && !keys.length && password === undefined) throw new InputError('--user', 'give --ssh-key-file or --user-password-file for that user');
  if (password !== undefined) of(user ?? 'root').password = { value: password };
  if (keys.length) addKeys(user ?? 'root', keys);
  for (const inject of (g.get('--ssh-inject') as string[] | undefined) ?? []) {
    const m = /^([^:]+):(file|string):(.+)$/.exec(inject);
    if (!m) throw new InputError('--ssh-inject', `expects USER:file:FILE or USER:string:KEY, got ${JSON.stringify(inject)}`);
    addKeys(m[1], m[2] === 'file' ? g.lines('--ssh-inject', m[3]) : [m[3]]);
  }
  return users.size ? [...users.values()] : undefined;
}

export const CUSTOMIZATIONS: readonly Customization[] = bake([
  entry({
    key: 'hostname',
    flag: '--hostname',
    label: 'Hostname',
    help: 'Set the hostname of the guest',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    role: 'operator',
    widget: 'hostname',
    placeholder: '${vm}',
    cli: cliText('--hostname <pattern>', 'Set the hostname of the guest; ${vm} ${pool} ${index} ${template} are replaced per VM'),
    schema: v.hostname,
    toArgs: (value) => ['--hostname', value],
  }),
  entry({
    key: 'rootPassword',
    flag: '--root-password',
    label: 'Root password',
    help: 'Set the root password: a value, a random one, or disabled',
    secret: true,
    needsNetwork: false,
    operation: 'customize',
    role: 'admin',
    widget: 'password',
    cli: {
      flags: [
        { option: '--root-password-file <file>', help: 'set the root password to the first line of FILE (keep it mode 0600)', readsFile: true },
        { option: '--random-root-password', help: 'set a random root password (not shown anywhere)' },
      ],
      parse: rootPasswordFromCli,
    },
    schema: v.password,
    toArgs: (value, files) => ['--root-password', passwordSelector(value, files)],
  }),
  entry({
    key: 'users',
    flag: '--password, --ssh-inject',
    label: 'Users: passwords and SSH keys',
    help: 'Set passwords of existing users and inject SSH public keys into their authorized_keys',
    secret: true,
    needsNetwork: false,
    operation: 'customize',
    // Keys are fine for an operator; a password is an admin's (as rootPassword).
    role: 'operator',
    restricted: (users) => users.flatMap((u, i) => (u && typeof u === 'object' && 'password' in u ? [{ path: `[${i}].password`, role: 'admin' as const, what: 'passwords' }] : [])),
    widget: 'users',
    cli: {
      flags: [
        { option: '--ssh-key-file <file>', repeatable: true, readsFile: true, fills: 'sshKeys', help: "inject the public keys of FILE (one per line) into root's authorized_keys (or --user's)" },
        { option: '--user <name>', fills: 'name', help: 'the existing user that --ssh-key-file and --user-password-file apply to (default root)' },
        { option: '--user-password-file <file>', readsFile: true, fills: 'password', help: "set --user's password: the first line of FILE" },
        { option: '--ssh-inject <user:file:FILE|user:string:KEY>', repeatable: true, fills: 'sshKeys', help: "inject a public key (from FILE, or KEY itself) into USER's authorized_keys (virt-sysprep's syntax; repeatable)" },
      ],
      parse: usersFromCli,
    },
    schema: z.array(v.user).max(256),
    toArgs: (users, files) =>
      users.flatMap((u) => [
        ...(u.password ? ['--password', `${u.name}:${passwordSelector(u.password, files)}`] : []),
        ...(u.sshKeys?.length ? ['--ssh-inject', `${u.name}:file:${files.file(u.sshKeys.join('\n') + '\n')}`] : []),
      ]),
  }),
  entry({
    key: 'removeUsers',
    flag: '--remove-user-accounts',
    label: 'Remove user accounts',
    help: 'Remove these user accounts and their home directories',
    secret: false,
    needsNetwork: false,
    operation: 'user-account',
    role: 'operator',
    widget: 'list',
    placeholder: 'one user name per line',
    cli: cliList('--remove-users <names>', 'Remove these user accounts and their home directories'),
    schema: v.usernames,
    toArgs: (names) => ['--remove-user-accounts', names.join(',')],
  }),
  entry({
    key: 'keepUsers',
    flag: '--keep-user-accounts',
    label: 'Keep only these user accounts',
    help: 'Remove every user account except these (and root)',
    secret: false,
    needsNetwork: false,
    operation: 'user-account',
    role: 'operator',
    widget: 'list',
    placeholder: 'one user name per line',
    cli: cliList('--keep-users <names>', 'Remove every user account except these (and root)'),
    schema: v.usernames,
    toArgs: (names) => ['--keep-user-accounts', names.join(',')],
  }),
  entry({
    key: 'timezone',
    flag: '--timezone',
    label: 'Time zone',
    help: 'Set the time zone of the guest (IANA name such as Europe/Berlin)',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    role: 'operator',
    widget: 'timezone',
    placeholder: 'Europe/Berlin',
    cli: cliText('--timezone <zone>', 'Set the time zone of the guest (IANA name such as Europe/Berlin)'),
    schema: v.timezone,
    toArgs: (value) => ['--timezone', value],
  }),
  entry({
    key: 'scripts',
    flag: '--run',
    label: 'Script run now (offline)',
    help: 'Shell scripts run inside the guest now, offline',
    secret: true,
    needsNetwork: false,
    operation: 'customize',
    role: 'admin',
    widget: 'script',
    cli: cliFiles('--script <file>', 'Shell scripts run inside the guest now, offline', '--run'),
    schema: z.array(v.script).min(1).max(32),
    toArgs: (scripts, files) => scripts.flatMap((s) => ['--run', files.file(s)]),
  }),
  entry({
    key: 'firstboot',
    flag: '--firstboot',
    label: 'Script run at first boot',
    help: 'Shell scripts run inside the guest at its next boot',
    secret: true,
    needsNetwork: false,
    operation: 'customize',
    role: 'admin',
    widget: 'script',
    cli: cliFiles('--firstboot <file>', 'Shell scripts run inside the guest at its next boot'),
    schema: z.array(v.script).min(1).max(32),
    toArgs: (scripts, files) => scripts.flatMap((s) => ['--firstboot', files.file(s)]),
  }),
  entry({
    key: 'install',
    flag: '--install',
    label: 'Install packages',
    help: 'Install these packages (needs the guest network)',
    secret: false,
    needsNetwork: true,
    operation: 'customize',
    role: 'operator',
    widget: 'list',
    placeholder: 'one package per line',
    cli: cliList('--install <pkgs>', 'Install these packages (needs the guest network)'),
    schema: z.array(v.packageName).min(1).max(256),
    toArgs: (pkgs) => ['--install', pkgs.join(',')],
  }),
  entry({
    key: 'update',
    flag: '--update',
    label: 'Update all packages',
    help: 'Update all packages (needs the guest network)',
    secret: false,
    needsNetwork: true,
    operation: 'customize',
    role: 'operator',
    widget: 'checkbox',
    cli: cliSwitch('--update', 'Update all packages (needs the guest network)'),
    schema: z.boolean(),
    toArgs: (value) => (value ? ['--update'] : []),
  }),
  entry({
    key: 'delete',
    flag: '--delete',
    label: 'Delete files',
    help: 'Delete these files or directories in the guest',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    role: 'operator',
    widget: 'list',
    placeholder: 'one absolute path per line',
    cli: cliRepeated('--delete <path>', 'Delete this file or directory in the guest'),
    schema: v.guestPaths,
    toArgs: (paths) => paths.flatMap((p) => ['--delete', p]),
  }),
  entry({
    key: 'truncate',
    flag: '--truncate',
    label: 'Truncate files',
    help: 'Truncate these files in the guest to zero length (e.g. /etc/machine-id to seal a template)',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    role: 'operator',
    widget: 'list',
    placeholder: 'one absolute path per line',
    cli: cliRepeated('--truncate <path>', 'Truncate this file in the guest to zero length'),
    schema: v.guestPaths,
    toArgs: (paths) => paths.flatMap((p) => ['--truncate', p]),
  }),
  entry({
    key: 'chmod',
    flag: '--chmod',
    label: 'Change file permissions',
    help: 'Change the permissions of files in the guest: octal PERMISSIONS:FILE, e.g. 0600:/etc/app.conf',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    role: 'operator',
    widget: 'list',
    placeholder: '0600:/etc/app.conf',
    cli: cliRepeated('--chmod <perms:file>', 'Change the permissions of a file in the guest: octal PERMISSIONS:FILE'),
    schema: z.array(v.chmodSpec).min(1).max(256),
    toArgs: (specs) => specs.flatMap((s) => ['--chmod', s]),
  }),
  entry({
    key: 'network',
    flag: '--run',
    label: 'Network interfaces',
    help: "Configure the guest's interfaces (DHCP, or a static IPv4 address per VM with gateway, DNS and search domains) in its own network configuration format, replacing the template's",
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    role: 'operator',
    widget: 'yaml',
    placeholder: '- name: eth0\n  address: { ipFromIndex: 192.0.2.100/24 }\n  gateway: 192.0.2.1\n  dns: [192.0.2.53]',
    cli: nicCli,
    schema: networkSchema,
    render: renderNetwork,
    uniqueAcrossVms: networkUniqueValues,
    toArgs: (nics, files) => ['--run', files.file(networkScript(renderedInterfaces(nics)))],
  }),
]);

export const CUSTOMIZATION_BY_KEY: ReadonlyMap<string, Customization> = new Map(
  CUSTOMIZATIONS.map((c) => [c.key, c]),
);

/** Customisation parameters as validated: keys of the catalog, typed values. */
export type Params = Record<string, unknown>;

export const paramsSchema = z
  .object(Object.fromEntries(CUSTOMIZATIONS.map((c) => [c.key, c.schema.optional()])))
  .strict();

/** One entry's value schema as JSON Schema (the `$schema` line left to the document holding it). */
function jsonSchemaOf(c: Customization): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(c.schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
  return schema;
}

/** The `params` object as JSON Schema for the OpenAPI document: each property titled and described by its entry. */
export function paramsJsonSchema(): Record<string, unknown> {
  const properties = Object.fromEntries(CUSTOMIZATIONS.map((c) => [c.key, {
    ...jsonSchemaOf(c),
    title: c.label,
    description: `${c.help} (virt-sysprep ${c.flag}${c.secret ? '; secret: never returned' : ''})`,
    'x-minimum-role': c.role,
  }]));
  return { type: 'object', additionalProperties: false, properties };
}

/** The catalog as data (for the REST listing, the agent's capabilities and the web form). */
export function describeCustomizations() {
  return CUSTOMIZATIONS.map((c) => ({
    key: c.key,
    flag: c.flag,
    label: c.label,
    /** Kept under its first name for older clients; the same text as `help`. */
    description: c.help,
    help: c.help,
    secret: c.secret,
    needsNetwork: c.needsNetwork,
    operation: c.operation,
    role: c.role,
    widget: c.widget,
    ...(c.placeholder ? { placeholder: c.placeholder } : {}),
    cliFlags: c.cli.flags.map((f) => f.option.split(' ')[0]),
    schema: jsonSchemaOf(c),
  }));
}

/** Keys whose values are secret: redacted from everything stored or returned. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(CUSTOMIZATIONS.filter((c) => c.secret).map((c) => c.key));
