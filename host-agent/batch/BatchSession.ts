// ONE read-write guestfish session (one appliance boot) on the overlays of every member of
// a batch, and the only place a batch touches guest filesystems. Steps:
//  1. open: every member's disks added before launch, in member order (libguestfs has no
//     hot-plug), so member i's disks are the appliance disks after those of members < i;
//  2. plan (changes nothing): the devices of every member (list-partitions, one blkid per
//     partition or unpartitioned disk, LVM only when a PV is there), its roots found by mounting each own
//     filesystem read-only, and each root's fstab resolved against the member's OWN
//     devices (mountPlan.ts). Never libguestfs inspection: its findfs picks one device for
//     a UUID or label every clone shares. A member that cannot be planned safely is
//     answered `alone` with the reason;
//  3. runScript per root: mount the plan, upload the script under a private name, run it
//     with /bin/sh inside the root (guestfish `sh`: a chroot with /dev /proc /sys), remove
//     it, unmount, sync (the member's writes are on its overlay once this returns);
//  4. close.
// Everything sent and answered is appended to the session log (scripts by path only).
// Aborting `signal` or the timeout kills the process group with its appliance.
import { randomBytes } from 'node:crypto';
import { createWriteStream, WriteStream } from 'node:fs';
import { GuestfishError, GuestfishSession } from '../inspection/GuestfishSession';
import { isTrue, lines } from '../inspection/guestfishOutput';
import { applianceDisk, DeviceInfo, deviceInfoOf, LvmFacts, lvmOwnership, memberOfDevice, planRootMounts, RootMounts, staleLvmView } from './mountPlan';

/** How runScript runs a script: in `parts` calls (batchScript's parts), checking `signal` between them. */
export interface ScriptRun {
  parts?: number;
  signal?: AbortSignal;
}

export interface BatchMemberDisks { key: string; disks: { path: string; format: string }[] }
export interface MemberPlan { key: string; roots: RootMounts[] }

/** libguestfs's direct backend takes at most this many disks. */
export const MAX_SESSION_DISKS = 255;
/** blkid types that are containers, not filesystems (as list-filesystems leaves them out). */
const isFilesystem = (type: string | undefined) => !!type && !type.endsWith('_member') && type !== 'crypto_LUKS' && type !== 'BitLocker';
const EXIT_MARK = 'ovirt-sysprep-exit:';

export class BatchSession {
  /** The plans plan() answered (by root device): runScript mounts nothing else. */
  private readonly planned = new Map<string, string>();

  private constructor(private readonly g: GuestfishSession, private readonly members: readonly BatchMemberDisks[], private readonly log: WriteStream) {}

  /** guestfish READ-WRITE on all members' disks, in member order; launches the appliance. */
  static async open(opts: { bin: string; members: BatchMemberDisks[]; env: NodeJS.ProcessEnv; timeoutMs: number; logPath: string; signal: AbortSignal }): Promise<BatchSession> {
    const disks = opts.members.flatMap((m) => m.disks);
    if (!disks.length) throw new GuestfishError('a batch session needs at least one disk');
    if (disks.length > MAX_SESSION_DISKS) throw new GuestfishError(`a batch session takes at most ${MAX_SESSION_DISKS} disks (${disks.length} given)`);
    const log = createWriteStream(opts.logPath, { flags: 'a', mode: 0o600 });
    log.on('error', () => undefined); // a log that cannot be written must not fail the batch
    const transcript = (text: string) => log.write(stamped(text));
    transcript(`batch session: ${opts.members.map((m, i) => `${m.key}=${diskNames(opts.members, i).join(',')}`).join(' ')}`);
    try {
      const g = await GuestfishSession.open(opts.bin, disks, opts.env, opts.timeoutMs, { readWrite: true, signal: opts.signal, transcript });
      return new BatchSession(g, opts.members, log);
    } catch (err) {
      log.end();
      throw err;
    }
  }

