// End to end in oVirt mode, with the REAL host agent and the REAL virt-sysprep (TCG):
// the oVirt API test server's storage domain `vm_data` (NFS nfs.example.com:/exports/vm_data,
// a "_" in the remote path) is laid out as vdsm mounts it
// (<mount root>/nfs.example.com:_exports_vm__data/<sd>/images/<disk>/<volume>, under a temp
// storage root; helpers/ovirtApiServer.ts vdsmVolumePath models vdsm apart from the
// adapter) on copies of the fixture guest image. Two ways a VM comes to exist:
//  1. imported from an export domain (event 1152);
//  2. cloned with oVirt's "Clone VM": template Blank, original_template the golden one,
//     a new collapsed disk, events 37 then 53 (see that test for the sources).
// The engine's event watcher starts the automatic reset; afterwards the disk has the VM's
// name as hostname, a new machine-id and no SSH host keys, and the oVirt external job
// ended finished. One virt-sysprep run per scenario.
import * as path from 'node:path';
import type { RunningEngine } from '../../../engine-plugin/engine';
import { guestRead } from '../../helpers/disk';
import { copyGuestImage, GOLDEN_HOSTNAME, GOLDEN_MACHINE_ID, IDENTITY_PATHS } from '../../helpers/guestImage';
import { IDS, OvirtApiServer, vdsmVolumePath } from '../../helpers/ovirtApiServer';
import { OvirtStack, startOvirtStack } from './ovirtStack';

jest.setTimeout(8 * 60_000);

const ADMIN = 'ovirt-e2e-admin-token-0123456789';

