// Where a VM's filesystems are mounted in a batch appliance, decided from that VM's OWN
// devices only (pure; the facts come from BatchSession.plan). libguestfs's inspection
// resolves fstab specs appliance-wide (daemon/inspect_fs_unix_fstab.ml: UUID=/LABEL= ->
// findfs, which picks ONE device for a spec that every clone shares), so in a batch of
// clones it may mount another VM's disk. Here every spec is matched against the VM's own
// devices and must name exactly one of them; anything else makes the plan unsafe and the
// VM runs alone. The rules (decision note in docs/engine-decisions.md):
//  * entries libguestfs ignores are ignored the same way (so a batched VM gets the mounts
//    a per-VM run gets): mountpoints under /dev /proc /sys /selinux /media or not
//    absolute (swap, none), floppy/cdrom specs, specs that name no block device (tmpfs,
//    proc, bind mounts of a directory, network filesystems);
//  * UUID= LABEL= PARTUUID= PARTLABEL= and /dev/disk/by-{uuid,label,partuuid,partlabel}/
//    by the blkid values of the own devices; /dev/[hsv]dXN and /dev/xvdXN by the VM's disk
//    of that index (the VM's first disk is its "a", wherever it sits in the appliance);
//    /dev/mapper/VG-LV and /dev/VG/LV among the VM's own LVs; /dev/root is the root;
//  * everything else that names a device (by-id, by-path, md, cciss, dm-uuid, crypttab
//    mappings, btrfs subvolumes) has no resolution here: unsafe.

/** Appliance device of the disk at `index` in the session (0 -> /dev/sda, 25 -> /dev/sdz, 26 -> /dev/sdaa). */
export function applianceDisk(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`disk index ${index}`);
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(97 + ((n - 1) % 26)) + name;
  return `/dev/sd${name}`;
}

/** Index of a disk letter group (a -> 0, z -> 25, aa -> 26): the inverse of applianceDisk. */
function diskIndex(letters: string): number {
  let n = 0;
  for (const c of letters) n = n * 26 + (c.charCodeAt(0) - 96);
  return n - 1;
}

export interface DeviceInfo { device: string; type?: string; uuid?: string; label?: string; partuuid?: string; partlabel?: string; vg?: string /* LVs: their VG */ }
export interface RootMounts { root: string; mounts: { device: string; mountpoint: string }[] }  // "/" first, parents before children
export type MountPlanResult = { plan: RootMounts } | { unsafe: string /* names the fstab line/spec */ };

/** Mountpoints libguestfs never mounts from fstab (check_fstab_entry). */
const IGNORED_MOUNTPOINT = /^\/(dev|proc|sys|selinux)(\/|$)|^\/media\//;
/** Removable media libguestfs skips. */
const IGNORED_SPEC = /^\/dev\/(fd|cd)\d|^\/dev\/(floppy|cdrom)$|^\/dev\/iso9660\//;
const XDEV = /^\/dev\/(?:h|s|v|xv)d([a-z]+)(\d*)$/;
const BY_NAME: Record<string, keyof DeviceInfo> = { 'by-uuid': 'uuid', 'by-label': 'label', 'by-partuuid': 'partuuid', 'by-partlabel': 'partlabel' };
const TAGS: Record<string, keyof DeviceInfo> = { UUID: 'uuid', LABEL: 'label', PARTUUID: 'partuuid', PARTLABEL: 'partlabel' };

