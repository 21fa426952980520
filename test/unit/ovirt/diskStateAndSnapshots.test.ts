// Issue 12, items 8 and 9, against the oVirt API test server and a FAKE agent: the
// engine refuses work on a VM or template whose disks oVirt keeps locked or illegal, and
// on a VM previewing a snapshot, before anything is created; a job on a VM with older
// snapshots names them (they still hold the old identity).
//
// oVirt behaviour the expected values come from (ovirt-engine 0111fc6, api-model 4fb1a80):
//  * a cold disk move or copy locks the disk while the VM stays Down: MoveDiskCommand
//    (backend/.../bll/storage/disk/MoveDiskCommand.java, getMoveActionType: a Down VM or
//    an unplugged disk -> MoveOrCopyDisk, no VM status change) runs CopyImageGroupCommand
//    whose executeCommand() calls lockImage(): every volume of the disk ImageStatus.LOCKED;
//  * the API renders ImageStatus OK / LOCKED / ILLEGAL as disk status "ok" / "locked" /
//    "illegal" (restapi/types DiskMapper.mapDiskStatus; api-model types/DiskStatus.java);
//  * a preview leaves the previewed snapshot snapshot_status "in_preview"
//    (TryBackToAllSnapshotsOfVmCommand.restoreVmConfigFromSnapshot) and the VM Down again;
//    undo (RestoreAllSnapshotsCommand, UNDO) throws the preview's active leaf away;
//  * GET /vms/{id}?follow=snapshots inlines the snapshots link (restapi LinkFollower,
//    api-model types/Vm.java `@Link Snapshot[] snapshots()`); snapshot fields from
//    SnapshotMapper.map and api-model types/Snapshot.java; dates are epoch ms in JSON.
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../../engine-plugin/cli/CliIo';
import { run } from '../../../engine-plugin/cli/main';
import { IDS } from '../../helpers/ovirtApiServer';
import { ADMIN_TOKEN, ovirtHarness, OvirtHarness, until } from './ovirtHarness';

jest.setTimeout(60_000);

