// Snapshots on the embedded inventory: internal qcow2 snapshots (`qemu-img snapshot`) of
// every disk of a VM that is down, under one tag, the snapshot's name. qemu-img keeps a
// tag, a time and an id per disk, no description: the description and the time the engine
// took it are rows of engine.db (vm_snapshots, keyed by VM and name), the snapshot the
// disks last came from is vms.current_snapshot.
//   * list: the tags of the first disk's snapshot table, in table order (oldest first),
//     joined with the rows (a snapshot made outside, with qemu-img, is listed with an empty
//     description; a row whose tag is gone is not listed).
//   * create: every disk qcow2 (409 DISK_UNSUPPORTED naming the disk) inside a storage
//     root of the VM's hosts (the engine writes no file elsewhere), the name not on any
//     disk (409 SNAPSHOT_EXISTS: qemu-img would make a second one), then `-c` on each
//     disk in turn; a failure deletes the tag from the disks done before it: all or none.
//   * revert: the tag checked on every disk first (409 SNAPSHOT_INCOMPLETE naming the disk
//     that lacks it), then `-a` on each disk. A failure half-way cannot be undone (the
//     content replaced is gone): 500 naming the disks already reverted.
//   * delete: `-d` on every disk that has the tag, then the row.
// qemu-img looks a tag up as a snapshot id first (ids are numbers): an all-digit name is
// refused at create (400 naming `name`), and a revert or delete of a tag that another
// snapshot's id or a second entry also matches is refused (409 SNAPSHOT_AMBIGUOUS).
// The routes check that the VM is marked down and that no job holds it; qemu-img takes
// each image's write lock, so a disk a running QEMU (or a concurrent snapshot change)
// holds is refused with 409 DISK_IN_USE whatever the VM's mark says.
import { inject, injectable } from 'tsyringe';
import { ConflictError, InputError, SysprepError } from '../../shared/errors';
import { Db, sql } from '../db';
import { Logger } from '../logger';
import type { DiskRef, Vm } from './Inventory';
import { Inventory } from './Inventory';
import { InternalSnapshot, QemuImg } from './qemuImg';
import { underRoot } from './storageRoots';
import { assertSnapshottable, diskRefused, findSnapshot, Snapshot, snapshotExists, VmSnapshots } from './VmSnapshots';

interface SnapshotRow { name: string; description: string; created_at: string }

/** What qemu-img would read as a snapshot id rather than a tag. */
const ID_LIKE = /^\d+$/;

