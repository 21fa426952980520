// BatchSession on real images, ONE read-write appliance for every case (budget: one boot
// for the session and one to read the markers back; the small LVM and two-disk guests are
// built once, in one more boot, and cached):
//  * a and b are clones of the debian fixture, whose fstab mounts / by LABEL (libguestfs's
//    findfs would pick ONE of the two disks for both);
//  * c is one VM whose two disks are both copies of it (its own devices carry the label
//    twice: ambiguous, so it runs alone);
//  * l1 and l2 are clones of an LVM disk (VG vg_golden, / on /dev/mapper/vg_golden-root):
//    same PV, VG name and UUID, so both run alone; o has its own VG vg_other (/ on
//    /dev/vg_other/root) and is planned on its LV;
//  * t1 and t2 are clones of a two-disk guest whose fstab mounts / and /var (second disk)
//    by UUID=: each is planned on its own two disks, and its /var marker lands on its own
//    second disk.
// Checked: the plans name each member's own devices; a marker written through runScript to
// each root lands on that root's device (read back in a read-only session with explicit
// device mounts, no label lookup); a failing script answers ok:false with its output, and
// the session still works after it; the session log holds the script's path, not its
// contents; aborting the signal kills the appliance.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatchSession } from '../../../host-agent/batch/BatchSession';
import { copyGuestImage, FIXTURE_CACHE_DIR, libguestfsEnv, withBuildLock } from '../../helpers/guestImage';

jest.setTimeout(600_000);