  /** Roots and mount plans of every member, or per member why it cannot be batched
   *  (no root on its devices, unsafe spec, VG collision, ...). Changes nothing. */
  async plan(): Promise<Array<{ key: string; plan?: MemberPlan; alone?: string }>> {
    const g = this.g;
    const memberDisks = this.members.map((_, i) => diskNames(this.members, i));
    const devices = lines(await g.get('list-devices'));
    const expected = memberDisks.flat();
    if (devices.join(' ') !== expected.join(' ')) throw new GuestfishError(`the appliance shows disks ${devices.join(' ')}, expected ${expected.join(' ')}`);
    // One blkid per partition and unpartitioned disk gives the type and every value an
    // fstab spec can name. Not list-filesystems: it runs parted on every partition, 8 s
    // for four disks under TCG where these blkid calls take 0.2 s each.
    const partitions = lines(await g.get('list-partitions'));
    const blockDevices = [...partitions, ...devices.filter((d) => !partitions.some((p) => p.startsWith(d) && /^\d+$/.test(p.slice(d.length))))];
    const infos: DeviceInfo[] = [];
    for (const d of blockDevices) infos.push(deviceInfoOf(d, (await g.get('blkid', d)) ?? ''));
    const pvsOnDisks = infos.filter((i) => i.type === 'LVM2_member' && i.uuid).map((i) => ({ device: i.device, uuid: i.uuid! }));
    const lvm = pvsOnDisks.length ? lvmOwnership(memberDisks, await this.lvmFacts(pvsOnDisks)) : { vgOwner: new Map<string, number>(), alone: new Map<number, string>() };
    // The LVs of the VGs a member owns (the others are nobody's: never mounted).
    for (const lv of lvm.vgOwner.size ? lines(await g.get('lvs')) : []) {
      const vg = lv.split('/')[2];
      if (lvm.vgOwner.has(vg)) infos.push({ ...deviceInfoOf(lv, (await g.get('blkid', lv)) ?? ''), vg });
    }

    const result: Array<{ key: string; plan?: MemberPlan; alone?: string }> = [];
    for (const [i, member] of this.members.entries()) {
      const lvmAlone = lvm.alone.get(i);
      if (lvmAlone) { result.push({ key: member.key, alone: lvmAlone }); continue; }
      const own = infos.filter((d) => (d.vg !== undefined ? lvm.vgOwner.get(d.vg) === i : memberOfDevice(d.device, memberDisks) === i) && isFilesystem(d.type));
      const roots: RootMounts[] = [];
      let alone: string | undefined;
      for (const fs of own) {
        if (fs.type === 'swap') continue;
        const fstab = await this.rootFstab(fs.device);
        if (fstab === undefined) continue;
        const r = planRootMounts(fs.device, fstab, own, memberDisks[i]);
        if ('unsafe' in r) { alone = `root ${fs.device}: ${r.unsafe}`; break; }
        roots.push(r.plan);
      }
      if (!alone && !roots.length) alone = `no operating system root on its disks (${memberDisks[i].join(', ')})`;
      if (alone) result.push({ key: member.key, alone });
      else {
        for (const r of roots) this.planned.set(r.root, planKey(r));
        result.push({ key: member.key, plan: { key: member.key, roots } });
      }
    }
    return result;
  }

