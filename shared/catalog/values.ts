// Value schemas for the customisation catalog. Each schema's messages are the ones the
// API, the CLI and the web page show, so they are written for an administrator.
import { z } from 'zod';

const NOT_FLAG = 'must not start with "-" (it would be read as an option)';
const notFlag = (v: string) => !v.startsWith('-');

/** A string that can never be read as a command-line option. */
export const safeString = () => z.string().min(1, 'must not be empty').refine(notFlag, NOT_FLAG);

const LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
export function isHostname(v: string): boolean {
  return v.length <= 253 && v.split('.').every((label) => LABEL.test(label));
}
export const hostname = safeString().refine(
  isHostname,
  'is not a valid hostname (letters, digits and "-", labels of 1-63 characters separated by ".")',
);

let zones: Set<string> | undefined;
export function isTimezone(v: string): boolean {
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);
  return zones.has(v);
}
export const timezone = safeString().refine(isTimezone, 'is not a known IANA time zone such as "Europe/Berlin"');

export const username = safeString().regex(
  /^[a-z_][a-z0-9_-]{0,31}$/,
  'is not a valid user name (lower-case letters, digits, "_" and "-", at most 32 characters)',
);

/** A list of user names (removeUsers, keepUsers). */
export const usernames = z.array(username).min(1, 'must name at least one user').max(256);

const KEY_TYPES = [
  'ssh-rsa',
  'ssh-ed25519',
  'ssh-dss',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
];
/** An OpenSSH public key line whose base64 blob really encodes its declared key type. */
export function isSshPublicKey(line: string): boolean {
  const m = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: [^\r\n]*)?$/.exec(line);
  if (!m || !KEY_TYPES.includes(m[1])) return false;
  // atob, not Buffer: the same code runs in the browser bundle.
  let blob: string;
  try {
    blob = atob(m[2].padEnd(Math.ceil(m[2].length / 4) * 4, '='));
  } catch {
    return false;
  }
  if (blob.length < 4 + m[1].length) return false;
  const len = ((blob.charCodeAt(0) << 24) | (blob.charCodeAt(1) << 16) | (blob.charCodeAt(2) << 8) | blob.charCodeAt(3)) >>> 0;
  return len === m[1].length && blob.slice(4, 4 + len) === m[1];
}
export const sshKey = safeString().refine(
  isSshPublicKey,
  'is not an OpenSSH public key ("TYPE BASE64 [comment]", e.g. "ssh-ed25519 AAAA... admin@example")',
);

export const password = z.union(
  [
    z.object({ value: z.string().min(1, 'must not be empty').max(1024) }).strict(),
    z.object({ random: z.literal(true) }).strict(),
    z.object({ disabled: z.literal(true) }).strict(),
  ],
  { error: 'must be {"value": "..."}, {"random": true} or {"disabled": true}' },
);
export type Password = z.infer<typeof password>;

export const packageName = safeString().regex(
  /^[a-zA-Z0-9][a-zA-Z0-9+._:-]*$/,
  'is not a valid package name',
);

export const guestPath = z
  .string()
  .regex(/^\/[^\0\n\r]*$/, 'must be an absolute path inside the guest, starting with "/"');

/** A list of guest paths (delete, truncate). */
export const guestPaths = z.array(guestPath).min(1).max(256);

/** virt-customize's `--chmod PERMISSIONS:FILE`: octal permissions, an absolute guest path. */
export const chmodSpec = z
  .string()
  .regex(/^[0-7]{3,4}:\/[^\0\n\r]*$/, 'must be PERMISSIONS:FILE with octal permissions and an absolute guest path, e.g. "0600:/etc/app.conf"');

export const script = z.string().min(1, 'must not be empty').max(1 << 20, 'is larger than 1 MiB');


// --- Declarative guest configuration (issue 14): accounts, files, services, firewall,
// locale, keyboard. Each value is turned into a script of the guest's own tools
// (shared/catalog/guest/), so every character that reaches it is checked here.

/** A group name: the same rules as a user name (shadow-utils' NAME_REGEX). */
export const groupName = safeString().regex(
  /^[a-z_][a-z0-9_-]{0,31}$/,
  'is not a valid group name (lower-case letters, digits, "_" and "-", at most 32 characters)',
);

/** Numeric ids an administrator may give: not root's, not nobody's (65534) nor -1's. */
const accountId = (what: string) =>
  z.number({ error: `must be a number (the ${what})` }).int(`must be a whole number (the ${what})`).min(1, `must be at least 1 (0 is root's)`).max(65533, 'must be at most 65533 (65534 is nobody, 65535 is reserved)');

export const group = z.object({ name: groupName, gid: accountId('group id').optional() }).strict();
export type Group = z.infer<typeof group>;

/** A login shell: an absolute path of plain characters (it lands in /etc/passwd). */
export const loginShell = z.string().regex(/^\/[A-Za-z0-9._+/-]*$/, 'must be an absolute path such as "/bin/bash" (letters, digits, ".", "_", "+", "-", "/")');