/** Resolves one root's fstab against ONE VM's devices (its disks' partitions, whole-disk filesystems, its LVs). */
export function planRootMounts(root: string, fstab: string, own: readonly DeviceInfo[], ownDisks: readonly string[]): MountPlanResult {
  if (!own.some((d) => d.device === root)) return { unsafe: `root ${root} is not one of the VM's devices` };
  const mounts = new Map<string, string>([['/', root]]);
  for (const raw of fstab.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [spec, file, vfstype = '', options = ''] = line.split(/\s+/).map(unescapeFstab);
    if (!file) continue; // libguestfs skips an entry without a mountpoint
    const mp = canonicalPath(file);
    if (!mp.startsWith('/') || IGNORED_MOUNTPOINT.test(mp) || vfstype === 'swap' || IGNORED_SPEC.test(spec)) continue;
    const device = resolveSpec(spec, root, own, ownDisks);
    if (device === null) continue; // names no block device: libguestfs ignores it too
    if (typeof device !== 'string') return { unsafe: `fstab line "${line}": ${device.why}` };
    if (vfstype === 'btrfs' && /(^|,)subvol(id)?=/.test(options)) return { unsafe: `fstab line "${line}": btrfs subvolumes are not planned` };
    const before = mounts.get(mp);
    if (mp === '/' ? device !== root : before !== undefined && before !== device) {
      return { unsafe: `fstab line "${line}": ${mp} is also ${mp === '/' ? 'the root found on' : 'mounted from'} ${before}` };
    }
    mounts.set(mp, device);
  }
  const ordered = [...mounts].map(([mountpoint, device]) => ({ device, mountpoint }))
    .sort((a, b) => depth(a.mountpoint) - depth(b.mountpoint) || a.mountpoint.localeCompare(b.mountpoint));
  return { plan: { root, mounts: ordered } };
}

/** The own device a spec names, null when it names no block device, or why it cannot be resolved. */
function resolveSpec(spec: string, root: string, own: readonly DeviceInfo[], ownDisks: readonly string[]): string | null | { why: string } {
  const tag = /^(UUID|LABEL|PARTUUID|PARTLABEL)=(.*)$/.exec(spec);
  if (tag) return byValue(spec, TAGS[tag[1]], unquote(tag[2]), own);
  if (!spec.startsWith('/dev/')) return null;
  if (spec === '/dev/root') return root;
  const byName = /^\/dev\/disk\/(by-[a-z]+)\/(.+)$/.exec(spec);
  if (byName && BY_NAME[byName[1]]) return byValue(spec, BY_NAME[byName[1]], byName[2], own);
  const xdev = XDEV.exec(spec);
  if (xdev) {
    const disk = ownDisks[diskIndex(xdev[1])];
    if (!disk) return { why: `${spec}: the VM has ${ownDisks.length} disk(s)` };
    return ownDevice(spec, disk + xdev[2], own);
  }
  const mapper = /^\/dev\/mapper\/(.+)$/.exec(spec);
  if (mapper) {
    const lv = demangleMapper(mapper[1]);
    return lv ? ownLv(spec, lv.vg, lv.lv, own) : { why: `${spec}: not a VG-LV name` };
  }
  const vgLv = /^\/dev\/([^/]+)\/([^/]+)$/.exec(spec);
  if (vgLv) return ownLv(spec, vgLv[1], vgLv[2], own);
  return { why: `${spec}: no batch resolution for this device name` };
}

/** The one own device whose blkid `key` is `value` (UUIDs compared without case, as blkid prints either). */
function byValue(spec: string, key: keyof DeviceInfo, value: string, own: readonly DeviceInfo[]): string | { why: string } {
  const fold = key === 'uuid' || key === 'partuuid' ? (s: string) => s.toLowerCase() : (s: string) => s;
  const hits = own.filter((d) => d[key] !== undefined && fold(d[key]!) === fold(value));
  if (hits.length === 1) return hits[0].device;
  return { why: hits.length ? `${spec} names ${hits.length} of the VM's devices (${hits.map((d) => d.device).join(', ')})` : `${spec} names none of the VM's devices` };
}

function ownDevice(spec: string, device: string, own: readonly DeviceInfo[]): string | { why: string } {
  return own.some((d) => d.device === device) ? device : { why: `${spec} (${device} here) is none of the VM's devices` };
}

function ownLv(spec: string, vg: string, lv: string, own: readonly DeviceInfo[]): string | { why: string } {
  const device = `/dev/${vg}/${lv}`;
  return own.some((d) => d.device === device && d.vg === vg) ? device : { why: `${spec}: ${device} is none of the VM's logical volumes` };
}

