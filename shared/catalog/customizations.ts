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
import { Customization, entry, FilePlanner, osOf, toolFlagOf } from './Customization';
import { groupsScript, usersScript } from './guest/accounts';
import { filesScript } from './guest/files';
import { firewallScript } from './guest/firewall';
import { hostnameScript } from './guest/hostname';
import { keyboardScript } from './guest/keyboard';
import { localeScript } from './guest/locale';
import { servicesScript } from './guest/services';
import * as v from './values';
import { networkSchema, networkUniqueValues, nicCli, renderedInterfaces, renderNetwork } from './network';
import { networkScript } from './guest/networkScript';
import { identityScript } from '../identity/identityScript';
import { identityValue, selectedItems } from '../identity/identityValue';
import { WINDOWS_CUSTOMIZATIONS } from './windows/windowsEntries';

export type { Customization, FilePlanner } from './Customization';
export { osOf } from './Customization';

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

/**
 * virt-customize picks the password hash by distribution when not told (1.48: MD5 on
 * Rocky and AlmaLinux, which it does not know): every run that sets a password asks for
 * SHA-512 crypt, which every supported guest reads and the batch mode hashes the same.
 */
const PASSWORD_CRYPTO = ['--password-crypto', 'sha512'] as const;

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
  for (const spec of (g.get('--add-user') as string[] | undefined) ?? []) {
    const created = addUserFromCli(spec);
    Object.assign(of(created.name), created);
  }
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

/**
 * --add-user NAME[:groups=a+b][:shell=/bin/bash][:uid=N][:comment=TEXT][:sudo]: a user to
 * create (":" cannot be in any of the values: /etc/passwd's own separator).
 */
export function addUserFromCli(spec: string): v.User {
  const [name, ...parts] = spec.split(':');
  const u: v.User = { name, create: true };
  for (const part of parts) {
    const [k, ...rest] = part.split('=');
    const value = rest.join('=');
    if (k === 'sudo' && !rest.length) u.sudo = true;
    else if (k === 'groups' && value) u.groups = value.split('+').filter(Boolean);
    else if (k === 'shell' && value) u.shell = value;
    else if (k === 'comment' && value) u.comment = value;
    else if (k === 'uid' && /^\d+$/.test(value)) u.uid = Number(value);
    else throw new InputError('--add-user', `expects NAME[:groups=a+b][:shell=PATH][:uid=N][:comment=TEXT][:sudo], got ${JSON.stringify(part)} in ${JSON.stringify(spec)}`);
  }
  return u;
}

/** --add-group NAME[:GID], repeatable. */
function groupsFromCli(g: CliGiven): v.Group[] | undefined {
  const specs = (g.get('--add-group') as string[] | undefined) ?? [];
  const groups = specs.map((spec) => {
    const m = /^([^:]+)(?::(\d+))?$/.exec(spec);
    if (!m) throw new InputError('--add-group', `expects NAME or NAME:GID, got ${JSON.stringify(spec)}`);
    return { name: m[1], ...(m[2] !== undefined ? { gid: Number(m[2]) } : {}) };
  });
  return groups.length ? groups : undefined;
}

/** --write-file DEST:MODE:FILE (FILE on this machine) and --file-owner OWNER[:GROUP]:DEST, repeatable. */
function filesFromCli(g: CliGiven): v.GuestFile[] | undefined {
  const files = ((g.get('--write-file') as string[] | undefined) ?? []).map((spec): v.GuestFile => {
    const m = /^(\/.*?):([0-7]{3,4}):(.+)$/.exec(spec);
    if (!m) throw new InputError('--write-file', `expects DEST:MODE:FILE (an absolute guest path, octal mode, a local file), got ${JSON.stringify(spec)}`);
    return { path: m[1], mode: m[2], content: g.text('--write-file', m[3]) };
  });
  for (const spec of (g.get('--file-owner') as string[] | undefined) ?? []) {
    const m = /^([^:/]+)(?::([^:/]+))?:(\/.*)$/.exec(spec);
    if (!m) throw new InputError('--file-owner', `expects OWNER[:GROUP]:DEST, got ${JSON.stringify(spec)}`);
    const f = files.find((x) => x.path === m[3]);
    if (!f) throw new InputError('--file-owner', `${m[3]} is not written by a --write-file`);
    f.owner = m[1];
    if (m[2] !== undefined) f.group = m[2];
  }
  return files.length ? files : undefined;
}

