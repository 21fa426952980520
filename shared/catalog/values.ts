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

export const user = z
  .object({
    name: username,
    password: password.optional(),
    sshKeys: z.array(sshKey).max(64).optional(),
  })
  .strict();
export type User = z.infer<typeof user>;