describe('BatchSession (one appliance, real clones)', () => {
  let dir: string;
  const disk = (name: string) => path.join(dir, `${name}.qcow2`);
  const script = (name: string, body: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, `#!/bin/sh\nset -eu\n${body}`, { mode: 0o600 });
    return p;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'batch-session-'));
    const small = await cachedSmallDisks();
    await Promise.all(['a', 'b', 'c1', 'c2'].map((n) => copyGuestImage(disk(n))));
    for (const [src, n] of [[small.golden, 'l1'], [small.golden, 'l2'], [small.other, 'o'], [small.twoRoot, 't1r'], [small.twoVar, 't1v'], [small.twoRoot, 't2r'], [small.twoVar, 't2v']]) {
      copyFileSync(src, disk(n));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plans each clone on its own disk, writes to its own disk only, survives a failing script, dies with its signal', async () => {
    const abort = new AbortController();
    const logPath = path.join(dir, 'session.log');
    const q = (n: string) => ({ path: disk(n), format: 'qcow2' });
    const opened = Date.now();
    const s = await BatchSession.open({
      bin: 'guestfish', env: libguestfsEnv(), timeoutMs: 300_000, logPath, signal: abort.signal,
      members: [
        { key: 'a', disks: [q('a')] }, { key: 'c', disks: [q('c1'), q('c2')] }, { key: 'l1', disks: [q('l1')] },
        { key: 'b', disks: [q('b')] }, { key: 'l2', disks: [q('l2')] }, { key: 'o', disks: [q('o')] },
        { key: 't1', disks: [q('t1r'), q('t1v')] }, { key: 't2', disks: [q('t2r'), q('t2v')] },
      ],
    });
    const planStart = Date.now();
    const plans = await s.plan();
    const planMs = Date.now() - planStart;
    process.stderr.write(`batch session: boot ${planStart - opened} ms, plan of 8 members (11 disks) ${planMs} ms\n`);

    const only = (key: string, root: string) => ({ key, plan: { key, roots: [{ root, mounts: [{ device: root, mountpoint: '/' }] }] } });
    expect(plans).toEqual([
      only('a', '/dev/sda1'),
      { key: 'c', alone: expect.stringMatching(/LABEL=debian-root names 2 of the VM's devices \(\/dev\/sdb1, \/dev\/sdc1\)/) },
      { key: 'l1', alone: expect.stringMatching(/LVM PV \/dev\/sdd1 .* is also on another VM's disks/) },
      only('b', '/dev/sde1'),
      { key: 'l2', alone: expect.stringMatching(/LVM PV \/dev\/sdf1 .* is also on another VM's disks/) },
      only('o', '/dev/vg_other/root'),
      ...[['t1', '/dev/sdh1', '/dev/sdi1'], ['t2', '/dev/sdj1', '/dev/sdk1']].map(([key, root, varDev]) => (
        { key, plan: { key, roots: [{ root, mounts: [{ device: root, mountpoint: '/' }, { device: varDev, mountpoint: '/var' }] }] } })),
    ]);
    const [rootA, rootB, rootO, rootT1, rootT2] = [0, 3, 5, 6, 7].map((i) => plans[i].plan!.roots[0]);

    // A failing script: its output arrives, in order, stderr included; the session goes on.
    const failing: string[] = [];
    const bad = await s.runScript(rootA, script('fail.sh', 'echo one\necho two >&2\nprintf three\nexit 3\n'), (l) => failing.push(l));
    expect(bad).toEqual({ ok: false, error: expect.stringContaining('exited with 3') });
    expect(failing).toEqual(['one', 'two', 'three']);

    const secret = 'contents-never-logged-7f3a';
    const out: Record<string, string[]> = { a: [], b: [], o: [], t1: [], t2: [] };
    for (const [key, root] of [['a', rootA], ['b', rootB], ['o', rootO], ['t1', rootT1], ['t2', rootT2]] as const) {
      const started = Date.now();
      const r = await s.runScript(root, script(`marker-${key}.sh`,
        `# ${secret}\necho "ovirt-sysprep-step: marker"\nprintf '%s\\n' "${key}" > /root/batch-marker\nif [ -d /var ]; then printf '%s\\n' "${key}" > /var/batch-marker; fi\necho "warning: wrote ${key}"\n`),
      (l) => out[key].push(l));
      process.stderr.write(`batch session: runScript on ${root.root} ${Date.now() - started} ms\n`);
      expect(r).toEqual({ ok: true });
    }
    expect(out).toEqual(Object.fromEntries(['a', 'b', 'o', 't1', 't2'].map((k) => [k, ['ovirt-sysprep-step: marker', `warning: wrote ${k}`]])));

    // In parts: one `sh` call per part, each part's lines as it ends; a cancel between parts stops before the next.
    const parted = script('parts.sh', 'echo "part ${1:-all}"\n');
    const partLines: string[] = [];
    const partsStarted = Date.now();
    expect(await s.runScript(rootB, parted, (l) => partLines.push(l), { parts: 3 })).toEqual({ ok: true });
    process.stderr.write(`batch session: runScript in 3 parts ${Date.now() - partsStarted} ms\n`);
    expect(partLines).toEqual(['part 1', 'part 2', 'part 3']);
    const cancel = new AbortController();
    const cancelled: string[] = [];
    expect(await s.runScript(rootB, parted, (l) => { cancelled.push(l); cancel.abort(); }, { parts: 3, signal: cancel.signal })).toEqual({ ok: false, error: 'cancelled' });
    expect(cancelled).toEqual(['part 1']);

    // A root this session did not plan, or a planned root with another mount, is refused before anything is mounted.
    for (const wrong of [{ root: '/dev/sdb1', mounts: [{ device: '/dev/sdb1', mountpoint: '/' }] }, { ...rootA, mounts: [...rootA.mounts, { device: '/dev/sde1', mountpoint: '/mnt' }] }]) {
      expect(await s.runScript(wrong, script('x.sh', 'true\n'), () => undefined)).toEqual({ ok: false, error: expect.stringContaining('not planned') });
    }

    // Abort: the group (guestfish and its qemu) dies; the session answers errors, close() returns.
    const aborted = Date.now();
    abort.abort();
    const after = await s.runScript(rootA, script('late.sh', 'true\n'), () => undefined);
    expect(after.ok).toBe(false);
    await s.close();
    for (let i = 0; i < 50 && qemuOn(disk('a')); i++) await new Promise((r) => setTimeout(r, 200));
    expect(qemuOn(disk('a'))).toBe(false);
    process.stderr.write(`batch session: abort to appliance gone ${Date.now() - aborted} ms\n`);

    const log = readFileSync(logPath, 'utf8');
    expect(log).toContain(path.join(dir, 'marker-a.sh'));
    expect(log).not.toContain(secret);

    // Each marker on its own device (explicit device mounts, read-only; a root's /root and
    // /var markers, a /var disk's own marker); c untouched; t's /var marker on its var disk.
    const roots = ['/dev/sda1', '/dev/sdb1', '/dev/sdc1', '/dev/vg_other/root', '/dev/sde1', '/dev/sdg1'];
    const vars = ['/dev/sdf1', '/dev/sdh1'];
    const read = execFileSync('guestfish', ['--ro', ...['a', 'b', 'c1', 'o', 't1r', 't1v', 't2r', 't2v'].flatMap((n) => ['--format=qcow2', '-a', disk(n)])], {
      env: libguestfsEnv(),
      input: ['run',
        ...roots.flatMap((d) => [`mount-ro ${d} /`, '-cat /root/batch-marker', 'echo ---', '-cat /var/batch-marker', 'echo ---', 'umount-all']),
        ...vars.flatMap((d) => [`mount-ro ${d} /`, '-cat /batch-marker', 'echo ---', 'umount-all'])].join('\n') + '\n',
      timeout: 300_000,
    }).toString();
    expect(read.split('---\n').map((x) => x.trim())).toEqual([
      'a', 'a', 'b', 'b', '', '', 'o', '', 't1', '', 't2', '', // roots: /root and /var markers (debian's /var is on its root)
      't1', 't2', '', // the var disks
    ]);
  });
});

/**
 * Small guests written in ONE appliance and cached in .cache/fixtures (named by the hash of
 * the commands): `golden` (LVM, VG vg_golden, fstab / by /dev/mapper/vg_golden-root),
 * `other` (LVM, VG vg_other, / by /dev/vg_other/root), and a two-disk guest `twoRoot` +
 * `twoVar` whose fstab mounts / and /var by UUID= (fixed UUIDs). Each root has /etc/fstab,
 * /usr/bin and a static busybox as /bin/sh (runScript's shell).
 */
async function cachedSmallDisks(): Promise<{ golden: string; other: string; twoRoot: string; twoVar: string }> {
  const root = ['mkdir-p /etc', 'mkdir-p /usr/bin', 'mkdir-p /bin', 'mkdir-p /root', 'upload /bin/busybox /bin/sh', 'chmod 0755 /bin/sh'];
  const lvmGuest = (dev: string, vg: string, fstabSpec: string) => [
    `part-disk ${dev} mbr`, `pvcreate ${dev}1`, `vgcreate ${vg} ${dev}1`, `lvcreate root ${vg} 40`, `mkfs ext4 /dev/${vg}/root`,
    `mount /dev/${vg}/root /`, ...root, `write /etc/fstab "${fstabSpec} / ext4 defaults 0 1\\n"`, 'umount-all',
  ];
  const [rootUuid, varUuid] = ['5b1e3c2a-0000-4000-8000-0000000000c1', '5b1e3c2a-0000-4000-8000-0000000000d1'];
  const twoDisks = [
    'part-disk /dev/sdc mbr', 'part-disk /dev/sdd mbr', `mke2fs /dev/sdc1 fstype:ext4 uuid:${rootUuid}`, `mke2fs /dev/sdd1 fstype:ext4 uuid:${varUuid}`,
    'mount /dev/sdc1 /', ...root, 'mkdir-p /var', `write /etc/fstab "UUID=${rootUuid} / ext4 defaults 0 1\\nUUID=${varUuid} /var ext4 defaults 0 2\\n"`,
    'mount /dev/sdd1 /var', 'mkdir-p /var/lib', 'umount-all',
  ];
  const commands = ['run', ...lvmGuest('/dev/sda', 'vg_golden', '/dev/mapper/vg_golden-root'), ...lvmGuest('/dev/sdb', 'vg_other', '/dev/vg_other/root'), ...twoDisks].join('\n') + '\n';
  const hash = createHash('sha256').update(commands).digest('hex').slice(0, 16);
  const names = ['golden', 'other', 'twoRoot', 'twoVar'] as const;
  const [golden, ...rest] = names.map((n) => path.join(FIXTURE_CACHE_DIR, `batch-small-${n}-${hash}.qcow2`));
  // The others are renamed in place before `golden` (the lock's file): once it exists, all do.
  await withBuildLock(golden, async (tmp) => {
    const raw = names.map((n) => `${tmp}.${n}.raw`);
    try {
      for (const r of raw) execFileSync('qemu-img', ['create', '-q', '-f', 'raw', r, '64M']);
      await new Promise<void>((resolve, reject) => {
        const p = execFile('guestfish', raw.flatMap((r) => ['--format=raw', '-a', r]), { env: libguestfsEnv(), timeout: 300_000 }, (err) => (err ? reject(err) : resolve()));
        p.stdin!.end(commands);
      });
      for (const [i, final] of rest.entries()) {
        execFileSync('qemu-img', ['convert', '-O', 'qcow2', raw[i + 1], `${tmp}.q`]);
        renameSync(`${tmp}.q`, final);
      }
      execFileSync('qemu-img', ['convert', '-O', 'qcow2', raw[0], tmp]);
    } finally {
      for (const r of [...raw, `${tmp}.q`]) rmSync(r, { force: true });
    }
  });
  return { golden, other: rest[0], twoRoot: rest[1], twoVar: rest[2] };
}

/** Whether a qemu process still has this disk open (the appliance of the session). */
function qemuOn(diskPath: string): boolean {
  try {
    return execFileSync('pgrep', ['-f', `qemu.*${diskPath}`]).toString().trim() !== '';
  } catch {
    return false; // pgrep exits 1 when nothing matches
  }
}
