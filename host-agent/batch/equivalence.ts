// The equivalence check: are two VMs' disks the same, file by file, except for the values
// that are random by design? Used to prove a batched reset does what a per-VM reset does
// (issue 16) and by users (`ovirt-sysprep-agent compare`). Steps of readTree, per VM:
//  1. one READ-ONLY guestfish session of its own on the VM's disks (two VMs never share
//     an appliance, so clones' shared filesystem UUIDs and labels cannot mix them up);
//  2. inspect-os, then per root its inspect-get-mountpoints, mounted read-only, shortest first;
//  3. one `tar-out / FIFO numericowner:true` per root: the archive streams through a named
//     pipe in a private temporary directory (nothing of the guest is written on the host)
//     and is hashed as it passes (tarEntries.ts);
//  4. umount-all, next root; close.
// compareTrees compares type, mode (with setuid/setgid/sticky), uid, gid, content
// (SHA-256), symlink target and device numbers exactly, EXCEPT where a RANDOM_BY_DESIGN
// rule applies: there only the rule's form is compared. Not compared: timestamps (every
// reset writes at its own time), extended attributes, SELinux labels, ACLs, and which
// names are hard links of which (each name's content is compared).
import { createReadStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IDENTITY_ITEMS } from '../../shared/identity/items';
import { run } from '../../shared/tools/exec';
import { GuestfishError, GuestfishSession } from '../inspection/GuestfishSession';
import { lines, parseMountpoints } from '../inspection/guestfishOutput';
import { readTarMembers, TarMember } from './tarEntries';

/** One file, directory, symlink or other entry of a VM (the fields of a tar member, tarEntries.ts). */
export interface TreeEntry extends Omit<TarMember, 'content'> {
  /** For files a RANDOM_BY_DESIGN rule reads by content: the content reduced to its form. */
  form?: string;
}

export interface Difference {
  path: string;
  what: string;
}

/**
 * How a random-by-design path is compared:
 *  - 'content-form': the rule's `form(content)` (readTree computes it), plus type, mode, owner;
 *  - 'size': same size, type, mode, owner (random bytes of a fixed length);
 *  - 'presence': same type, mode, owner (content and size are the guest's own business).
 */
export interface RandomRule {
  /** Absolute guest path; `*` matches within one name; the rule covers everything below it too. */
  path: string;
  compare: 'content-form' | 'size' | 'presence';
  form?: (content: Buffer) => string;
  /** One line: why it differs between two correct resets. */
  reason: string;
}

const MACHINE_ID_FORM = (c: Buffer): string => {
  const s = c.toString('utf8');
  if (s === '') return 'empty';
  if (/^[0-9a-f]{32}\n?$/.test(s)) return '32 hex';
  if (s === 'uninitialized\n') return 'uninitialized';
  return `other (${s.length} bytes)`;
};

/** A crypt(3) hash -> "$id$" (+ "rounds=" if given) + salt length + hash length; "!"/"*" locks kept. */
export function cryptForm(field: string): string {
  const lock = /^[!*]*/.exec(field)![0];
  const rest = field.slice(lock.length);
  const m = /^\$([^$]+)\$(rounds=\d+\$)?([^$]*)\$([^$:]*)$/.exec(rest);
  if (!m) return field; // no hash ("", "*", "!", "x"): compared exactly
  return `${lock}$${m[1]}$${m[2] ?? ''}salt${m[3].length}$hash${m[4].length}`;
}

/** /etc/shadow and gshadow: every line exactly, except the hash field reduced to its form. */
const SHADOW_FORM = (c: Buffer): string =>
  c.toString('utf8').split('\n').map((l) => {
    const f = l.split(':');
    if (f.length < 2) return l;
    f[1] = cryptForm(f[1]);
    return f.join(':');
  }).join('\n');

const itemPaths = (name: string): readonly string[] => IDENTITY_ITEMS.find((i) => i.name === name)?.paths ?? [];

/**
 * The values two correct resets of one disk write differently. The first rules are what
 * virt-sysprep/virt-customize write anew in every run; the rest come from the identity
 * catalogue (shared/identity/items.ts, action 'regenerate': a service recreates them
 * with new random values; after a reset they are normally absent on both sides).
 */
export const RANDOM_BY_DESIGN: readonly RandomRule[] = [
  { path: '/etc/machine-id', compare: 'content-form', form: MACHINE_ID_FORM,
    reason: 'virt-customize writes a new random machine id into an empty /etc/machine-id (or it stays empty): 32 hex digits or empty' },
  ...itemPaths('random-seed').map((p): RandomRule => ({ path: p, compare: 'size',
    reason: 'virt-customize writes new random bytes into the seed file in every run: same size' })),
  ...['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-'].map((p): RandomRule => ({ path: p, compare: 'content-form', form: SHADOW_FORM,
    reason: 'crypt salts are random (and so are `random` passwords): a hash is compared by its $id$, salt and hash lengths, every other field exactly' })),
  ...IDENTITY_ITEMS.filter((i) => i.action === 'regenerate' && i.name !== 'random-seed').flatMap((i) => i.paths.map((p): RandomRule => ({
    path: p,
    compare: p === '/var/lib/NetworkManager/secret_key' ? 'size' : 'presence',
    reason: `${i.title}: recreated with new random values (${i.firstBoot ?? 'by a guest service'})`,
  }))),
];