describe('[ovirt] disk state and snapshots before work (contract, oVirt API test server + fake agent)', () => {
  let h: OvirtHarness;
  beforeEach(async () => {
    h = await ovirtHarness();
  });
  afterEach(() => h?.close());

  /** Nothing was created anywhere: no engine job, no agent call, no oVirt external job. */
  const nothingCreated = async () => {
    expect((await h.api('GET', '/jobs')).body.total).toBe(0);
    expect(h.agent.startCalls).toEqual([]);
    expect(h.ovirt.jobCalls()).toEqual([]);
  };

  describe('disk status (item 9)', () => {
    it('refuses a Down VM whose disk a cold move or copy holds locked: 409 DISK_LOCKED naming the VM and the disk', async () => {
      // MoveDiskCommand -> MoveOrCopyDisk for a Down VM; CopyImageGroupCommand.lockImage(): disk LOCKED, VM still Down.
      const vm = h.ovirt.addVm({ name: 'moving-01', status: 'down' });
      h.ovirt.setDiskStatus(vm, 'locked');
      const r = await h.api('POST', `/vms/${vm.id}/sysprep`, {});
      expect(r.status).toBe(409);
      expect(r.body.error).toMatchObject({ code: 'DISK_LOCKED', details: { vm: 'moving-01', status: 'locked', disk: expect.stringContaining(vm.disk_attachments.disk_attachment[0].disk.id) } });
      expect(r.body.error.message).toContain('moving-01');
      await nothingCreated();
      // The read was live (a VM read, not a cached listing): once the copy ends, it runs.
      h.ovirt.setDiskStatus(vm, 'ok');
      expect((await h.api('POST', `/vms/${vm.id}/sysprep`, { dryRun: true })).status).toBe(202);
    });

    it('refuses a VM with an illegal disk: 409 DISK_ILLEGAL', async () => {
      const vm = h.ovirt.addVm({ name: 'broken-01', status: 'down', disks: 2 });
      h.ovirt.setDiskStatus(vm, 'illegal', 1); // DiskMapper.mapDiskStatus(ImageStatus.ILLEGAL)
      const r = await h.api('POST', `/vms/broken-01/sysprep`, {});
      expect(r).toMatchObject({ status: 409, body: { error: { code: 'DISK_ILLEGAL', details: { vm: 'broken-01', status: 'illegal', disk: expect.stringContaining(vm.disk_attachments.disk_attachment[1].disk.id) } } } });
      await nothingCreated();
    });

    it('refuses to seal a template whose disk is locked, read live (no cached template)', async () => {
      const vm = h.ovirt.addVm({ name: 'for-template', template: IDS.blank });
      const tplId = '7e6d5c4b-3a29-4188-b7a6-9584a3b2c1f0';
      const tpl = { href: `/ovirt-engine/api/templates/${tplId}`, id: tplId, name: 'golden-copying', status: 'ok', disk_attachments: vm.disk_attachments };
      h.ovirt.vms = h.ovirt.vms.filter((v) => v.id !== vm.id); // the disks are the template's only
      h.ovirt.templates.push(tpl);
      expect((await h.api('POST', `/templates/golden-copying/sysprep`, { dryRun: true })).status).toBe(202);
      h.ovirt.setDiskStatus(tpl, 'locked'); // a copy to another domain (CopyImageGroupCommand.lockImage)
      const r = await h.api('POST', `/templates/${tplId}/sysprep`, { dryRun: true });
      expect(r).toMatchObject({ status: 409, body: { error: { code: 'DISK_LOCKED', details: { template: 'golden-copying', status: 'locked' } } } });
      expect((await h.api('GET', '/jobs')).body.total).toBe(1); // only the first, allowed one
    });

    it('in a bulk job fails the child of a VM with a locked disk at once, as for a VM that is not Down, and runs the others', async () => {
      const ok = h.ovirt.addVm({ name: 'bulk-ok' });
      const locked = h.ovirt.addVm({ name: 'bulk-locked', diskStatus: 'locked' });
      const r = await h.api('POST', '/sysprep', { vms: [ok.id, locked.id, 'db-01'] });
      expect(r.status).toBe(202);
      const job = await h.waitJob(r.body.job.id);
      const byName = Object.fromEntries(job.children.map((c: any) => [c.target.name, c]));
      expect(byName['bulk-locked']).toMatchObject({ state: 'failed', error: { code: 'DISK_LOCKED' } });
      expect(byName['db-01']).toMatchObject({ state: 'failed', error: { code: 'VM_NOT_DOWN' } });
      expect(byName['bulk-ok'].state).toBe('succeeded');
      expect(h.agent.startCalls).toEqual([byName['bulk-ok'].id]);
    });

    it('keeps the automatic reset waiting for the disks: a locked disk is refused even on an image_locked new VM, an OK one is reset', async () => {
      const vm = h.ovirt.addVm({ name: 'new-clone', status: 'image_locked', diskStatus: 'locked' });
      const asVm = async () => (await h.engine.deps.inventory.getVm(vm.id))!;
      const refused = await h.engine.deps.autoReset.onVmAdded(await asVm(), 'clone', 'ovirt');
      expect(refused.job).toBeUndefined();
      expect(refused.error).toMatchObject({ code: 'DISK_LOCKED' });
      expect(h.agent.startCalls).toEqual([]);
      h.ovirt.setDiskStatus(vm, 'ok'); // the copy ended; oVirt still shows the VM image_locked
      const started = await h.engine.deps.autoReset.onVmAdded(await asVm(), 'clone', 'ovirt');
      expect(started.job?.kind).toBe('auto-reset');
      await until(() => h.agent.startCalls.length === 1, 5000, 'the reset dispatched');
    });
  });

  describe('snapshots (item 8)', () => {
    it('reads the VM with its snapshots in the same live request (follow=snapshots)', async () => {
      const vm = h.ovirt.addVm({ name: 'snap-read' });
      h.ovirt.addSnapshot(vm.id, 'before update', Date.parse('2025-03-01T10:00:00Z'));
      const got = await h.engine.deps.inventory.getVm(vm.id);
      expect(got).toMatchObject({ snapshotInPreview: undefined, snapshots: [{ description: 'before update', date: '2025-03-01T10:00:00.000Z' }] });
      const read = h.ovirt.calls.filter((c) => c.path === `/vms/${vm.id}`).at(-1);
      expect(read?.query.follow?.split(',')).toEqual(expect.arrayContaining(['disk_attachments.disk', 'snapshots']));
      expect(h.ovirt.calls.some((c) => c.path.endsWith('/snapshots'))).toBe(false);
    });

    it('refuses a VM previewing a snapshot (409 SNAPSHOT_IN_PREVIEW, nothing created); after undo it runs', async () => {
      const vm = h.ovirt.addVm({ name: 'previewing' });
      const s = h.ovirt.addSnapshot(vm.id, 'golden state', Date.parse('2025-01-02T03:04:05Z'));
      h.ovirt.previewSnapshot(vm.id, s.id); // TryBackToAllSnapshotsOfVmCommand: in_preview, VM Down again
      const r = await h.api('POST', `/vms/previewing/sysprep`, {});
      expect(r).toMatchObject({ status: 409, body: { error: { code: 'SNAPSHOT_IN_PREVIEW', details: { vm: 'previewing', snapshot: 'golden state' } } } });
      await nothingCreated();
      // In a bulk job, the same refusal fails that VM's child only.
      const bulk = await h.waitJob((await h.api('POST', '/sysprep', { vms: [vm.id, 'web-01'] })).body.job.id);
      expect(bulk.children.find((c: any) => c.target.name === 'previewing')).toMatchObject({ state: 'failed', error: { code: 'SNAPSHOT_IN_PREVIEW' } });

      h.ovirt.undoPreview(vm.id); // RestoreAllSnapshotsCommand UNDO
      expect((await h.api('POST', `/vms/previewing/sysprep`, { dryRun: true })).status).toBe(202);
    });

    it('names, on the job, the snapshots that still hold the old identity (oldest first), and none for a VM without', async () => {
      const vm = h.ovirt.addVm({ name: 'with-snaps' });
      const s1 = h.ovirt.addSnapshot(vm.id, 'after install', Date.parse('2025-02-01T08:00:00Z'));
      const s2 = h.ovirt.addSnapshot(vm.id, 'before patch', Date.parse('2025-02-10T08:00:00Z'));
      const r = await h.api('POST', `/vms/${vm.id}/sysprep`, {});
      expect(r.status).toBe(202);
      expect(r.body.job.target).toEqual({
        type: 'vm', id: vm.id, name: 'with-snaps',
        snapshotsWithOldIdentity: [
          { id: s1.id, description: 'after install', date: '2025-02-01T08:00:00.000Z' },
          { id: s2.id, description: 'before patch', date: '2025-02-10T08:00:00.000Z' },
        ],
      });
      // Kept on the record (and in a bulk job's child summaries, which carry the target).
      expect((await h.waitJob(r.body.job.id)).target.snapshotsWithOldIdentity).toHaveLength(2);
      const bulk = await h.waitJob((await h.api('POST', '/sysprep', { vms: [vm.id, 'web-01'] })).body.job.id);
      expect(bulk.children.find((c: any) => c.target.name === 'with-snaps').target.snapshotsWithOldIdentity.map((x: any) => x.description)).toEqual(['after install', 'before patch']);
      expect(bulk.children.find((c: any) => c.target.name === 'web-01').target).toEqual({ type: 'vm', id: IDS.web01, name: 'web-01' });

      // The CLI's `job show` says it too (real CLI over real HTTP).
      let out = '';
      const io: CliIo = {
        out: (x) => void (out += x),
        err: () => undefined,
        env: { OVIRT_SYSPREP_URL: h.engine.url, OVIRT_SYSPREP_TOKEN: ADMIN_TOKEN, HOME: '/nonexistent' },
        stdout: new PassThrough() as unknown as CliIo['stdout'],
        files: { read: () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); }, mode: () => 0o100600 },
      };
      expect(await run(['node', 'ovirt-sysprep', 'job', 'show', r.body.job.id], io)).toBe(0);
      expect(out).toContain('  note: 2 snapshots of with-snaps still hold the old identity: "after install" (2025-02-01), "before patch" (2025-02-10)\n');
    });
  });
});