describe('oVirt import and clone -> automatic reset (real agent, real virt-sysprep)', () => {
  let stack: OvirtStack;
  let ovirt: OvirtApiServer;
  let engine: RunningEngine;
  let mountRoot = '';

  beforeAll(async () => {
    stack = await startOvirtStack({ prefix: 'ovirt-e2e-', adminToken: ADMIN });
    ({ ovirt, engine, mountRoot } = stack);
  });
  afterAll(() => stack?.stop());

  const api = async (method: string, url: string) => {
    const res = await fetch(`${engine.url}/api/v1${url}`, { method, headers: { authorization: `Bearer ${ADMIN}` } });
    return res.json();
  };
  const sdVmData = () => ovirt.storageDomains.find((sd) => sd.id === IDS.sdVmData);

  /** The VM's automatic reset job, once it has ended; it must have succeeded on host-01. */
  const autoReset = async (vmId: string, name: string, after: string) => {
    let job: any;
    const until = Date.now() + 60_000;
    while (!job) {
      if (Date.now() > until) throw new Error(`no automatic reset job after ${after}`);
      job = (await api('GET', `/jobs?kind=auto-reset&vm=${vmId}`)).items[0];
      if (!job) await new Promise((r) => setTimeout(r, 250));
    }
    expect(job).toMatchObject({ target: { id: vmId, name }, profile: 'clone-reset' });
    for (;;) {
      job = await api('GET', `/jobs/${job.id}`);
      if (['succeeded', 'failed', 'cancelled'].includes(job.state)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(job).toMatchObject({ state: 'succeeded', host: IDS.host1 });
    expect(job.steps.map((s: { operation: string }) => s.operation)).toEqual(expect.arrayContaining(['machine-id', 'ssh-hostkeys', 'customize']));
    return job;
  };

  /** The guest on `disk` now has the VM's name, a new machine-id and no SSH host keys. */
  const expectNewIdentity = async (disk: string, name: string) => {
    const files = await guestRead(disk, [IDENTITY_PATHS.hostname, IDENTITY_PATHS.machineId, ...IDENTITY_PATHS.sshHostKeys]);
    expect(files[IDENTITY_PATHS.hostname]?.trim()).toBe(name);
    expect(files[IDENTITY_PATHS.hostname]?.trim()).not.toBe(GOLDEN_HOSTNAME);
    const machineId = files[IDENTITY_PATHS.machineId]?.trim() ?? '';
    expect(machineId).toMatch(/^[0-9a-f]{32}$/);
    expect(machineId).not.toBe(GOLDEN_MACHINE_ID);
    for (const key of IDENTITY_PATHS.sshHostKeys) expect(files[key]).toBeNull();
  };

  it('resets an imported VM: new hostname, new machine-id, no host keys; the oVirt job ends finished', async () => {
    const diskId = '4c4c4c4c-0000-4000-8000-00000000e001';
    const volumeId = '5e5e5e5e-0000-4000-8000-00000000e001';
    const disk = vdsmVolumePath(mountRoot, sdVmData(), diskId, volumeId);
    expect(path.relative(mountRoot, disk).split(path.sep)[0]).toBe('nfs.example.com:_exports_vm__data');
    await copyGuestImage(disk);
    // The watcher has begun at the newest event; the import comes after.
    await engine.ovirt!.watcher.tick();
    const vm = ovirt.addVm({ name: 'imported-web', diskId, volumeId, format: 'cow', sd: IDS.sdVmData });
    ovirt.addEvent(1152, vm.id, 'Vm imported-web was imported successfully to Data Center Default, Cluster Default');

    const job = await autoReset(vm.id, 'imported-web', 'the import event');
    await expectNewIdentity(disk, 'imported-web');

    // oVirt's Tasks view: the external job, its steps, and its end, all with the job's Correlation-Id.
    await engine.ovirt!.mirror.idle();
    const calls = ovirt.jobCalls();
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/jobs', correlationId: job.id });
    expect(calls.at(-1)).toMatchObject({ method: 'POST', path: expect.stringMatching(/^\/jobs\/[^/]+\/end$/), body: { succeeded: true, force: true }, correlationId: job.id });
    const ovirtJob = [...ovirt.jobs.values()][0];
    expect(ovirtJob.status).toBe('finished');
    expect(ovirtJob.steps.map((s: { description: string }) => s.description)).toEqual(expect.arrayContaining(['machine-id on VM imported-web', 'ssh-hostkeys on VM imported-web']));
    // The lifecycle guard tagged the VM while the job ran, and removed the tag.
    expect(ovirt.calls.some((c) => c.method === 'POST' && c.path === `/vms/${vm.id}/tags`)).toBe(true);
    expect(ovirt.vmTags.get(vm.id)?.size ?? 0).toBe(0);
  });

  // "Clone VM" as ovirt-engine 0111fc6 does it (backend/manager/modules/bll):
  //  * CloneVmCommand extends AddVmAndCloneImageCommand extends AddVmCommand; the new VM's
  //    template is set to Blank (AddVmAndCloneImageCommand.executeVmCommand,
  //    CloneVmCommand.createUpdateVmParameters) and its original template is the source
  //    VM's (CloneVmCommand.updateOriginalTemplate): here the golden template;
  //  * the disks are new images copied from the source (new disk and image ids, no parent
  //    and no template image: AddVmAndCloneImageCommand), locked while the copy runs
  //    (storage/disk/image/CopyImageGroupCommand) while the VM is image_locked
  //    (AddVmCommand -> VmHandler.lockVm);
  //  * audit log (AddVmCommand.getAuditLogTypeValue, common/AuditLogType.java): 37
  //    USER_ADD_VM_STARTED when the copy starts, 53 USER_ADD_VM_FINISHED_SUCCESS when it
  //    has ended; both name the VM.
  it('resets a VM cloned with "Clone VM" (template Blank, original_template golden, events 37 then 53)', async () => {
    const diskId = '4c4c4c4c-0000-4000-8000-00000000e002';
    const volumeId = '5e5e5e5e-0000-4000-8000-00000000e002';
    const disk = vdsmVolumePath(mountRoot, sdVmData(), diskId, volumeId);
    await copyGuestImage(disk);
    await engine.ovirt!.watcher.tick();
    const vm = ovirt.addVm({ name: 'clone-web', status: 'image_locked', template: IDS.blank, diskId, volumeId, format: 'cow', sd: IDS.sdVmData, diskStatus: 'locked' });
    vm.original_template = { href: `/ovirt-engine/api/templates/${IDS.golden}`, id: IDS.golden };
    ovirt.addEvent(37, vm.id, 'VM clone-web creation was initiated by admin@internal-authz.');
    await engine.ovirt!.watcher.tick();
    // The copy has ended: the VM is Down, its disk ok.
    vm.status = 'down';
    vm.disk_attachments.disk_attachment[0].disk.status = 'ok';
    ovirt.addEvent(53, vm.id, 'VM clone-web creation has been completed.');

    await autoReset(vm.id, 'clone-web', 'the clone events (37, 53)');
    await expectNewIdentity(disk, 'clone-web');
  });
});
