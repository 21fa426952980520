// Where a job's secret and script files live while virt-sysprep reads them
// (`secrets_dir`, by default /run/ovirt-sysprep-agent: tmpfs under systemd, so a host
// crash or reboot loses them). One 0700 directory per job holds 0600 files; the run
// removes it when it ends. A run the agent did not see end (SIGKILL, OOM, power loss on
// a disk-backed dir) leaves it behind, so at start, before serving, the agent removes
// EVERY entry of the directory, whatever its journal says, and the `<data_dir>/private`
// of older versions.
//
// The directory is the agent's alone: created 0700, its mode enforced if it exists, a
// symlink or another owner's directory refused. An `.owner` record names the data dir
// of the agent using it; a second agent (another data dir) that finds the record of a
// live process refuses to start rather than delete files a running job still needs.
import { chmod, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from '../../shared/logger';

const OWNER = '.owner';

interface OwnerRecord {
  dataDir: string;
  pid: number;
}

export class SecretsDirError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class SecretsDir {
  private claimed = false;

  constructor(readonly dir: string, private readonly dataDir: string, private readonly logger: Logger) {}

  /**
   * Start-up, before serving: makes the directory ours (0700, owned by us, not claimed by
   * another live agent) and empties it, with the legacy `<data_dir>/private`.
   * Returns the names of the entries it removed.
   */
  async recover(): Promise<string[]> {
    await this.ensureDirectory();
    await this.assertNotShared();
    const removed = (await readdir(this.dir)).filter((n) => n !== OWNER);
    await Promise.all(removed.map((n) => rm(path.join(this.dir, n), { recursive: true, force: true })));
    const legacy = path.join(this.dataDir, 'private');
    const hadLegacy = await lstat(legacy).then(() => true, () => false);
    await rm(legacy, { recursive: true, force: true });
    const record: OwnerRecord = { dataDir: path.resolve(this.dataDir), pid: process.pid };
    await writeFile(path.join(this.dir, OWNER), JSON.stringify(record) + '\n', { mode: 0o600 });
    this.claimed = true;
    return hadLegacy ? [...removed, legacy] : removed;
  }

  /** The job's private directory (what the argv builder names its files in). */
  jobDir(jobId: string): string {
    return path.join(this.dir, jobId);
  }

  /**
   * Writes the job's files: a fresh 0700 directory, each file 0600 and new (never through
   * an existing name). A write that fails removes what it wrote (guarded.ts: a failed
   * acquire leaves nothing).
   */
  async write(jobId: string, files: readonly { path: string; content: string }[]): Promise<void> {
    const dir = this.jobDir(jobId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { mode: 0o700 });
    try {
      for (const f of files) {
        if (path.dirname(f.path) !== dir) throw new Error(`secret file ${f.path} is outside ${dir}`);
        await writeFile(f.path, f.content, { mode: 0o600, flag: 'wx' });
      }
    } catch (err) {
      await rm(dir, { recursive: true, force: true }).catch((e) => this.logger.error('cannot remove a half-written secrets directory', { dir, error: String(e) }));
      throw err;
    }
  }

  async remove(jobId: string): Promise<void> {
    await rm(this.jobDir(jobId), { recursive: true, force: true });
  }

  /** Graceful stop: the directory is free for another agent. */
  async release(): Promise<void> {
    if (!this.claimed) return;
    this.claimed = false;
    const record = await this.readOwner();
    if (record?.pid === process.pid && record.dataDir === path.resolve(this.dataDir)) await rm(path.join(this.dir, OWNER), { force: true });
  }

  private async ensureDirectory(): Promise<void> {
    let st = await lstat(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!st) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      st = await lstat(this.dir);
    }
    if (st.isSymbolicLink() || !st.isDirectory()) throw new SecretsDirError(`secrets_dir ${this.dir} is not a directory (a symlink or a file is refused)`);
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new SecretsDirError(`secrets_dir ${this.dir} belongs to uid ${st.uid}, not to this agent (uid ${process.getuid()})`);
    }
    if ((st.mode & 0o777) !== 0o700) {
      this.logger.warn('secrets_dir had a loose mode: set to 0700', { dir: this.dir, mode: (st.mode & 0o777).toString(8) });
      await chmod(this.dir, 0o700);
      if (((await lstat(this.dir)).mode & 0o777) !== 0o700) throw new SecretsDirError(`cannot make secrets_dir ${this.dir} mode 0700`);
    }
  }

  private async assertNotShared(): Promise<void> {
    const record = await this.readOwner();
    if (!record || record.dataDir === path.resolve(this.dataDir) || !alive(record.pid)) return;
    throw new SecretsDirError(
      `secrets_dir ${this.dir} is in use by the agent of data_dir ${record.dataDir} (pid ${record.pid}); give each agent its own secrets_dir`,
    );
  }

  private async readOwner(): Promise<OwnerRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(path.join(this.dir, OWNER), 'utf8'));
      return typeof r?.dataDir === 'string' && Number.isInteger(r?.pid) ? r : undefined;
    } catch {
      return undefined;
    }
  }
}
