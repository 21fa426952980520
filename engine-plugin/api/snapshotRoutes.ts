// A VM's snapshots: list, create, revert, delete through the snapshot port (VmSnapshots:
// internal qcow2 snapshots, through libvirt or qemu-img; oVirt answers 400 NOT_SUPPORTED).
// A change is refused while a job holds the VM (409 VM_BUSY, as the power actions) and
// while the VM is not down (409 VM_NOT_DOWN: a snapshot of a running VM would also save
// its RAM, and a revert would pull its disks from under it).
import { z } from 'zod';
import type { VmSnapshots } from '../inventory/VmSnapshots';
import { requireVm } from '../inventory/requireEntity';
import { vmNotDown } from '../jobs/checkWorkable';
import type { ApiDeps } from './deps';
import { portOf } from './inventoryRoutes';
import type { RouteTable } from './RouteTable';

/** A snapshot name: what virsh, qemu-img's tag and a URL path take as they are. */
export const SNAPSHOT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const snapshotBodySchema = z
  .object({
    name: z.string().regex(SNAPSHOT_NAME, 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
    description: z.string().max(1000).regex(/^[^\p{Cc}]*$/u, 'must hold no control characters (newlines included)').optional(),
  })
  .strict();

/** Why the inventories without the port refuse it, by [engine] inventory. */
const NO_SNAPSHOTS: Partial<Record<string, string>> = {
  ovirt: 'this inventory is managed by oVirt: take and restore snapshots there (a job keeps them, docs/ovirt.md)',
};

export function snapshotRoutes(t: RouteTable, d: ApiDeps): void {
  const snapshotsOf = (): VmSnapshots => portOf(d, d.snapshots, NO_SNAPSHOTS[d.config.inventory]);
  /** The VM a snapshot change may act on: known, down, and no job holding it. */
  const changeTarget = async (id: string) => {
    const vm = await requireVm(d.inventory, id);
    d.locks.checkFree(vm);
    if (vm.status !== 'down') throw vmNotDown(vm);
    return vm;
  };

  t.add({ method: 'get', path: '/vms/:id/snapshots', tag: 'vms', summary: "The VM's snapshots, parents first (internal qcow2 snapshots)", role: 'viewer', status: 200 }, async ({ params }) => {
    const snapshots = snapshotsOf();
    return { items: await snapshots.list(await requireVm(d.inventory, params.id)) };
  });
  t.add({ method: 'post', path: '/vms/:id/snapshots', tag: 'vms', summary: 'Snapshot the disks of a VM that is down ({name, description?}); refused while a job holds it', role: 'operator', status: 201, body: snapshotBodySchema }, async ({ params, body }) => {
    const snapshots = snapshotsOf();
    return snapshots.create(await changeTarget(params.id), body.name, body.description);
  });
  t.add({ method: 'post', path: '/vms/:id/snapshots/:sid/revert', tag: 'vms', summary: "Put a VM's disks back as they were in the snapshot; the VM must be down and stays down", role: 'operator', status: 200 }, async ({ params }) => {
    const snapshots = snapshotsOf();
    return snapshots.revert(await changeTarget(params.id), params.sid);
  });
  t.add({ method: 'delete', path: '/vms/:id/snapshots/:sid', tag: 'vms', summary: 'Delete a snapshot of a VM that is down; the disks keep their current content', role: 'operator', status: 204 }, async ({ params }) => {
    const snapshots = snapshotsOf();
    await snapshots.delete(await changeTarget(params.id), params.sid);
  });
}