  /** Mounts one root's plan, uploads the host file `scriptPath` into the guest (a private
   *  temporary name, removed after), runs it with /bin/sh in the chroot, unmounts everything.
   *  With run.parts, `sh SCRIPT 1` .. `sh SCRIPT parts`, one guestfish call each, stopping
   *  at the first that fails or once run.signal aborted (then { ok: false, error: 'cancelled' });
   *  else `sh SCRIPT`. Each call's output lines go to onLine (stdout, in order) when it
   *  returns; a non-zero exit or a guestfish error => { ok: false, error }. The session
   *  stays usable after an error. */
  async runScript(root: RootMounts, scriptPath: string, onLine: (line: string) => void, run: ScriptRun = {}): Promise<{ ok: true } | { ok: false; error: string }> {
    if (this.planned.get(root.root) !== planKey(root)) {
      return { ok: false, error: `root ${root.root} with these mounts was not planned by this session` };
    }
    const g = this.g;
    const guestPath = `/.ovirt-sysprep-batch-${randomBytes(8).toString('hex')}`;
    try {
      for (const m of root.mounts) {
        const r = await g.call('mount', m.device, m.mountpoint);
        if (r.error) return { ok: false, error: `mount ${m.device} on ${m.mountpoint}: ${r.error}` };
      }
      const up = await g.call('upload', scriptPath, guestPath);
      if (up.error) return { ok: false, error: `upload of the script: ${up.error}` };
      for (const part of run.parts ? Array.from({ length: run.parts }, (_, i) => ` ${i + 1}`) : ['']) {
        if (run.signal?.aborted) return { ok: false, error: 'cancelled' };
        // stderr joins stdout (in order) and the exit status is printed, so the output of a
        // failing script is not lost (guestfish's sh answers only an error then). The empty
        // echo ends a last line printed without a newline; it is dropped below.
        const r = await g.call('sh', `/bin/sh ${guestPath}${part} 2>&1; s=$?; echo; echo ${EXIT_MARK}$s`);
        if (r.error) return { ok: false, error: `the script did not run: ${r.error}` };
        const out = r.answer.split('\n');
        const last = out.length && out[out.length - 1].startsWith(EXIT_MARK) ? out.pop()! : undefined;
        if (out[out.length - 1] === '') out.pop();
        for (const l of out) onLine(l);
        const status = last === undefined ? NaN : Number(last.slice(EXIT_MARK.length));
        if (status !== 0) return { ok: false, error: `the script exited with ${Number.isNaN(status) ? 'no status' : status}: ${out.slice(-3).join(' | ')}` };
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message }; // guestfish ended (killed, timed out)
    } finally {
      if (this.g.alive) await this.cleanUp(guestPath).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    try {
      await this.g.close();
    } finally {
      await new Promise<void>((resolve) => this.log.end(resolve));
    }
  }

  private async cleanUp(guestPath: string): Promise<void> {
    await this.g.call('rm-f', guestPath); // fails harmlessly when "/" was not mounted
    await this.g.call('umount-all');
    await this.g.call('sync');
  }

  /** /etc/fstab of a filesystem that is an OS root ('' when it has none), undefined when it is no root. */
  private async rootFstab(device: string): Promise<string | undefined> {
    const g = this.g;
    if ((await g.call('mount-ro', device, '/')).error) return undefined;
    try {
      // A root: /etc/fstab or /etc/os-release, and /bin or /usr/bin (merged /usr: /bin is a link).
      const hasFstab = isTrue(await g.get('is-file', '/etc/fstab'));
      if (!hasFstab && !isTrue(await g.get('is-file', '/etc/os-release', 'followsymlinks:true'))) return undefined;
      if (!isTrue(await g.get('is-dir', '/usr/bin')) && !isTrue(await g.get('is-dir', '/bin', 'followsymlinks:true'))) return undefined;
      return hasFstab ? ((await g.get('cat', '/etc/fstab')) ?? '') : '';
    } finally {
      await g.call('umount-all');
    }
  }

  /** LVM's view of the PVs blkid found, by UUID. A view that is not yet that of the disks
   *  (a PV not listed, a VG with an unlisted PV) gets an `lvm-scan true`, which also
   *  activates its VGs, and is read again, at most twice. (The CI failures that led to
   *  this were the kernel's device names in pvs-full, see LvmFacts; no stale view has been
   *  seen since, and a complete one costs nothing more.) */
  private async lvmFacts(pvsOnDisks: LvmFacts['pvsOnDisks']): Promise<LvmFacts> {
    const read = async (): Promise<LvmFacts> => {
      const pvUuids = parseStructs(await this.g.get('pvs-full')).map((s) => s.pv_uuid);
      const vgs: LvmFacts['vgs'] = [];
      for (const s of parseStructs(await this.g.get('vgs-full'))) {
        vgs.push({ name: s.vg_name, uuid: s.vg_uuid, pvUuids: lines(await this.g.get('vgpvuuids', s.vg_name)) });
      }
      return { pvUuids, vgs, pvsOnDisks };
    };
    let facts = await read();
    for (let rescans = 0; rescans < LVM_RESCANS; rescans++) {
      const stale = staleLvmView(facts);
      if (!stale.length) break;
      this.log.write(stamped(`LVM's view is not the disks' yet (${stale.join('; ')}): lvm-scan`));
      await this.g.call('lvm-scan', 'true');
      facts = await read();
    }
    return facts;
  }
}

/** How many times a stale LVM view is scanned again before the plan takes it as it is. */
const LVM_RESCANS = 2;

/** A line of the session log: its time, then the text. */
const stamped = (text: string) => `${new Date().toISOString()} ${text}\n`;

/** A plan as text, to compare what runScript is given with what plan() answered. */
const planKey = (r: RootMounts) => [r.root, ...r.mounts.map((m) => `${m.device} ${m.mountpoint}`)].join('\n');

/** Appliance disks of member `i`: after the disks of the members before it. */
function diskNames(members: readonly BatchMemberDisks[], i: number): string[] {
  const first = members.slice(0, i).reduce((n, m) => n + m.disks.length, 0);
  return members[i].disks.map((_, j) => applianceDisk(first + j));
}

/** guestfish's list of structs ("[0] = {\n  key: value\n ...}") -> one record per struct. */
export function parseStructs(out: string | undefined): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  for (const l of (out ?? '').split('\n')) {
    if (/^\[\d+\] = \{$/.test(l.trim())) records.push({});
    const kv = /^\s+([a-z_]+): (.*)$/.exec(l);
    if (kv && records.length) records[records.length - 1][kv[1]] = kv[2];
  }
  return records;
}