@injectable()
export class EmbeddedSnapshots implements VmSnapshots {
  constructor(
    @inject(Db) private readonly db: Db,
    @inject(QemuImg) private readonly qemu: QemuImg,
    @inject(Inventory) private readonly inventory: Inventory,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async list(vm: Vm): Promise<Snapshot[]> {
    const first = vm.disks[0];
    // A VM whose first disk is not qcow2 has no snapshot table to list (as libvirt answers).
    if (!first || first.format !== 'qcow2' || first.unsupported) return [];
    const table = await this.qemu.listSnapshots(first.path);
    const rows = new Map((sql(this.db, 'SELECT name, description, created_at FROM vm_snapshots WHERE vm_id = ?').all(vm.id) as SnapshotRow[]).map((r) => [r.name, r]));
    const current = sql(this.db, 'SELECT current_snapshot FROM vms WHERE id = ?').pluck().get(vm.id) as string | null | undefined;
    const seen = new Set<string>();
    const out: Snapshot[] = [];
    for (const t of table) {
      if (seen.has(t.name)) continue; // a tag made twice outside the engine: listed once
      seen.add(t.name);
      const row = rows.get(t.name);
      out.push({ id: t.name, name: t.name, description: row?.description ?? '', date: row?.created_at ?? t.date, vmState: t.vmStateSize > 0 ? 'running' : 'shutoff', current: t.name === current });
    }
    return out;
  }

  async create(vm: Vm, name: string, description = ''): Promise<Snapshot> {
    if (ID_LIKE.test(name)) throw new InputError('name', 'must not be all digits: qemu-img reads such a name as the id of another snapshot');
    const disks = await this.disks(vm);
    for (const d of disks) {
      if ((await this.qemu.listSnapshots(d.path)).some((t) => t.name === name)) throw snapshotExists(name, { disk: d.path });
    }
    const done: DiskRef[] = [];
    try {
      for (const d of disks) {
        await this.qemu.snapshot('create', d.path, name);
        done.push(d);
      }
    } catch (err) {
      for (const d of done) {
        await this.qemu.snapshot('delete', d.path, name).catch((e) => this.log.warn('could not remove a half-made snapshot', { vmId: vm.id, disk: d.path, snapshot: name, error: (e as Error).message }));
      }
      throw err;
    }
    this.db.transaction(() => {
      sql(this.db, `INSERT INTO vm_snapshots (vm_id, name, description, created_at) VALUES (?, ?, ?, ?)
                     ON CONFLICT (vm_id, name) DO UPDATE SET description = excluded.description, created_at = excluded.created_at`).run(vm.id, name, description, new Date().toISOString());
      sql(this.db, 'UPDATE vms SET current_snapshot = ? WHERE id = ?').run(name, vm.id);
    })();
    return findSnapshot(await this.list(vm), vm, name);
  }

  async revert(vm: Vm, id: string): Promise<Snapshot> {
    const disks = await this.disks(vm);
    const snap = findSnapshot(await this.list(vm), vm, id);
    for (const d of disks) this.checkTag(vm, d, await this.qemu.listSnapshots(d.path), snap.name, true);
    const done: string[] = [];
    for (const d of disks) {
      try {
        await this.qemu.snapshot('apply', d.path, snap.name);
      } catch (err) {
        if (!done.length) throw err; // nothing changed yet: the error as it is
        throw new SysprepError('failed', 'SNAPSHOT_FAILED', `VM "${vm.name}": the revert to snapshot "${snap.name}" failed on disk ${d.path} after disk(s) ${done.join(', ')} were reverted: revert again (${(err as Error).message})`, { vm: vm.name, disk: d.path, reverted: done });
      }
      done.push(d.path);
    }
    sql(this.db, 'UPDATE vms SET current_snapshot = ? WHERE id = ?').run(snap.name, vm.id);
    return { ...snap, current: true };
  }

  async delete(vm: Vm, id: string): Promise<void> {
    const disks = await this.disks(vm);
    const snap = findSnapshot(await this.list(vm), vm, id);
    const holders: DiskRef[] = [];
    for (const d of disks) if (this.checkTag(vm, d, await this.qemu.listSnapshots(d.path), snap.name, false)) holders.push(d);
    for (const d of holders) await this.qemu.snapshot('delete', d.path, snap.name);
    this.db.transaction(() => {
      sql(this.db, 'DELETE FROM vm_snapshots WHERE vm_id = ? AND name = ?').run(vm.id, snap.name);
      sql(this.db, 'UPDATE vms SET current_snapshot = NULL WHERE id = ? AND current_snapshot = ?').run(vm.id, snap.name);
    })();
  }

  /**
   * The VM's disks a change may write: every one qcow2 and inside a storage root of the
   * VM's host (of every host when it has none).
   */
  private async disks(vm: Vm): Promise<DiskRef[]> {
    assertSnapshottable(vm);
    const roots = (await this.inventory.listHosts()).filter((h) => !vm.hostId || h.id === vm.hostId).flatMap((h) => h.storageRoots);
    const outside = vm.disks.find((d) => !roots.some((r) => underRoot(d.path, r)));
    if (outside) throw diskRefused(vm, outside.path, "it is not inside a storage root of the engine's hosts");
    return vm.disks;
  }

  /**
   * Whether disk `d` has the tag, which qemu-img must find as that snapshot and no other
   * (409 SNAPSHOT_AMBIGUOUS otherwise); `required`: a disk without it is refused (409
   * SNAPSHOT_INCOMPLETE: a revert would leave that disk as it is).
   */
  private checkTag(vm: Vm, d: DiskRef, table: InternalSnapshot[], name: string, required: boolean): boolean {
    const tagged = table.filter((t) => t.name === name);
    if (tagged.length > 1 || table.some((t) => t.id === name && t.name !== name)) {
      throw new ConflictError('SNAPSHOT_AMBIGUOUS', `VM "${vm.name}": disk ${d.path}: qemu-img would not find snapshot "${name}" alone (a second snapshot of that name, or one whose id is "${name}"): change it with qemu-img`, { field: 'sid', vm: vm.name, disk: d.path });
    }
    if (!tagged.length && required) {
      throw new ConflictError('SNAPSHOT_INCOMPLETE', `VM "${vm.name}": disk ${d.path} has no snapshot "${name}": a revert would leave it as it is`, { field: 'sid', vm: vm.name, disk: d.path });
    }
    return tagged.length > 0;
  }
}
