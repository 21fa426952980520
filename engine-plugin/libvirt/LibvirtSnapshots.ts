// Snapshots on libvirt: internal qcow2 snapshots of a SHUT-OFF domain (`virsh
// snapshot-create-as` on an inactive domain: libvirt runs `qemu-img snapshot` on each
// disk; no RAM is saved), listed, reverted and deleted through libvirt, so virsh and
// virt-manager see the same snapshots as the engine.
//   * The routes check that the VM is down and that no job holds it; here: every disk must
//     be qcow2 (409 DISK_UNSUPPORTED otherwise: a raw file has no snapshot table).
//   * A revert or delete names a snapshot read from libvirt just before (404
//     SNAPSHOT_NOT_FOUND, details.field = "sid", otherwise): no request value reaches
//     virsh as a snapshot name but a created one, which the route validated.
//   * Only a snapshot of a shut-off domain is reverted to: reverting to one taken while
//     the domain ran (made with virsh) would start it, and the engine never boots a VM
//     as a side effect: 409 SNAPSHOT_NOT_OFFLINE.
import { inject, injectable } from 'tsyringe';
import { ConflictError } from '../../shared/errors';
import type { Vm } from '../inventory/Inventory';
import { assertSnapshottable, findSnapshot, type Snapshot, type VmSnapshots } from '../inventory/VmSnapshots';
import { LibvirtDaemons } from './LibvirtDaemons';
import { parseSnapshotXml } from './snapshotXml';

@injectable()
export class LibvirtSnapshots implements VmSnapshots {
  constructor(@inject(LibvirtDaemons) private readonly daemons: LibvirtDaemons) {}

  async list(vm: Vm): Promise<Snapshot[]> {
    const virsh = this.daemons.of(vm.hostId);
    const names = await virsh.snapshotNames(vm.id);
    const [docs, current] = await Promise.all([virsh.snapshotXml(vm.id, names), names.length ? virsh.currentSnapshot(vm.id) : undefined]);
    return docs.map((doc) => {
      const s = parseSnapshotXml(doc);
      return { ...s, current: s.name === current };
    });
  }

  async create(vm: Vm, name: string, description?: string): Promise<Snapshot> {
    assertSnapshottable(vm);
    await this.daemons.of(vm.hostId).snapshotCreate(vm.id, name, description);
    return this.find(vm, name);
  }

  async revert(vm: Vm, id: string): Promise<Snapshot> {
    const snap = await this.find(vm, id);
    if (snap.vmState !== 'shutoff') {
      throw new ConflictError('SNAPSHOT_NOT_OFFLINE', `snapshot "${snap.name}" of VM "${vm.name}" was taken while the VM was ${snap.vmState ?? 'in an unknown state'}: reverting to it would start the VM; only snapshots of a shut-off VM are reverted to`, { field: 'sid', vmState: snap.vmState });
    }
    await this.daemons.of(vm.hostId).snapshotRevert(vm.id, snap.name);
    return { ...snap, current: true }; // libvirt makes the snapshot reverted to the current one
  }

  async delete(vm: Vm, id: string): Promise<void> {
    const snap = await this.find(vm, id);
    await this.daemons.of(vm.hostId).snapshotDelete(vm.id, snap.name);
  }

  /** The snapshot named `id`, read from libvirt now. */
  private async find(vm: Vm, id: string): Promise<Snapshot> {
    return findSnapshot(await this.list(vm), vm, id);
  }
}