/** --enable-service UNIT, --disable-service UNIT, repeatable. */
function servicesFromCli(g: CliGiven): v.Services | undefined {
  const enable = (g.get('--enable-service') as string[] | undefined) ?? [];
  const disable = (g.get('--disable-service') as string[] | undefined) ?? [];
  if (!enable.length && !disable.length) return undefined;
  return { ...(enable.length ? { enable } : {}), ...(disable.length ? { disable } : {}) };
}

/** --keyboard LAYOUT[:VARIANT]. */
function keyboardFromCli(g: CliGiven): v.Keyboard | undefined {
  const raw = g.get('--keyboard') as string | undefined;
  if (raw === undefined) return undefined;
  const [layout, variant, ...rest] = raw.split(':');
  if (rest.length || !layout) throw new InputError('--keyboard', `expects LAYOUT or LAYOUT:VARIANT, got ${JSON.stringify(raw)}`);
  return { layout, ...(variant !== undefined ? { variant } : {}) };
}

/** install / uninstall: a package list given to the guest's package manager by virt-customize. */
function packagesEntry(key: string, flag: '--install' | '--uninstall', label: string, help: string): Customization<string[]> {
  return entry({
    key,
    flag,
    label,
    help,
    secret: false,
    needsNetwork: true,
    operation: 'customize',
    role: 'operator',
    widget: 'list',
    placeholder: 'one package per line',
    cli: cliList(`${flag} <pkgs>`, help),
    schema: z.array(v.packageName).min(1).max(256),
    toArgs: (pkgs) => [flag, pkgs.join(',')],
  });
}

/** A generated script as virt-customize's `--run FILE` (a 0600 file, never argv). */
const runScript = (text: string, files: FilePlanner): string[] => ['--run', files.file(text)];

/** An entry whose value becomes one script of the guest's own tools (shared/catalog/guest/), run offline. */
type ScriptEntry<T> = Omit<Customization<T>, 'flag' | 'needsNetwork' | 'operation' | 'toArgs'> & { script(value: T): string };
function scriptEntry<T>({ script, ...c }: ScriptEntry<T>): Customization<T> {
  return entry({ ...c, flag: '--run', needsNetwork: false, operation: 'customize', toArgs: (value, files) => runScript(script(value), files) });
}