/** The GECOS field: no ":" (the /etc/passwd separator), no line break, no control character. */
export const gecos = z.string().max(256).regex(/^[^:\x00-\x1f\x7f]*$/, 'must not hold ":", line breaks or control characters').refine(notFlag, NOT_FLAG);

/** A guest path a file is written to: absolute, not a directory, no "." or ".." part. */
export const filePath = guestPath
  .refine((p) => !p.endsWith('/'), 'must name a file, not a directory (it ends with "/")')
  .refine((p) => !p.split('/').some((part) => part === '.' || part === '..'), 'must not contain "." or ".." parts');

/** An owner given by name or number, as chown takes it. */
export const ownerName = z.union([z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/), z.string().regex(/^\d{1,5}$/)], {
  error: 'must be a user or group name (lower-case letters, digits, "_", "-") or a number',
});

export const fileMode = z.string().regex(/^[0-7]{3,4}$/, 'must be octal permissions such as "0644"');

export const guestFile = z
  .object({
    path: filePath,
    content: z.string().max(1 << 20, 'is larger than 1 MiB').refine((c) => !c.includes('\0'), 'must not contain NUL bytes'),
    mode: fileMode,
    owner: ownerName.optional(),
    group: ownerName.optional(),
  })
  .strict();
export type GuestFile = z.infer<typeof guestFile>;

/** A systemd unit name ("sshd", "classroom-agent.service", "getty@tty2.service"). */
export const unitName = safeString().regex(/^[A-Za-z0-9:_.@\\-]{1,255}$/, 'is not a systemd unit name (letters, digits, ":", "_", ".", "@", "-")');

export const services = z
  .object({
    enable: z.array(unitName).max(256).optional(),
    disable: z.array(unitName).max(256).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.enable?.length && !s.disable?.length) ctx.addIssue({ code: 'custom', message: 'must name at least one service to enable or disable' });
    const both = (s.enable ?? []).filter((u) => (s.disable ?? []).includes(u));
    if (both.length) ctx.addIssue({ code: 'custom', path: ['disable'], message: `names ${both.join(', ')} in enable too` });
  });
export type Services = z.infer<typeof services>;

/** "80/tcp", "5900-5910/tcp": a port or an ascending range, and its protocol. */
export function firewallPortProblem(v: string): string | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?\/(tcp|udp|sctp|dccp)$/.exec(v);
  if (!m) return 'must be PORT/PROTOCOL or FIRST-LAST/PROTOCOL, e.g. "80/tcp" or "5900-5910/tcp" (tcp, udp, sctp, dccp)';
  const [lo, hi] = [Number(m[1]), Number(m[2] ?? m[1])];
  if (lo < 1 || hi > 65535) return 'ports must be between 1 and 65535';
  if (hi < lo) return 'the range must go upwards (FIRST-LAST with FIRST <= LAST)';
  return undefined;
}
export const firewallPort = z.string().superRefine((v, ctx) => {
  const problem = firewallPortProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
export const firewall = z.object({ ports: z.array(firewallPort).min(1, 'must name at least one port').max(256) }).strict();
export type Firewall = z.infer<typeof firewall>;

/** A POSIX locale name as LANG takes it: "de_DE.UTF-8", "en_US", "sr_RS@latin", "C.UTF-8". */
export const locale = safeString().regex(
  /^(C|POSIX|[a-z]{2,3}(_[A-Z]{2})?)(\.[A-Za-z0-9-]{1,32})?(@[a-z]{1,16})?$/,
  'is not a locale name such as "de_DE.UTF-8" (language_TERRITORY[.CHARSET][@modifier])',
);

const xkbName = (what: string) => z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, `is not ${what} (lower-case letters, digits, "_", "-")`);
export const keyboard = z
  .object({
    /** The X keyboard layout ("de", "fr", "us"). */
    layout: xkbName('an X keyboard layout such as "de"'),
    /** Its variant ("nodeadkeys"). */
    variant: xkbName('an X keyboard variant such as "nodeadkeys"').optional(),
    /** The console keymap (default: the layout, or LAYOUT-VARIANT). */
    keymap: xkbName('a console keymap such as "de-latin1"').optional(),
  })
  .strict();
export type Keyboard = z.infer<typeof keyboard>;

/**
 * A user: keys and a password for an existing one, or (`create`) an account made with the
 * guest's own useradd. `groups`, `shell`, `sudo` apply to created and existing users alike.
 */
export const user = z
  .object({
    name: username,
    password: password.optional(),
    sshKeys: z.array(sshKey).max(64).optional(),
    create: z.boolean().optional(),
    uid: accountId('user id').optional(),
    comment: gecos.optional(),
    shell: loginShell.optional(),
    /** Supplementary groups (they must exist, or be created by `groups`). */
    groups: z.array(groupName).max(64).optional(),
    /** A file in /etc/sudoers.d granting all commands (true), or removing ours (false). */
    sudo: z.boolean().optional(),
  })
  .strict()
  .superRefine((u, ctx) => {
    for (const key of ['uid', 'comment'] as const) {
      if (u[key] !== undefined && !u.create) ctx.addIssue({ code: 'custom', path: [key], message: 'is only set when the user is created ("create": true)' });
    }
  });
export type User = z.infer<typeof user>;
