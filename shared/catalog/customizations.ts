// The customisation catalog: one declarative entry per customisation an administrator can
// ask for. The argv builder, the validation, the REST listing, the CLI help and the web
// form are all generated from this list.
//
// Every entry runs inside a virt-sysprep operation (`customize` for virt-customize
// options, `user-account` for account removal): the spec resolver adds that operation
// and refuses the request when the caller explicitly disabled it.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import * as v from './values';

/** Files the argv builder asks for: secrets and scripts never travel in argv. */
export interface FilePlanner {
  /** Plans a 0600 file with this content and returns its absolute path. */
  file(content: string): string;
}

export interface Customization<T = any> {
  key: string;
  /** The virt-sysprep option it becomes. */
  flag: string;
  description: string;
  /** Its value is a secret: never in argv, logs, job records or responses. */
  secret: boolean;
  /** Needs the guest network (`--network`) when it produces any argument. */
  needsNetwork: boolean;
  /** The virt-sysprep operation it runs inside. */
  operation: 'customize' | 'user-account';
  schema: z.ZodType<T>;
  toArgs(value: T, files: FilePlanner): string[];
}

function passwordSelector(p: v.Password, files: FilePlanner): string {
  if ('disabled' in p) return 'disabled';
  // Random passwords are generated here rather than with virt-customize's `random`,
  // which prints the password on stdout (and so into the job log).
  const secret = 'value' in p ? p.value : randomBytes(18).toString('base64url');
  return `file:${files.file(secret)}`;
}

const entry = <T>(c: Customization<T>): Customization<T> => c;

export const CUSTOMIZATIONS: readonly Customization[] = [
  entry({
    key: 'hostname',
    flag: '--hostname',
    description: 'Set the hostname of the guest',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    schema: v.hostname,
    toArgs: (value) => ['--hostname', value],
  }),
  entry({
    key: 'rootPassword',
    flag: '--root-password',
    description: 'Set the root password: a value, a random one, or disabled',
    secret: true,
    needsNetwork: false,
    operation: 'customize',
    schema: v.password,
    toArgs: (value, files) => ['--root-password', passwordSelector(value, files)],
  }),
  entry({
    key: 'users',
    flag: '--password, --ssh-inject',
    description: 'Set passwords of existing users and inject SSH public keys into their authorized_keys',
    secret: true,
    needsNetwork: false,
    operation: 'customize',
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
    description: 'Remove these user accounts and their home directories',
    secret: false,
    needsNetwork: false,
    operation: 'user-account',
    schema: z.array(v.username).min(1, 'must name at least one user').max(256),
    toArgs: (names) => ['--remove-user-accounts', names.join(',')],
  }),
  entry({
    key: 'keepUsers',
    flag: '--keep-user-accounts',
    description: 'Remove every user account except these (and root)',
    secret: false,
    needsNetwork: false,
    operation: 'user-account',
    schema: z.array(v.username).min(1, 'must name at least one user').max(256),
    toArgs: (names) => ['--keep-user-accounts', names.join(',')],
  }),
  entry({
    key: 'timezone',
    flag: '--timezone',
    description: 'Set the time zone of the guest (IANA name such as Europe/Berlin)',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    schema: v.timezone,
    toArgs: (value) => ['--timezone', value],
  }),
  entry({
    key: 'scripts',
    flag: '--run',
    description: 'Shell scripts run inside the guest now, offline',
    secret: true,
    needsNetwork: false,
    operation: 'customize',
    schema: z.array(v.script).min(1).max(32),
    toArgs: (scripts, files) => scripts.flatMap((s) => ['--run', files.file(s)]),
  }),
  entry({
    key: 'firstboot',
    flag: '--firstboot',
    description: 'Shell scripts run inside the guest at its next boot',
    secret: true,
    needsNetwork: false,
    operation: 'customize',
    schema: z.array(v.script).min(1).max(32),
    toArgs: (scripts, files) => scripts.flatMap((s) => ['--firstboot', files.file(s)]),
  }),
  entry({
    key: 'install',
    flag: '--install',
    description: 'Install these packages (needs the guest network)',
    secret: false,
    needsNetwork: true,
    operation: 'customize',
    schema: z.array(v.packageName).min(1).max(256),
    toArgs: (pkgs) => ['--install', pkgs.join(',')],
  }),
  entry({
    key: 'update',
    flag: '--update',
    description: 'Update all packages (needs the guest network)',
    secret: false,
    needsNetwork: true,
    operation: 'customize',
    schema: z.boolean(),
    toArgs: (value) => (value ? ['--update'] : []),
  }),
  entry({
    key: 'delete',
    flag: '--delete',
    description: 'Delete these files or directories in the guest',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    schema: z.array(v.guestPath).min(1).max(256),
    toArgs: (paths) => paths.flatMap((p) => ['--delete', p]),
  }),
  entry({
    key: 'truncate',
    flag: '--truncate',
    description: 'Truncate these files in the guest to zero length (e.g. /etc/machine-id to seal a template)',
    secret: false,
    needsNetwork: false,
    operation: 'customize',
    schema: z.array(v.guestPath).min(1).max(256),
    toArgs: (paths) => paths.flatMap((p) => ['--truncate', p]),
  }),
];

export const CUSTOMIZATION_BY_KEY: ReadonlyMap<string, Customization> = new Map(
  CUSTOMIZATIONS.map((c) => [c.key, c]),
);

/** Customisation parameters as validated: keys of the catalog, typed values. */
export type Params = Record<string, unknown>;

export const paramsSchema = z
  .object(Object.fromEntries(CUSTOMIZATIONS.map((c) => [c.key, c.schema.optional()])))
  .strict();

/** The catalog as data (for the REST listing, the CLI help and the web form). */
export function describeCustomizations() {
  return CUSTOMIZATIONS.map((c) => ({
    key: c.key,
    flag: c.flag,
    description: c.description,
    secret: c.secret,
    needsNetwork: c.needsNetwork,
    operation: c.operation,
    schema: z.toJSONSchema(c.schema, { unrepresentable: 'any' }),
  }));
}

/** Keys whose values are secret: redacted from everything stored or returned. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(CUSTOMIZATIONS.filter((c) => c.secret).map((c) => c.key));
