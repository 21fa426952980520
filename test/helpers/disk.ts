// Helpers to look inside guest disk images in tests (read-only libguestfs tools).
//
// Each libguestfs launch costs ~10-15 s on these machines (TCG), so prefer ONE
// guestRead() for several files over several guestCat()/guestExists() calls.

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { libguestfsEnv } from './guestImage';

const execFileAsync = promisify(execFile);
const TOOL_TIMEOUT_MS = 5 * 60 * 1000;

/** sha256 (hex) of a local file, streamed. */
export function sha256File(filePath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    const s = createReadStream(filePath);
    s.on('error', reject);
    s.on('data', (chunk) => h.update(chunk));
    s.on('end', () => resolve(h.digest('hex')));
  });
}

function checkGuestPath(p: string): void {
  if (!p.startsWith('/')) throw new Error(`guest path must be absolute: ${JSON.stringify(p)}`);
  if (/[\0\n\r]/.test(p)) throw new Error(`guest path has a control character: ${JSON.stringify(p)}`);
}

/** Quote a string for a guestfish script (double quotes, backslash escapes). */
function gfQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function run(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      env: libguestfsEnv(),
      maxBuffer: 64 * 1024 * 1024,
      timeout: TOOL_TIMEOUT_MS,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

/** The disks of one guest: one image, or all of a multi-disk guest's, in order. */
export type GuestDisks = string | readonly string[];

/**
 * Run guestfish with inspection (-i) on the disks of one guest, feeding `script` on
 * stdin: read-only unless `readWrite` (fixtures that plant files: batchImages.ts).
 */
export function guestfish(disk: GuestDisks, script: string, opts: { readWrite?: boolean } = {}): Promise<{ stdout: string; stderr: string }> {
  const disks = typeof disk === 'string' ? [disk] : [...disk];
  return new Promise((resolve, reject) => {
    const child = spawn('guestfish', [...(opts.readWrite ? [] : ['--ro']), ...disks.flatMap((d) => ['-a', d]), '-i'], {
      env: libguestfsEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`guestfish on ${disks.join(', ')} exited ${code ?? signal}: ${stderr}`));
    });
    child.stdin.on('error', () => { /* reported through close */ });
    child.stdin.end(script);
  });
}

/** Contents of one guest file (virt-cat). Throws if it does not exist. */
export async function guestCat(disk: string, guestPath: string): Promise<string> {
  checkGuestPath(guestPath);
  return run('virt-cat', ['-a', disk, guestPath]);
}

/** Whether a guest path exists (file, directory, symlink target, ...). */
export async function guestExists(disk: string, guestPath: string): Promise<boolean> {
  checkGuestPath(guestPath);
  const { stdout } = await guestfish(disk, `exists ${gfQuote(guestPath)}\n`);
  return stdout.trim() === 'true';
}

/** Names in a guest directory (virt-ls, not recursive), sorted. */
export async function guestLs(disk: string, dir: string): Promise<string[]> {
  checkGuestPath(dir);
  const out = await run('virt-ls', ['-a', disk, dir]);
  return out.split('\n').filter((l) => l !== '').sort();
}

/**
 * Read several guest files in ONE libguestfs launch (all disks of the guest, mounted
 * as its fstab says). Each value is the file's content
 * (utf8), or null when the path is absent or not a regular file. Uses guestfish
 * `download` with the `-` prefix so a missing path does not abort the script.
 */
export async function guestRead(disk: GuestDisks, paths: string[]): Promise<Record<string, string | null>> {
  const result: Record<string, string | null> = {};
  if (paths.length === 0) return result;
  for (const p of paths) checkGuestPath(p);
  const unique = [...new Set(paths)];
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'guestread-'));
  try {
    const lines: string[] = [];
    unique.forEach((p, i) => {
      // is-file follows symlinks; a non-file or missing path yields no local file.
      lines.push(`-echo __ISFILE_${i}__`, `-is-file ${gfQuote(p)} followsymlinks:true`);
      lines.push(`-download ${gfQuote(p)} ${gfQuote(path.join(tmp, String(i)))}`);
    });
    const { stdout } = await guestfish(disk, `${lines.join('\n')}\n`);
    const isFile = new Map<number, boolean>();
    const re = /__ISFILE_(\d+)__\n(true|false)/g;
    for (let m = re.exec(stdout); m; m = re.exec(stdout)) isFile.set(Number(m[1]), m[2] === 'true');
    await Promise.all(unique.map(async (p, i) => {
      if (isFile.get(i) !== true) {
        result[p] = null;
        return;
      }
      try {
        result[p] = await fs.readFile(path.join(tmp, String(i)), 'utf8');
      } catch {
        result[p] = null;
      }
    }));
    return result;
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** A QEMU process holding an image's write lock, as a running VM would. */
export interface DiskHolder {
  /** Whether the holder is gone before release() was called (the lock may have gone with it). */
  readonly exitedEarly: () => boolean;
  /** Kills the holder (if still there) and waits until the image's write lock is free. */
  release(): Promise<void>;
}

function writeLocked(file: string): Promise<boolean> {
  return execFileAsync('qemu-img', ['info', '--', file]).then(() => false, () => true);
}

async function waitLock(file: string, held: boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while ((await writeLocked(file)) !== held) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} on ${file}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Opens `file` read-write in qemu-io, which keeps it (and its write lock) while its stdin
 * stays open, and resolves once `qemu-img info` sees the lock.
 */
export async function holdWriteLock(file: string, format = 'qcow2'): Promise<DiskHolder> {
  const child = spawn('qemu-io', ['-f', format, '--', file], { stdio: ['pipe', 'ignore', 'ignore'] });
  let released = false;
  let early = false;
  child.once('exit', () => {
    if (!released) early = true;
  });
  const release = async () => {
    released = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // ChildProcess.kill never throws
    await waitLock(file, false, 'the write lock to go');
  };
  try {
    await waitLock(file, true, 'qemu-io to hold the write lock');
  } catch (e) {
    await release().catch(() => undefined);
    throw e;
  }
  return { exitedEarly: () => early, release };
}
