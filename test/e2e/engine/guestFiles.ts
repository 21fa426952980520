// Reads guest files from SEVERAL disk images in ONE libguestfs launch (each launch costs
// 15-30 s here): every disk is added read-only, then its first partition is mounted in
// turn. Each image must be a one-partition guest like the test fixture.
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { IdentityItem } from '../../../shared/identity';
import { libguestfsEnv } from '../../helpers/guestImage';
import { GuestFile, identityState, ItemState, pathOfItem } from '../../helpers/identityView';

const execFileAsync = promisify(execFile);

const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** guestfish read-only on `disks`, fed `lines` as its script: its stdout. */
function guestfishOn(disks: string[], lines: string[]): Promise<string> {
  if (disks.length > 26) throw new Error('at most 26 disks per launch (/dev/sda to /dev/sdz)');
  return new Promise<string>((resolve, reject) => {
    const child = spawn('guestfish', ['--ro', ...disks.flatMap((d) => ['-a', d])], { env: libguestfsEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`guestfish exited ${code}: ${err}`))));
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

/** result[disk][guestPath]: the content, or null when absent / not a regular file. */
export async function readGuestFiles(disks: string[], paths: string[]): Promise<Record<string, Record<string, string | null>>> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'guestfiles-'));
  try {
    const lines = ['run'];
    disks.forEach((_, d) => {
      const dev = `/dev/sd${String.fromCharCode(97 + d)}1`;
      lines.push(`mount-ro ${dev} /`);
      paths.forEach((p, i) => {
        lines.push(`-echo __F_${d}_${i}__`, `-is-file ${q(p)} followsymlinks:true`, `-download ${q(p)} ${q(path.join(tmp, `${d}-${i}`))}`);
      });
      lines.push('umount /');
    });
    const stdout = await guestfishOn(disks, lines);
    const isFile = new Map<string, boolean>();
    for (const m of stdout.matchAll(/__F_(\d+)_(\d+)__\n(true|false)/g)) isFile.set(`${m[1]}-${m[2]}`, m[3] === 'true');
    const result: Record<string, Record<string, string | null>> = {};
    for (const [d, disk] of disks.entries()) {
      result[disk] = {};
      for (const [i, p] of paths.entries()) {
        result[disk][p] = isFile.get(`${d}-${i}`) ? await fs.readFile(path.join(tmp, `${d}-${i}`), 'utf8').catch(() => null) : null;
      }
    }
    return result;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * result[disk][name]: the output of guestfish command `commands[name]` (`stat /etc/x`,
 * `readlink /x`, ...) on each disk, all in ONE launch like readGuestFiles; a command that
 * fails gives null (its error is not an answer).
 */
export async function guestCommands(disks: string[], commands: Record<string, string>): Promise<Record<string, Record<string, string | null>>> {
  const names = Object.keys(commands);
  const lines = ['run'];
  disks.forEach((_, d) => {
    lines.push(`mount-ro /dev/sd${String.fromCharCode(97 + d)}1 /`);
    names.forEach((n, i) => lines.push(`-echo __C_${d}_${i}__`, `-${commands[n]}`, `-echo __E_${d}_${i}__`));
    lines.push('umount /');
  });
  // A failed command (-) goes to stderr and leaves its markers with nothing between them.
  const stdout = await guestfishOn(disks, lines);
  const result: Record<string, Record<string, string | null>> = {};
  disks.forEach((disk, d) => {
    result[disk] = {};
    names.forEach((n, i) => {
      const m = new RegExp(`__C_${d}_${i}__\\n([\\s\\S]*?)__E_${d}_${i}__\\n`).exec(stdout);
      result[disk][n] = m && m[1] !== '' ? m[1] : null;
    });
  });
  return result;
}

/**
 * result[disk][item]: what each disk still carries of each identity item (identityView.ts),
 * all disks in ONE launch like readGuestFiles. Each top directory the items live in (/etc,
 * /var, /root, /home) is copied out whole with one `tar-out` per disk (a command per
 * item path and glob match costs ~150 round trips per disk, minutes under TCG); the
 * items' paths and globs are then matched on this side, links not followed (as the
 * identity script does).
 */
export async function readIdentityItems(disks: string[], items: readonly IdentityItem[]): Promise<Record<string, Record<string, ItemState>>> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'identity-'));
  try {
    const tops = [...new Set(items.flatMap((i) => i.paths.map((p) => `/${p.split('/')[1]}`)))].sort();
    const tarOf = (d: number, t: number) => path.join(tmp, `${d}-${t}.tar`);
    const lines = ['run'];
    disks.forEach((_, d) => {
      lines.push(`mount-ro /dev/sd${String.fromCharCode(97 + d)}1 /`);
      tops.forEach((top, t) => lines.push(`-tar-out ${q(top)} ${q(tarOf(d, t))}`));
      lines.push('umount /');
    });
    await guestfishOn(disks, lines);
    const result: Record<string, Record<string, ItemState>> = {};
    for (const [d, disk] of disks.entries()) {
      const files: GuestFile[] = [];
      for (const [t, top] of tops.entries()) {
        const root = path.join(tmp, `${d}`, top);
        await fs.mkdir(root, { recursive: true });
        // A top directory the guest lacks leaves no archive: nothing of it.
        if (!(await fs.stat(tarOf(d, t)).catch(() => null))?.size) continue;
        await execFileAsync('tar', ['-xf', tarOf(d, t), '-C', root, '--no-same-owner']);
        for (const rel of await filesUnder(root)) files.push({ path: path.posix.join(top, rel), content: await fs.readFile(path.join(root, rel)) });
      }
      result[disk] = Object.fromEntries(items.map((item) => [item.name, identityState(item, files.filter((f) => pathOfItem(item, f.path)))]));
    }
    return result;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Regular files below `dir` (links not followed), as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name))).sort();
}
