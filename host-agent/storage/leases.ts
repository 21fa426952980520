// Sanlock-style disk leases on top of proper-lockfile.
//
// Protocol:
//  1. The lease of a disk lives on the same storage as the disk, in
//     `<root>/.ovirt-sysprep-leases/`, named from the disk's identity (its real path), so
//     every host that sees the disk sees the lease. Never inside oVirt image dirs.
//  2. acquireAll sorts and de-duplicates the disks (no lock-order deadlock between jobs),
//     takes each lease (mkdir of `<name>.lock`, proper-lockfile) and writes the owner
//     record beside it (`<name>.owner.json`: host, job, pid, time). On any failure it
//     releases what it took, in reverse, and reports the holder of the busy lease.
//  3. While held, proper-lockfile refreshes the lock's mtime (heartbeat, every
//     timeout/4). A lease whose heartbeat stopped for `timeout` is stale and may be taken.
//  4. If the heartbeat fails (lease lost or stolen), onLost fires: the caller kills the
//     run, as sanlock kills the VM.
//  5. Before a step that cannot be undone (the commit), assertHeld checks every lease
//     again on the storage: the lock still there, the owner record still this job's, the
//     heartbeat younger than the timeout. A process stopped past the timeout (SIGSTOP, a
//     hung host) may have lost its lease without the heartbeat timer knowing yet.
//  6. releaseAll releases in reverse order and never hides the first error; an owner
//     record that another job wrote meanwhile (a stolen lease) is left alone.
//  7. On agent start, releaseOwnedBy(hostId) frees the leases a dead agent left behind.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import lockfile from 'proper-lockfile';
import { ConflictError, JobFailure, SysprepError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';

export const LEASE_DIR = '.ovirt-sysprep-leases';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const OVIRT_VOLUME = new RegExp(`^(.*/${UUID})/images/${UUID}/[^/]+$`);

/**
 * Where a disk's lease lives: for an oVirt file-domain volume
 * (`.../<sd-id>/images/<img-id>/<vol-id>`) in the storage domain's own directory, which
 * every host mounts (`/rhev/data-center/mnt` itself is local to each host); otherwise in
 * the storage root. Never inside an image directory.
 */
export function leaseDirFor(disk: { real: string; root: string }): string {
  const domain = OVIRT_VOLUME.exec(disk.real)?.[1];
  return path.join(domain && domain.startsWith(disk.root) ? domain : disk.root, LEASE_DIR);
}

export interface LeaseOwner {
  hostId: string;
  jobId: string;
  pid: number;
  acquiredAt: string;
  disk: string;
}

export interface Lease {
  disk: string;
  lockPath: string;
  ownerPath: string;
  release(): Promise<void>;
}

export class LeaseManager {
  private readonly renewFailures = new Set<() => void>();

  constructor(
    private readonly hostId: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** Called at each failed heartbeat (a lease lost or stolen: step 4), for the metrics. */
  onRenewFailure(listener: () => void): () => void {
    this.renewFailures.add(listener);
    return () => this.renewFailures.delete(listener);
  }

  paths(disk: { real: string; root: string }): { lockPath: string; ownerPath: string } {
    const id = createHash('sha256').update(disk.real).digest('hex').slice(0, 20);
    const base = path.join(leaseDirFor(disk), `${path.basename(disk.real).replace(/[^A-Za-z0-9._-]/g, '_')}-${id}`);
    return { lockPath: `${base}.lock`, ownerPath: `${base}.owner.json` };
  }

  async acquireAll(disks: { real: string; root: string }[], jobId: string, onLost: (err: SysprepError) => void): Promise<Lease[]> {
    const unique = [...new Map(disks.map((d) => [d.real, d])).values()].sort((a, b) => a.real.localeCompare(b.real));
    const held: Lease[] = [];
    try {
      for (const d of unique) held.push(await this.acquire(d, jobId, onLost));
      return held;
    } catch (err) {
      await this.releaseAll(held).catch((e) => this.logger.warn('lease release after failed acquire', { jobId, error: String(e) }));
      throw err;
    }
  }

  /** Age after which a lease whose heartbeat stopped may be taken (proper-lockfile's `stale`). */
  private get staleMs(): number {
    return Math.max(2_000, this.timeoutMs);
  }

  private async acquire(disk: { real: string; root: string }, jobId: string, onLost: (err: SysprepError) => void): Promise<Lease> {
    const { lockPath, ownerPath } = this.paths(disk);
    await mkdir(path.dirname(lockPath), { recursive: true });
    const stale = this.staleMs;
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(disk.real, {
        realpath: false,
        lockfilePath: lockPath,
        stale,
        update: Math.floor(stale / 4),
        retries: 0,
        onCompromised: (err) => {
          this.logger.error('lease lost', { jobId, disk: disk.real, error: err.message });
          this.renewFailures.forEach((notify) => notify());
          onLost(new JobFailure('LEASE_LOST', `lost the lease of ${disk.real}: ${err.message}`, { disk: disk.real }));
        },
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      const holder = await readOwner(ownerPath);
      const who = holder ? `job ${holder.jobId} on host ${holder.hostId} (pid ${holder.pid}, since ${holder.acquiredAt})` : 'another job';
      throw new ConflictError('LEASE_HELD', `disk ${disk.real} is leased by ${who}`, { disk: disk.real, holder });
    }
    const owner: LeaseOwner = { hostId: this.hostId, jobId, pid: process.pid, acquiredAt: new Date().toISOString(), disk: disk.real };
    await writeFile(ownerPath, JSON.stringify(owner) + '\n', { mode: 0o644 });
    return {
      disk: disk.real,
      lockPath,
      ownerPath,
      release: async () => {
        const current = await readOwner(ownerPath);
        if (current?.jobId === jobId && current.hostId === this.hostId) await rm(ownerPath, { force: true });
        await release();
      },
    };
  }

  /** LEASE_LOST unless every lease is still this job's on the storage (step 5 of the protocol). */
  async assertHeld(leases: Lease[], jobId: string): Promise<void> {
    for (const lease of leases) {
      const why = await this.lossOf(lease, jobId);
      if (why) throw new JobFailure('LEASE_LOST', `lost the lease of ${lease.disk}: ${why}`, { disk: lease.disk });
    }
  }

  private async lossOf(lease: Lease, jobId: string): Promise<string | null> {
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(lease.lockPath)).mtimeMs;
    } catch {
      return 'its lock is gone';
    }
    const owner = await readOwner(lease.ownerPath);
    if (owner?.jobId !== jobId || owner.hostId !== this.hostId || owner.pid !== process.pid) {
      return owner ? `it is held by job ${owner.jobId} on host ${owner.hostId}` : 'its owner record is gone';
    }
    const age = Date.now() - mtimeMs;
    return age > this.staleMs ? `its heartbeat is ${Math.round(age / 1000)} s old (timeout ${this.staleMs / 1000} s): another host may have it` : null;
  }

  async releaseAll(leases: Lease[]): Promise<void> {
    let first: unknown;
    for (const lease of [...leases].reverse()) {
      try {
        await lease.release();
      } catch (err) {
        first ??= err;
        this.logger.warn('lease release failed', { disk: lease.disk, error: String(err) });
      }
    }
    if (first) throw first;
  }

  /** Frees leases recorded under this host id by a previous (dead) agent process. */
  async releaseOwnedBy(roots: readonly string[]): Promise<number> {
    let freed = 0;
    for (const dir of await leaseDirs(roots)) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.owner.json'))) {
        const ownerPath = path.join(dir, name);
        const owner = await readOwner(ownerPath);
        if (!owner || owner.hostId !== this.hostId || owner.pid === process.pid) continue;
        await rmdir(ownerPath.replace(/\.owner\.json$/, '.lock')).catch(() => undefined);
        await rm(ownerPath, { force: true });
        freed++;
      }
    }
    return freed;
  }

  /** The current holder of a disk's lease, if any (for tests and diagnostics). */
  async holder(disk: { real: string; root: string }): Promise<LeaseOwner | null> {
    const { lockPath, ownerPath } = this.paths(disk);
    const locked = await lockfile.check(disk.real, { realpath: false, lockfilePath: lockPath, stale: this.staleMs });
    return locked ? readOwner(ownerPath) : null;
  }
}

/** Lease directories under the roots: the roots' own and those of oVirt storage domains. */
async function leaseDirs(roots: readonly string[]): Promise<string[]> {
  const dirs: string[] = [];
  const walk = async (dir: string, depth: number) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name === LEASE_DIR) dirs.push(path.join(dir, e.name));
      else if (depth > 0 && e.name !== 'images' && !e.name.startsWith('.')) await walk(path.join(dir, e.name), depth - 1);
    }
  };
  // oVirt layout: <root>/<mount>/<sd-id>/.ovirt-sysprep-leases (depth 2 below the root).
  for (const root of roots) await walk(root, 2);
  return dirs;
}

async function readOwner(ownerPath: string): Promise<LeaseOwner | null> {
  try {
    return JSON.parse(await readFile(ownerPath, 'utf8'));
  } catch {
    return null;
  }
}