export const CUSTOMIZATIONS: readonly Customization[] = bake([
  entry({
    key: 'hostname',
    flag: '--hostname, --run',
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
    // The tool's own step, then a check that writes /etc/hostname where the tool could not
    // (guest/hostname.ts: virt-customize 1.48 does not know Rocky or AlmaLinux).
    toArgs: (value, files) => ['--hostname', value, ...runScript(hostnameScript(value), files)],
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
    toArgs: (value, files) => ['--root-password', passwordSelector(value, files), ...PASSWORD_CRYPTO],
  }),
  // Before `users`: virt-customize runs its options in order, and users join these groups.
  scriptEntry({
    key: 'groups',
    label: 'Create groups',
    help: "Create these groups with the guest's groupadd (an existing group is kept)",
    secret: false,
    role: 'operator',
    widget: 'yaml',
    placeholder: '- name: students\n  gid: 2000',
    cli: {
      flags: [{ option: '--add-group <name[:gid]>', repeatable: true, help: "create the group NAME (with group id GID) with the guest's groupadd (repeatable)" }],
      parse: groupsFromCli,
    },
    schema: z.array(v.group).min(1).max(256),
    script: groupsScript,
  }),
  entry({
    key: 'users',
    flag: '--run, --password, --ssh-inject',
    label: 'Users: accounts, passwords and SSH keys',
    help: "Create users with the guest's useradd or change existing ones: groups, shell, sudo, password, SSH public keys",
    secret: true,
    needsNetwork: false,
    operation: 'customize',
    // Keys and plain accounts are fine for an operator; what grants more than the account
    // itself (a password, sudo, supplementary groups such as wheel or docker) is an admin's.
    role: 'operator',
    restricted: (users) =>
      users.flatMap((u, i) =>
        u && typeof u === 'object'
          ? ([['password', 'passwords'], ['sudo', 'sudo rights'], ['groups', 'group memberships']] as const)
            .filter(([part]) => part in u)
            .map(([part, what]) => ({ path: `[${i}].${part}`, role: 'admin' as const, what }))
          : [],
      ),
    widget: 'users',
    cli: {
      flags: [
        { option: '--ssh-key-file <file>', repeatable: true, readsFile: true, fills: 'sshKeys', help: "inject the public keys of FILE (one per line) into root's authorized_keys (or --user's)" },
        { option: '--user <name>', fills: 'name', help: 'the existing user that --ssh-key-file and --user-password-file apply to (default root)' },
        { option: '--user-password-file <file>', readsFile: true, fills: 'password', help: "set --user's password: the first line of FILE" },
        { option: '--ssh-inject <user:file:FILE|user:string:KEY>', repeatable: true, fills: 'sshKeys', help: "inject a public key (from FILE, or KEY itself) into USER's authorized_keys (virt-sysprep's syntax; repeatable)" },
        { option: '--add-user <name[:groups=a+b][:shell=PATH][:uid=N][:comment=TEXT][:sudo]>', repeatable: true, fills: ['create', 'uid', 'comment', 'shell', 'groups', 'sudo'], help: "create the user NAME with the guest's useradd: its groups, shell, uid, comment, and sudo rights (repeatable)" },
      ],
      parse: usersFromCli,
    },
    schema: z.array(v.user).max(256),
    toArgs: (users, files) => {
      // The accounts first: --ssh-inject reads the new user's home from /etc/passwd.
      const accounts = usersScript(users);
      return [
        ...(accounts ? runScript(accounts, files) : []),
        ...users.flatMap((u) => [
          ...(u.password ? ['--password', `${u.name}:${passwordSelector(u.password, files)}`] : []),
          ...(u.sshKeys?.length ? ['--ssh-inject', `${u.name}:file:${files.file(u.sshKeys.join('\n') + '\n')}`] : []),
        ]),
        ...(users.some((u) => u.password) ? PASSWORD_CRYPTO : []),
      ];
    },
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
  packagesEntry('install', '--install', 'Install packages', 'Install these packages (needs the guest network)'),
  // The package managers may refresh their metadata before removing (dnf does): network too.
  packagesEntry('uninstall', '--uninstall', 'Remove packages', "Remove these packages with the guest's package manager (needs the guest network)"),
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
  scriptEntry({
    key: 'identity',
    label: 'Identity items',
    help: "Remove, empty or edit the identity items of ovirt-sysprep's catalogue (docs/identity.md) in the guest, for its own family and on every virt-sysprep version: all, or item names",
    secret: false,
    role: 'operator',
    widget: 'list',
    placeholder: 'all',
    cli: cliList('--identity <items>', 'Reset these identity items of the catalogue (all, or item names)'),
    schema: identityValue,
    script: (value) => identityScript(selectedItems(value)),
  }),
  scriptEntry({
    key: 'network',
    label: 'Network interfaces',
    help: "Configure the guest's interfaces (DHCP, or a static IPv4 address per VM with gateway, DNS and search domains) in its own network configuration format, replacing the template's",
    secret: false,
    role: 'operator',
    widget: 'yaml',
    placeholder: '- name: eth0\n  address: { ipFromIndex: 192.0.2.100/24 }\n  gateway: 192.0.2.1\n  dns: [192.0.2.53]',
    cli: nicCli,
    schema: networkSchema,
    render: renderNetwork,
    uniqueAcrossVms: networkUniqueValues,
    script: (nics) => networkScript(renderedInterfaces(nics)),
  }),
  scriptEntry({
    key: 'files',
    label: 'Write files',
    help: 'Write these files into the guest with their mode and owner (an existing file is replaced)',
    // Their content may hold credentials, and `${...}` is common in files (shell, systemd):
    // secret as scripts are, so never stored, returned, or rendered as patterns.
    secret: true,
    // Any file: /etc/sudoers.d, /etc/shadow, a root cron job.
    role: 'admin',
    widget: 'yaml',
    placeholder: '- path: /etc/motd\n  mode: "0644"\n  content: |\n    Welcome',
    cli: {
      flags: [
        { option: '--write-file <dest:mode:file>', repeatable: true, readsFile: true, help: 'write the content of the local FILE to DEST in the guest with octal MODE (repeatable)' },
        { option: '--file-owner <owner[:group]:dest>', repeatable: true, fills: ['owner', 'group'], help: 'the owner (and group) of the file DEST given with --write-file (repeatable)' },
      ],
      parse: filesFromCli,
    },
    schema: z.array(v.guestFile).min(1).max(256),
    script: filesScript,
  }),
  scriptEntry({
    key: 'services',
    label: 'Enable or disable services',
    help: "Enable or disable systemd services with the guest's systemctl, offline",
    secret: false,
    // Disabling a service can switch off the guest's auditing or its firewall.
    role: 'admin',
    widget: 'yaml',
    placeholder: 'enable: [classroom-agent]\ndisable: [cups]',
    cli: {
      flags: [
        { option: '--enable-service <unit>', repeatable: true, fills: 'enable', help: 'enable this systemd unit in the guest (repeatable)' },
        { option: '--disable-service <unit>', repeatable: true, fills: 'disable', help: 'disable this systemd unit in the guest (repeatable)' },
      ],
      parse: servicesFromCli,
    },
    schema: v.services,
    script: servicesScript,
  }),
  scriptEntry({
    key: 'firewall',
    label: 'Open firewall ports',
    help: 'Open these ports in the guest firewall (firewalld or ufw); a guest with neither gets a warning in the job log',
    secret: false,
    role: 'admin',
    widget: 'yaml',
    placeholder: 'ports: ["80/tcp", "5900-5910/tcp"]',
    cli: {
      flags: [{ option: '--firewall-port <port/proto>', repeatable: true, fills: 'ports', help: 'open PORT/PROTOCOL or FIRST-LAST/PROTOCOL (e.g. 5900-5910/tcp) in the guest firewall (repeatable)' }],
      parse: (g) => {
        const ports = (g.get('--firewall-port') as string[] | undefined) ?? [];
        return ports.length ? { ports } : undefined;
      },
    },
    schema: v.firewall,
    script: firewallScript,
  }),
  scriptEntry({
    key: 'locale',
    label: 'Locale',
    help: 'Set the system locale (LANG) of the guest, e.g. de_DE.UTF-8',
    secret: false,
    role: 'operator',
    widget: 'text',
    placeholder: 'de_DE.UTF-8',
    cli: cliText('--locale <lang>', 'Set the system locale (LANG) of the guest, e.g. de_DE.UTF-8'),
    schema: v.locale,
    script: localeScript,
  }),
  scriptEntry({
    key: 'keyboard',
    label: 'Keyboard layout',
    help: 'Set the keyboard layout of the console and X (layout, variant, console keymap)',
    secret: false,
    role: 'operator',
    widget: 'yaml',
    placeholder: 'layout: de\nvariant: nodeadkeys',
    cli: {
      flags: [{ option: '--keyboard <layout[:variant]>', help: 'set the keyboard layout (and variant) of the guest console and X, e.g. de or de:nodeadkeys' }],
      parse: keyboardFromCli,
    },
    schema: v.keyboard,
    // Layout and variant go together: a request's layout with the profile's variant is no keyboard.
    merge: 'replace',
    script: keyboardScript,
  }),
  ...WINDOWS_CUSTOMIZATIONS,
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
    description: `${c.help} (${toolFlagOf(c)}${c.secret ? '; secret: never returned' : ''})`,
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
    os: osOf(c),
    role: c.role,
    widget: c.widget,
    ...(c.placeholder ? { placeholder: c.placeholder } : {}),
    cliFlags: c.cli.flags.map((f) => f.option.split(' ')[0]),
    schema: jsonSchemaOf(c),
  }));
}

/** Keys whose values are secret: redacted from everything stored or returned. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(CUSTOMIZATIONS.filter((c) => c.secret).map((c) => c.key));
