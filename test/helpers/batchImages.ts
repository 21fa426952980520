// Test fixtures of batch mode (issue 16): guests whose clones collide when several are
// the disks of one appliance, and helpers to clone them, plant a marker per VM and read
// it back, and run the real virt-sysprep on a copy (the per-VM reference).
//
//   * two-disk guest: the debian tree (guestImage.ts) with /var on a second disk; fstab
//     mounts / and /var by UUID=, so every clone's specs name every other clone's disks.
//   * LVM guest: one disk, VG `vg_golden` with LVs root and var; fstab by
//     /dev/mapper/vg_golden-root and /dev/vg_golden/var, so clones share VG and LV names.
//
// Each image is built offline in ONE guestfish launch (partitions, LVM, mke2fs with fixed
// UUIDs, mounts, tar-in of the tree writeGuestTree makes, umount) and cached in
// FIXTURE_CACHE_DIR under a name hashing the tree, the layout and this builder's recipe,
// so a change to any of them rebuilds it (withBuildLock: several processes build once).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { guestfish, guestRead } from './disk';
import { FIXTURE_CACHE_DIR, guestTreeHash, libguestfsEnv, withBuildLock, writeGuestTree } from './guestImage';

const execFileAsync = promisify(execFile);

/** Bump when the procedure below changes in a way the layouts do not show. */
const BUILD_RECIPE = 'batchImages: qemu-img create qcow2, guestfish script, tar-in --numeric-owner v1';
const TOOL_TIMEOUT_MS = 10 * 60 * 1000;
/** virt-sysprep under TCG on a loaded 2-core machine: minutes, not seconds. */
const SYSPREP_TIMEOUT_MS = 20 * 60 * 1000;

/** The fixed filesystem UUIDs (fstab names them; fixed so the cache hash is stable). */
export const TWO_DISK_UUIDS = { root: '0f6b2f0e-5c1d-4b7a-9e21-7d3a1c2b4e01', var: '0f6b2f0e-5c1d-4b7a-9e21-7d3a1c2b4e02' } as const;
export const LVM_UUIDS = { root: '0f6b2f0e-5c1d-4b7a-9e21-7d3a1c2b4e11', var: '0f6b2f0e-5c1d-4b7a-9e21-7d3a1c2b4e12' } as const;
/** The LVM guest's volume group (every clone carries the same name and VG UUID). */
export const LVM_VG = 'vg_golden';
/** Where writeMarkers plants each VM's marker. */
export const MARKER_PATH = '/root/batch-marker';

// ---------------------------------------------------------------------------
// Layouts: everything that shapes an image besides the tree (all of it is hashed).

interface Layout {
  /** Cache name prefix. */
  name: string;
  /** Virtual sizes of the disks, in MiB (qcow2: only written blocks take room). */
  diskMiB: number[];
  /** /etc/fstab, replacing the tree's (which mounts / by the debian flavour's label). */
  fstab: string;
  /** guestfish commands after `run` that leave the guest's filesystems mounted at /. */
  prepare: string[];
}

const FSTAB_HEADER = '# <file system> <mount point> <type> <options> <dump> <pass>\n';

const TWO_DISK: Layout = {
  name: 'twodisk',
  diskMiB: [256, 128],
  fstab: `${FSTAB_HEADER}UUID=${TWO_DISK_UUIDS.root} / ext4 errors=remount-ro 0 1\nUUID=${TWO_DISK_UUIDS.var} /var ext4 defaults 0 2\n`,
  prepare: [
    'part-disk /dev/sda mbr',
    'part-disk /dev/sdb mbr',
    // No labels: only the UUIDs tie the fstab to the disks (label collisions are the
    // single-disk fixtures' case).
    `mke2fs /dev/sda1 fstype:ext4 uuid:${TWO_DISK_UUIDS.root}`,
    `mke2fs /dev/sdb1 fstype:ext4 uuid:${TWO_DISK_UUIDS.var}`,
    'mount /dev/sda1 /',
    'mkdir /var',
    'mount /dev/sdb1 /var',
  ],
};

/** An LVM guest on one disk whose volume group is `vg` (/ and /var on its LVs). */
const lvmLayout = (vg: string): Layout => ({
  name: vg === LVM_VG ? 'lvm' : `lvm-${vg}`,
  diskMiB: [384],
  fstab: `${FSTAB_HEADER}/dev/mapper/${vg}-root / ext4 errors=remount-ro 0 1\n/dev/${vg}/var /var ext4 defaults 0 2\n`,
  prepare: [
    'part-disk /dev/sda mbr',
    'part-set-mbr-id /dev/sda 1 0x8e',
    'pvcreate /dev/sda1',
    `vgcreate ${vg} /dev/sda1`,
    `lvcreate root ${vg} 256`,
    `lvcreate var ${vg} 96`,
    `mke2fs /dev/${vg}/root fstype:ext4 uuid:${LVM_UUIDS.root}`,
    `mke2fs /dev/${vg}/var fstype:ext4 uuid:${LVM_UUIDS.var}`,
    `mount /dev/${vg}/root /`,
    'mkdir /var',
    `mount /dev/${vg}/var /var`,
  ],
});