/** /dev/mapper name -> VG and LV: LVM doubles a '-' inside either name and joins them with one '-'. */
export function demangleMapper(name: string): { vg: string; lv: string } | undefined {
  const m = /^((?:[^-]|--)+)-((?:[^-]|--)+)$/.exec(name);
  return m ? { vg: m[1].replace(/--/g, '-'), lv: m[2].replace(/--/g, '-') } : undefined;
}

/** fstab's octal escapes (\040 for a space) and udev's \xHH in /dev/disk/by-label names. */
function unescapeFstab(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** libguestfs's shell_unquote of a tag value: "x" or 'x' -> x. */
function unquote(v: string): string {
  return /^(["']).*\1$/.test(v) && v.length >= 2 ? v.slice(1, -1) : v;
}

/** "///usr//local//" -> "/usr/local" (libguestfs's unix_canonical_path). */
function canonicalPath(p: string): string {
  if (!p.startsWith('/')) return p;
  return '/' + p.split('/').filter(Boolean).join('/');
}

const depth = (mp: string) => (mp === '/' ? 0 : mp.split('/').length - 1);

// ---------------------------------------------------------------------------
// Which devices are whose: the appliance sees every member's disks at once.

/** What the appliance reports about LVM (pvs-full; vgs-full + vgpvuuids) and the PVs blkid finds on the disks. */
export interface LvmFacts {
  /** UUIDs of the PVs LVM lists (pvs-full). Of duplicate PVs (clones) it lists ONE device.
   *  Not its device names: pvs-full gives the appliance KERNEL's names, which libguestfs does
   *  not translate back, and the kernel may name the disks in another order than they were
   *  added (measured: a batch's first two disks the other way round). With a PV on one
   *  device only, that device is the one LVM uses whatever it calls it. */
  pvUuids: string[];
  /** VGs (vgs-full) with their PVs' UUIDs (vgpvuuids). */
  vgs: { name: string; uuid: string; pvUuids: string[] }[];
  /** Every LVM2_member blkid finds on the disks, used by LVM or not. */
  pvsOnDisks: { device: string; uuid: string }[];
}

/** The member whose disk holds `device` (a partition /dev/sdXN or a whole disk), or -1. */
export function memberOfDevice(device: string, memberDisks: readonly (readonly string[])[]): number {
  const disk = /^(\/dev\/sd[a-z]+)\d*$/.exec(device)?.[1];
  return disk ? memberDisks.findIndex((disks) => disks.includes(disk)) : -1;
}

/** LVM prints PV UUIDs without dashes, blkid with them. */
const pvId = (uuid: string) => uuid.replace(/-/g, '');

/**
 * Each VG's owning member, and the members that cannot be batched because of LVM.
 * A VG belongs to a member when its name and UUID occur once in the appliance, and every
 * one of its PVs is on that member's disks only, and LVM lists it. Clones share
 * VG name, VG UUID and PV UUIDs: LVM then uses ONE device per PV UUID (measured: the
 * LAST clone's) and refuses to activate the VG, so no holder is kept: every member that
 * holds a copy of the PV runs alone. Likewise a VG name used by two VGs, a VG spanning
 * two members, a PV in no VG the appliance shows.
 */
export function lvmOwnership(memberDisks: readonly (readonly string[])[], facts: LvmFacts): { vgOwner: Map<string, number>; alone: Map<number, string> } {
  const vgOwner = new Map<string, number>();
  const alone = new Map<number, string>();
  const listed = new Set(facts.pvUuids.map(pvId));
  const holders = (uuid: string) => new Set(facts.pvsOnDisks.filter((p) => pvId(p.uuid) === pvId(uuid)).map((p) => memberOfDevice(p.device, memberDisks)));
  const count = <K extends 'name' | 'uuid'>(k: K, v: string) => facts.vgs.filter((g) => g[k] === v).length;
  const verdict = (m: number, pv: { device: string; uuid: string }): string | { vg: string } => {
    if (holders(pv.uuid).size > 1) return `LVM PV ${pv.device} (${pv.uuid}) is also on another VM's disks (a clone): its volume group would be ambiguous`;
    const vg = facts.vgs.find((g) => g.pvUuids.some((u) => pvId(u) === pvId(pv.uuid)));
    if (!vg) {
      const dup = facts.vgs.find((g) => count('name', g.name) > 1);
      return dup ? `LVM volume group name "${dup.name}" is used by ${count('name', dup.name)} volume groups in the batch` : `LVM PV ${pv.device} (${pv.uuid}) is in no volume group the appliance shows`;
    }
    if (count('name', vg.name) > 1 || count('uuid', vg.uuid) > 1) return `LVM volume group "${vg.name}" (${vg.uuid}) is not unique in the batch`;
    for (const u of vg.pvUuids) {
      const h = holders(u);
      if (h.size !== 1 || !h.has(m) || !listed.has(pvId(u))) {
        const where = h.size ? `on the disks of ${[...h].map((i) => (i === m ? 'this VM' : i < 0 ? 'no VM' : `VM #${i + 1} of the batch`)).join(' and ')}` : 'on no disk of the batch';
        return `LVM volume group "${vg.name}" is not wholly on this VM's disks: its PV ${u} is ${where}${listed.has(pvId(u)) ? '' : ', and LVM does not list it'}`;
      }
    }
    return { vg: vg.name };
  };
  for (const pv of facts.pvsOnDisks) {
    const m = memberOfDevice(pv.device, memberDisks);
    if (m < 0 || alone.has(m)) continue;
    const v = verdict(m, pv);
    if (typeof v === 'string') alone.set(m, v);
    else vgOwner.set(v.vg, m);
  }
  for (const [vg, m] of vgOwner) if (alone.has(m)) vgOwner.delete(vg);
  return { vgOwner, alone };
}

/** What shows that LVM's view is not yet that of the disks: a PV blkid finds on one device
 *  only that LVM does not list or lists in no VG; a VG with a PV LVM does not list.
 *  (A clone's duplicate PV is listed once, LVM's choice of device: never stale.) */
export function staleLvmView(facts: LvmFacts): string[] {
  const inVg = new Set(facts.vgs.flatMap((g) => g.pvUuids.map(pvId)));
  const listed = new Set(facts.pvUuids.map(pvId));
  const copies = (uuid: string) => facts.pvsOnDisks.filter((p) => pvId(p.uuid) === pvId(uuid)).length;
  const pvs = facts.pvsOnDisks.filter((p) => copies(p.uuid) === 1).flatMap((p) => {
    if (!listed.has(pvId(p.uuid))) return [`${p.device} is not listed`];
    return inVg.has(pvId(p.uuid)) ? [] : [`${p.device} is in no volume group`];
  });
  const vgs = facts.vgs.flatMap((g) => g.pvUuids.filter((u) => !listed.has(pvId(u))).map((u) => `volume group "${g.name}" has PV ${u} that is not listed`));
  return [...pvs, ...vgs];
}

/** blkid's "KEY: value" lines -> a DeviceInfo. */
export function deviceInfoOf(device: string, blkid: string): DeviceInfo {
  const kv = new Map(blkid.split('\n').flatMap((l) => { const m = /^([A-Z_]+): (.*)$/.exec(l.trim()); return m ? [[m[1], m[2]] as const] : []; }));
  const info: DeviceInfo = { device };
  const set = (k: keyof Omit<DeviceInfo, 'device' | 'vg'>, v: string | undefined) => { if (v) info[k] = v; };
  set('type', kv.get('TYPE'));
  set('uuid', kv.get('UUID'));
  set('label', kv.get('LABEL'));
  set('partuuid', kv.get('PART_ENTRY_UUID'));
  set('partlabel', kv.get('PART_ENTRY_NAME'));
  return info;
}