const ruleRegex = (glob: string): RegExp =>
  new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}(/.*)?$`);
const RULE_MATCHERS = RANDOM_BY_DESIGN.map((r) => ({ rule: r, re: ruleRegex(r.path) }));

/** The first random-by-design rule covering a path, if any. */
export function randomRuleFor(p: string): RandomRule | undefined {
  return RULE_MATCHERS.find((m) => m.re.test(p))?.rule;
}

/** The `form` a rule gives a file's content (undefined when no content-form rule applies). */
export function formOf(p: string, content: Buffer): string | undefined {
  const r = randomRuleFor(p);
  return r?.compare === 'content-form' ? r.form!(content) : undefined;
}

const oct = (m: number) => (m & 0o7777).toString(8);

/** Differences between two trees, sorted by path (empty: equal). */
export function compareTrees(a: TreeEntry[], b: TreeEntry[]): Difference[] {
  const bm = new Map(b.map((e) => [e.path, e]));
  const am = new Map(a.map((e) => [e.path, e]));
  const diffs: Difference[] = [];
  for (const x of a) {
    const y = bm.get(x.path);
    if (!y) { diffs.push({ path: x.path, what: 'only in a' }); continue; }
    diffs.push(...compareEntry(x, y).map((what) => ({ path: x.path, what })));
  }
  for (const y of b) if (!am.has(y.path)) diffs.push({ path: y.path, what: 'only in b' });
  return diffs.sort((p, q) => (p.path < q.path ? -1 : p.path > q.path ? 1 : 0));
}

function compareEntry(x: TreeEntry, y: TreeEntry): string[] {
  if (x.type !== y.type) return [`type ${x.type} != ${y.type}`];
  const w: string[] = [];
  if ((x.mode & 0o7777) !== (y.mode & 0o7777)) w.push(`mode ${oct(x.mode)} != ${oct(y.mode)}`);
  if (x.uid !== y.uid) w.push(`uid ${x.uid} != ${y.uid}`);
  if (x.gid !== y.gid) w.push(`gid ${x.gid} != ${y.gid}`);
  if ((x.target ?? '') !== (y.target ?? '')) w.push(`target ${x.target ?? ''} != ${y.target ?? ''}`);
  if (x.type !== 'f') return w;
  const rule = randomRuleFor(x.path);
  if (rule?.compare === 'presence') return w;
  if (rule?.compare === 'size') {
    if (x.size !== y.size) w.push(`size ${x.size} != ${y.size} (random by design: ${rule.path}, same size expected)`);
    return w;
  }
  if (rule?.compare === 'content-form') {
    if (x.form !== y.form) w.push(`form ${short(x.form)} != ${short(y.form)} (random by design: ${rule.path})`);
    return w;
  }
  if (x.size !== y.size) w.push(`content (size ${x.size} != ${y.size})`);
  else if (x.sha256 !== y.sha256) w.push('content');
  return w;
}

const short = (s: string | undefined) => (s === undefined ? '(unread)' : s.length > 60 ? `${s.slice(0, 57)}...` : JSON.stringify(s));

export class TreeReadError extends Error {}

/** Every file of one VM (its disks, one read-only guestfish session of its own, inspect-os then mounts). */
export async function readTree(opts: { bin: string; disks: { path: string; format: string }[]; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<TreeEntry[]> {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'ovirt-sysprep-compare-'));
  let session: GuestfishSession | undefined;
  try {
    session = await GuestfishSession.open(opts.bin, opts.disks, opts.env, opts.timeoutMs);
    const roots = lines(await session.get('inspect-os'));
    if (roots.length === 0) throw new TreeReadError(`no operating system found on ${opts.disks.map((d) => d.path).join(', ')}`);
    const tree: TreeEntry[] = [];
    for (const [i, root] of roots.entries()) {
      // One root (the usual case): guest paths as they are; several: each under "[root DEVICE]".
      const prefix = roots.length > 1 ? `[root ${root}]` : '';
      for (const mp of parseMountpoints((await session.get('inspect-get-mountpoints', root)) ?? '')) {
        const r = await session.call('mount-ro', mp.device, mp.path);
        if (r.error) throw new TreeReadError(`cannot mount ${mp.device} on ${mp.path} (root ${root}): ${r.error}`);
      }
      const fifo = path.join(dir, `tree-${i}`);
      await run('mkfifo', ['-m', '600', fifo]);
      const reading = readTarMembers(createReadStream(fifo), (p) => randomRuleFor(p)?.compare === 'content-form');
      reading.catch(() => undefined); // awaited below; a failed tar-out is reported first
      const r = await session.call('tar-out', '/', fifo, 'numericowner:true').catch(async (err) => { await unblock(fifo); throw err; });
      if (r.error) {
        await unblock(fifo);
        throw new TreeReadError(`tar-out of root ${root} failed: ${r.error}`);
      }
      for (const m of await reading) {
        const { content, ...e } = m;
        const form = content !== undefined ? formOf(m.path, content) : undefined;
        tree.push({ ...e, path: prefix + (prefix && m.path === '/' ? '' : m.path), ...(form !== undefined ? { form } : {}) });
      }
      await session.call('umount-all');
    }
    return tree;
  } catch (err) {
    if (err instanceof GuestfishError) throw new TreeReadError(err.message);
    throw err;
  } finally {
    await session?.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** A reader still blocked opening the fifo (guestfish failed or died before opening it) is let go: it would hold the process open. */
async function unblock(fifo: string): Promise<void> {
  try {
    const h = await fs.open(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    await h.close();
  } catch { /* the reader was not waiting */ }
}