/** Quote a string for a guestfish script (double quotes, backslash escapes). */
const gfQuote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

async function layoutHash(layout: Layout): Promise<string> {
  const h = createHash('sha256');
  for (const part of [BUILD_RECIPE, await guestTreeHash('debian'), JSON.stringify(layout)]) h.update(part).update('\0');
  return h.digest('hex').slice(0, 16);
}

const diskName = (i: number) => `disk${i}.qcow2`;

/**
 * Builds a layout's disks into the directory `outDir` (created here): the debian tree
 * with the layout's fstab, tarred with numeric owners and unpacked by tar-in onto the
 * mounted filesystems, so /var lands on whatever the layout mounted there.
 */
async function buildLayout(layout: Layout, outDir: string): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `ovirt-sysprep-${layout.name}-`));
  try {
    const tree = path.join(work, 'tree');
    await fs.mkdir(tree);
    await writeGuestTree(tree, 'debian');
    await fs.writeFile(path.join(tree, 'etc', 'fstab'), layout.fstab);
    await fs.chmod(path.join(tree, 'etc', 'fstab'), 0o644);
    // tar records "." too: the guest's / gets its mode (mkdtemp's 0700 otherwise).
    await fs.chmod(tree, 0o755);
    const tar = path.join(work, 'tree.tar');
    await execFileAsync('tar', ['-C', tree, '--numeric-owner', '-cf', tar, '.'], { maxBuffer: 16 * 1024 * 1024 });

    await fs.mkdir(outDir, { recursive: true });
    const disks = layout.diskMiB.map((_, i) => path.join(outDir, diskName(i)));
    for (const [i, d] of disks.entries()) {
      await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', d, `${layout.diskMiB[i]}M`]);
    }
    const script = path.join(work, 'build.gf');
    await fs.writeFile(script, ['run', ...layout.prepare, `tar-in ${gfQuote(tar)} /`, 'umount-all', ''].join('\n'));
    try {
      await execFileAsync('guestfish', ['--format=qcow2', ...disks.flatMap((d) => ['-a', d]), '-f', script], {
        env: libguestfsEnv(),
        maxBuffer: 16 * 1024 * 1024,
        timeout: TOOL_TIMEOUT_MS,
      });
    } catch (err) {
      const e = err as Error & { stderr?: string };
      throw new Error(`guestfish failed building the ${layout.name} fixture: ${e.message}\n${e.stderr ?? ''}`);
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

const inProcess = new Map<string, Promise<string[]>>();

/** The cached disks of a layout, `<cache>/<name>-<hash>/disk<i>.qcow2`, built once. */
function cachedLayout(layout: Layout): Promise<string[]> {
  let p = inProcess.get(layout.name);
  if (!p) {
    p = (async () => {
      const dir = await withBuildLock(path.join(FIXTURE_CACHE_DIR, `${layout.name}-${await layoutHash(layout)}`), (tmp) => buildLayout(layout, tmp));
      return layout.diskMiB.map((_, i) => path.join(dir, diskName(i)));
    })().catch((err) => {
      inProcess.delete(layout.name);
      throw err;
    });
    inProcess.set(layout.name, p);
  }
  return p;
}

/** The two-disk guest's disks, [root disk, /var disk] (cached; read-only for tests: clone them). */
export async function cachedTwoDiskImage(): Promise<[string, string]> {
  const [root, varDisk] = await cachedLayout(TWO_DISK);
  return [root, varDisk];
}

/** The LVM guest's one disk, volume group `vg` (default LVM_VG; cached; read-only for tests: clone it). */
export async function cachedLvmImage(vg: string = LVM_VG): Promise<string> {
  if (!/^vg_[a-z0-9_]{1,20}$/.test(vg)) throw new Error(`not a test volume group name: ${vg}`);
  const [disk] = await cachedLayout(lvmLayout(vg));
  return disk;
}

// ---------------------------------------------------------------------------
// Clones, markers, the per-VM reference run.

/**
 * Full qcow2 copies of `src` (one VM's disks, in order) as `<dir>/<name>-disk<i>.qcow2`:
 * standalone images, never backing chains, so each clone changes alone. A qcow2 without
 * a backing file is copied byte for byte; anything else is converted.
 */
export async function cloneDisks(src: string[], dir: string, name: string): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  return Promise.all(src.map(async (s, i) => {
    const dest = path.join(dir, `${name}-disk${i}.qcow2`);
    // -U: the source may be open read-only elsewhere (another test's appliance).
    const { stdout } = await execFileAsync('qemu-img', ['info', '-U', '--output=json', s]);
    const info = JSON.parse(stdout) as { format: string; 'backing-filename'?: string };
    if (info.format === 'qcow2' && !info['backing-filename']) await fs.copyFile(s, dest);
    else await execFileAsync('qemu-img', ['convert', '-U', '-f', info.format, '-O', 'qcow2', s, dest]);
    await fs.chmod(dest, 0o644);
    return dest;
  }));
}

/** A marker is a test's name for a VM: a plain word, so no quoting can change it. */
const MARKER_RE = /^[A-Za-z0-9._:@+-]{1,200}$/;

/**
 * Appliances the per-VM helpers start at once: each is single-threaded under TCG, so
 * two use both cores; more only queue behind each other and the other tests' runs.
 */
const LAUNCH_CONCURRENCY = 2;

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Writes `markers[i]` to MARKER_PATH on VM i (disksPerVm[i]: its disks). ONE guestfish
 * launch PER VM, mounted by inspection of that VM's disks alone: clones collide (VG
 * names and UUIDs, filesystem UUIDs, labels), and a helper that checks for mix-ups must
 * not be able to make one. (One launch for all VMs, each VM's LVs activated in turn
 * under lvm-set-filter, was tried: an LV of a VG name shared by clones stayed mapped to
 * another clone's PV, and a marker landed on the wrong disk.)
 */
export async function writeMarkers(disksPerVm: string[][], markers: string[]): Promise<void> {
  if (markers.length !== disksPerVm.length) throw new Error(`${disksPerVm.length} VMs but ${markers.length} markers`);
  const bad = markers.find((m) => !MARKER_RE.test(m));
  if (bad !== undefined) throw new Error(`marker ${JSON.stringify(bad)} must match ${MARKER_RE}`);
  await mapLimit(disksPerVm, LAUNCH_CONCURRENCY, (disks, i) =>
    guestfish(disks, `write ${MARKER_PATH} "${markers[i]}"\n`, { readWrite: true }));
}

/**
 * Guest files of each VM (result[i][path]: content, or null when absent or not a regular
 * file): one read-only launch per VM on its own disks, as writeMarkers.
 */
export function guestReadPerVm(disksPerVm: string[][], paths: string[]): Promise<Array<Record<string, string | null>>> {
  return mapLimit(disksPerVm, LAUNCH_CONCURRENCY, (disks) => guestRead(disks, paths));
}

/** The marker of each VM (null: none), read as guestReadPerVm. */
export async function readMarkers(disksPerVm: string[][]): Promise<Array<string | null>> {
  return (await guestReadPerVm(disksPerVm, [MARKER_PATH])).map((files) => files[MARKER_PATH]);
}

/** Options that add or pick disks: sysprepAlone adds the copies itself. */
const DISK_FLAGS = new Set(['-a', '--add', '-d', '--domain', '-c', '--connect', '--format']);

export interface SysprepAloneResult {
  /** The syspreped copies, in the order of the source disks. */
  disks: string[];
  /** Where they are: the caller removes it (fs.rm recursive) unless it passed its own. */
  dir: string;
  /** virt-sysprep's stdout and stderr. */
  output: string;
}

/**
 * The per-VM reference: the real virt-sysprep with `argv` (options only, no disks) on
 * full copies of one VM's disks, the sources left as they are. The equivalence checks
 * compare a batched VM with this.
 */
export async function sysprepAlone(disks: string[], argv: readonly string[], opts: { dir?: string; name?: string } = {}): Promise<SysprepAloneResult> {
  const diskFlag = argv.find((a) => DISK_FLAGS.has(a.split('=')[0]));
  if (diskFlag !== undefined) throw new Error(`sysprepAlone adds the disks itself: argv must not hold ${diskFlag}`);
  const dir = opts.dir ?? await fs.mkdtemp(path.join(os.tmpdir(), 'sysprep-alone-'));
  let copies: string[] = [];
  try {
    copies = await cloneDisks(disks, dir, opts.name ?? 'alone');
    const { stdout, stderr } = await execFileAsync(
      'virt-sysprep',
      [...argv, '--format', 'qcow2', ...copies.flatMap((d) => ['-a', d])],
      { env: libguestfsEnv(), maxBuffer: 64 * 1024 * 1024, timeout: SYSPREP_TIMEOUT_MS },
    );
    return { disks: copies, dir, output: stdout + stderr };
  } catch (err) {
    // Nothing is left behind on failure: the caller has no result to clean up from.
    if (opts.dir) await Promise.all(copies.map((c) => fs.rm(c, { force: true })));
    else await fs.rm(dir, { recursive: true, force: true });
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`virt-sysprep ${argv.join(' ')} on copies of ${disks.join(', ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}
