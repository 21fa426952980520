// Snapshots on oVirt (VmSnapshots): the VM's snapshots sub-collection of the REST API
// (api-model services/SnapshotsService.java, SnapshotService.java).
//   * list: the "regular" snapshots (those users take; "active" is the VM itself,
//     "preview" and "stateless" are the engine's own), oldest first. oVirt has no
//     snapshot name: `name` is the description (else the id). The newest is `current`:
//     the active layer sits on it (a restore removes the ones after it, see revert);
//   * create: POST {description, persist_memorystate: false} (the VM is down: no RAM);
//     oVirt has one text per snapshot: the description when given, else the name. oVirt
//     answers it locked (and the VM image_locked) until vdsm has made the new layer:
//     waited for until the snapshot is ok;
//   * revert: POST .../restore {restore_memory: false}, oVirt's preview and commit in one
//     (TryBackToAllSnapshotsOfVm + RestoreAllSnapshots): the disks come back as they were,
//     the snapshots taken AFTER it are removed, and the VM is image_locked meanwhile:
//     waited for until it is down with no snapshot locked or in preview;
//   * delete: DELETE (a cold merge: the snapshot is locked while vdsm merges its layer):
//     waited for until it is gone.
// A snapshot is named by id, or by a description that only one snapshot has (404
// SNAPSHOT_NOT_FOUND on `sid` otherwise). The routes check that the VM is down and free.
import { inject, injectable } from 'tsyringe';
import { ConflictError, NotFoundError } from '../../shared/errors';
import type { Vm } from '../inventory/Inventory';
import type { Snapshot, VmSnapshots } from '../inventory/VmSnapshots';
import { OvirtClient } from './OvirtClient';
import { OvirtConfig } from './OvirtConfig';
import { OvirtInventory } from './OvirtInventory';
import { items, OvSnapshot, toSnapshots } from './ovirtModel';
import { waitFor } from './ovirtWait';

/** Nothing oVirt is still doing on the VM's snapshots. */
const settled = (list: OvSnapshot[]): boolean => list.every((s) => s.snapshot_status !== 'locked' && s.snapshot_status !== 'in_preview');

@injectable()
export class OvirtSnapshots implements VmSnapshots {
  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtInventory) private readonly inventory: OvirtInventory,
    @inject(OvirtConfig) private readonly config: OvirtConfig,
  ) {}

  async list(vm: Vm): Promise<Snapshot[]> {
    return toSnapshots(await this.raw(vm));
  }

  async create(vm: Vm, name: string, description?: string): Promise<Snapshot> {
    const text = description || name;
    const created = await this.client.post<OvSnapshot>(`/vms/${vm.id}/snapshots`, { description: text, persist_memorystate: false });
    await this.settle(vm, `snapshot "${text}" of VM "${vm.name}" to be taken`, (list) => list.some((s) => s.id === created.id && s.snapshot_status === 'ok'));
    return this.find(vm, created.id);
  }

  async revert(vm: Vm, id: string): Promise<Snapshot> {
    const snap = await this.find(vm, id);
    await this.client.post(`/vms/${vm.id}/snapshots/${snap.id}/restore`, { restore_memory: false });
    await this.settle(vm, `VM "${vm.name}" to be restored to snapshot "${snap.name}"`, () => true);
    return this.find(vm, snap.id);
  }

  async delete(vm: Vm, id: string): Promise<void> {
    const snap = await this.find(vm, id);
    await this.client.delete(`/vms/${vm.id}/snapshots/${snap.id}`);
    await this.settle(vm, `snapshot "${snap.name}" of VM "${vm.name}" to be removed`, (list) => !list.some((s) => s.id === snap.id));
  }

  /** The regular snapshot with this id, or the only one with this description. */
  private async find(vm: Vm, id: string): Promise<Snapshot> {
    const list = await this.list(vm);
    const byId = list.find((s) => s.id === id);
    if (byId) return byId;
    const named = list.filter((s) => s.description === id);
    if (named.length > 1) throw new ConflictError('SNAPSHOT_AMBIGUOUS', `VM "${vm.name}" has ${named.length} snapshots described "${id}": name one by its id`, { field: 'sid', ids: named.map((s) => s.id) });
    if (!named.length) throw new NotFoundError('SNAPSHOT_NOT_FOUND', `VM "${vm.name}" has no snapshot "${id}"`, { field: 'sid', vm: vm.name });
    return named[0];
  }

  private async raw(vm: Vm): Promise<OvSnapshot[]> {
    return items<OvSnapshot>(await this.client.get(`/vms/${vm.id}/snapshots`), 'snapshot');
  }

  /** Waits until the VM is down (not image_locked), its snapshots settled, and `done`. */
  private async settle(vm: Vm, what: string, done: (list: OvSnapshot[]) => boolean): Promise<void> {
    this.inventory.invalidate();
    await waitFor({
      what,
      timeoutMs: this.config.readyTimeoutSec * 1000,
      read: async () => ({ vm: await this.inventory.rawVm(vm.id), list: await this.raw(vm) }),
      done: ({ vm: v, list }) => v?.status === 'down' && settled(list) && done(list),
      describe: ({ vm: v, list }) => `VM ${v?.status ?? 'gone'}, snapshots ${list.map((s) => `${s.description ?? s.id}: ${s.snapshot_status}`).join(', ')}`,
    });
  }
}
