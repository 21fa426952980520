// End to end in oVirt mode (issue 14), with the REAL host agent and the REAL
// virt-sysprep (TCG, one run): the inventory actions a room needs, through the engine's
// routes and its VmCloning port, against the oVirt API test server (a stand-in: no oVirt
// engine can run here; helpers/ovirtApiServer.ts models the calls as oVirt answers them,
// asynchronous states included). Its volumes are laid out as vdsm shows them
// (vdsmVolumePath), each new one a qcow2 layer over its parent as vdsm makes them: the
// template's volume, a thin clone's layer over it, a snapshot's new leaf, a restore's.
//  1. POST /vms clones the golden template: the route's automatic reset runs (the only
//     virt-sysprep run), the watcher, which sees the clone's events, adds none;
//  2. a clone with marks (a room's) carries them back on GET /vms and gets no reset;
//  3. start, stop, snapshots (take two, restore the first, delete) and delete change the
//     test server's VMs, snapshots and volume chains as oVirt would;
//  4. a room of 2 VMs on oVirt through /rooms: rollout (thin clones with the room's mark,
//     one sysprep each with its own hostname and static address, its snapshot), reset
//     after a change on a disk (oVirt's restore), delete (two more virt-sysprep runs).
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { RunningEngine } from '../../../engine-plugin/engine';
import { guestRead } from '../../helpers/disk';
import { libguestfsEnv } from '../../helpers/guestImage';
import { copyGuestImage, GOLDEN_HOSTNAME, GOLDEN_MACHINE_ID, IDENTITY_PATHS } from '../../helpers/guestImage';
import { IDS, OvirtApiServer, vdsmVolumePath } from '../../helpers/ovirtApiServer';
import { OvirtStack, startOvirtStack } from './ovirtStack';

const execFileAsync = promisify(execFile);
jest.setTimeout(8 * 60_000);

const ADMIN = 'ovirt-e2e-actions-admin-token-0123';
const ROOM = { 'ovirt-sysprep-room': 'lab' };

describe('oVirt inventory actions: clone, power, snapshots, delete (real agent, real virt-sysprep once)', () => {
  let stack: OvirtStack;
  let ovirt: OvirtApiServer;
  let engine: RunningEngine;
  let mountRoot = '';
  const volumePath = (sdId: string, diskId: string, volumeId: string) => vdsmVolumePath(mountRoot, ovirt.storageDomains.find((sd) => sd.id === sdId), diskId, volumeId);
  const goldenDisk = () => ovirt.templates.find((t) => t.id === IDS.golden).disk_attachments.disk_attachment[0].disk;
  const goldenVolume = () => volumePath(goldenDisk().storage_domains.storage_domain[0].id, goldenDisk().id, goldenDisk().image_id);
  /** The VM's first disk volume as vdsm shows it. */
  const vmVolume = (vmId: string) => {
    const d = ovirt.vm(vmId).disk_attachments.disk_attachment[0].disk;
    return volumePath(d.storage_domains.storage_domain[0].id, d.id, d.image_id);
  };
  const backingOf = async (file: string): Promise<string> => JSON.parse((await execFileAsync('qemu-img', ['info', '-U', '--output=json', file])).stdout)['backing-filename'];

  beforeAll(async () => {
    stack = await startOvirtStack({
      prefix: 'ovirt-actions-e2e-',
      adminToken: ADMIN,
      ovirt: { eventsIntervalSec: 3600 }, // ticked by the test
      before: async (s) => {
        ({ ovirt, mountRoot } = s);
        await copyGuestImage(goldenVolume());
        // vdsm makes every new volume a qcow2 layer over its parent in the disk's image directory.
        ovirt.onVolume = async ({ sd, disk, volumeId, parentVolumeId, why }) => {
          const file = volumePath(sd.id, disk.id, volumeId);
          const parent = why === 'clone' ? goldenVolume() : volumePath(sd.id, disk.id, parentVolumeId);
          mkdirSync(path.dirname(file), { recursive: true });
          await execFileAsync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', parent, '-F', 'qcow2', file]);
        };
      },
    });
    engine = stack.engine;
  });
  afterAll(() => stack?.stop());

  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${engine.url}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const autoResetsOf = async (vmId: string) => (await api('GET', `/jobs?kind=auto-reset&vm=${vmId}`)).body.items as any[];
  const waitJob = async (id: string) => {
    for (;;) {
      const job = (await api('GET', `/jobs/${id}`)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(job.state)) return job;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  let cloneId = '';

  it('POST /vms makes a thin clone in oVirt and resets it once: new identity on its layer, the template volume unchanged, no second reset from the watcher', async () => {
    await engine.ovirt!.watcher.tick(); // begins after the newest event
    const r = await api('POST', '/vms', { name: 'e2e-clone', template: 'golden-el9' });
    expect(r.status).toBe(201);
    cloneId = r.body.vm.id;
    expect(ovirt.vm(cloneId)).toMatchObject({ status: 'down', template: { id: IDS.golden } });
    expect(await backingOf(vmVolume(cloneId))).toBe(goldenVolume());
    const job = await waitJob(r.body.job.id);
    expect(job).toMatchObject({ state: 'succeeded', kind: 'auto-reset', host: IDS.host1, target: { id: cloneId, name: 'e2e-clone' } });

    const files = await guestRead(vmVolume(cloneId), [IDENTITY_PATHS.hostname, IDENTITY_PATHS.machineId]);
    expect(files[IDENTITY_PATHS.hostname]?.trim()).toBe('e2e-clone');
    expect(files[IDENTITY_PATHS.machineId]?.trim()).not.toBe(GOLDEN_MACHINE_ID);
    const tpl = await guestRead(goldenVolume(), [IDENTITY_PATHS.hostname]);
    expect(tpl[IDENTITY_PATHS.hostname]?.trim()).toBe(GOLDEN_HOSTNAME);

    // oVirt logged the clone's creation (37, 53): the watcher sees it and leaves it alone.
    expect(ovirt.events.filter((e) => e.vm?.id === cloneId).map((e) => e.code)).toEqual(['37', '53']);
    await engine.ovirt!.watcher.tick();
    await engine.ovirt!.watcher.tick();
    expect((await autoResetsOf(cloneId)).length).toBe(1);
  });

  it("a room's clone carries its marks (VM comment) back on GET /vms and gets no automatic reset", async () => {
    const vm = await engine.deps.cloning!.cloneVm({ name: 'e2e-room-1', template: 'golden-el9', status: 'down', marks: ROOM });
    expect(vm.marks).toEqual(ROOM);
    expect(ovirt.vm(vm.id).comment).toContain('"ovirt-sysprep-room":"lab"');
    expect((await api('GET', '/vms/e2e-room-1')).body).toMatchObject({ id: vm.id, marks: ROOM, status: 'down' });
    await engine.ovirt!.watcher.tick();
    await engine.ovirt!.watcher.tick();
    expect(await autoResetsOf(vm.id)).toEqual([]);
    expect((await api('DELETE', '/vms/e2e-room-1')).status).toBe(204);
    expect(ovirt.vm(vm.id)).toBeUndefined();
  });

  it('starts and stops the clone, takes two snapshots, restores the first (the later one removed, a new leaf over its volume), deletes it, then the VM', async () => {
    expect((await api('POST', '/vms/e2e-clone/start')).body.status).toBe('up');
    expect(ovirt.vm(cloneId).status).toBe('up');
    expect((await api('POST', '/vms/e2e-clone/snapshots', { name: 'running' })).body.error.code).toBe('VM_NOT_DOWN');
    expect((await api('POST', '/vms/e2e-clone/stop')).body.status).toBe('down');

    const before = vmVolume(cloneId);
    const s1 = (await api('POST', '/vms/e2e-clone/snapshots', { name: 'rollout', description: 'rollout 192.0.2.101' })).body;
    expect(s1).toMatchObject({ description: 'rollout 192.0.2.101', current: true });
    // The snapshot keeps the volume the VM had; the VM goes on on a new leaf over it.
    const afterS1 = vmVolume(cloneId);
    expect(afterS1).not.toBe(before);
    expect(await backingOf(afterS1)).toBe(before);
    await new Promise((r) => setTimeout(r, 5));
    const s2 = (await api('POST', '/vms/e2e-clone/snapshots', { name: 'later' })).body;
    expect((await api('GET', '/vms/e2e-clone/snapshots')).body.items.map((s: any) => s.id)).toEqual([s1.id, s2.id]);

    const reverted = await api('POST', `/vms/e2e-clone/snapshots/${s1.id}/revert`);
    expect(reverted).toMatchObject({ status: 200, body: { id: s1.id, current: true } });
    expect(ovirt.snapshotsOf(cloneId).filter((s) => s.snapshot_type === 'regular').map((s) => s.id)).toEqual([s1.id]);
    expect(await backingOf(vmVolume(cloneId))).toBe(before);
    expect(ovirt.vm(cloneId).status).toBe('down');

    expect((await api('DELETE', `/vms/e2e-clone/snapshots/${s1.id}`)).status).toBe(204);
    expect((await api('GET', '/vms/e2e-clone/snapshots')).body.items).toEqual([]);
    expect((await api('DELETE', '/vms/e2e-clone')).status).toBe(204);
    expect(ovirt.vm(cloneId)).toBeUndefined();
    expect(ovirt.actions).toEqual(expect.arrayContaining(['start e2e-clone', 'stop e2e-clone', 'snapshot e2e-clone rollout 192.0.2.101', 'restore e2e-clone rollout 192.0.2.101', 'remove-snapshot e2e-clone rollout 192.0.2.101', 'remove e2e-clone']));
  });

  it('a room on oVirt: rollout (own hostname and address per VM, a snapshot each), reset after a change (restore), delete', async () => {
    const source = `version: 1
rooms:
  ovlab:
    template: golden-el9
    snapshot_description: "ovlab \${ip} at \${rollout_time}"
    reset_to_snapshot: "^ovlab "
    params:
      network:
        - { name: eth0, address: { ipFromIndex: 192.0.2.100/24 }, gateway: 192.0.2.1 }
    vms:
      - ids: "1-2"
        names: "ovlab-\${id}"
        hostname: "ovlab-pc\${id}"
`;
    const body = (extra: object = {}) => ({ file: 'rooms.yaml', source, ...extra });
    const rollout = await api('POST', '/rooms/ovlab/rollout', body());
    if (rollout.status !== 202) throw new Error(`rollout answered ${rollout.status}: ${JSON.stringify(rollout.body)}`);
    expect((await waitJob(rollout.body.job.id)).state).toBe('succeeded');
    // The snapshot is a follow-up step after each VM's sysprep: wait for the room to show it.
    let shown: any;
    for (let i = 0; i < 240; i++) {
      shown = (await api('POST', '/rooms/ovlab/show', body())).body;
      if (shown.vms.every((v: any) => v.snapshots?.some((sn: any) => sn.matches))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(shown.vms.map((v: any) => [v.name, v.exists, v.marked, v.snapshots.length])).toEqual([['ovlab-1', true, true, 1], ['ovlab-2', true, true, 1]]);
    expect(shown.vms[1].snapshots[0].description).toMatch(/^ovlab 192\.0\.2\.102 at /);
    const ids = shown.vms.map((v: any) => ovirt.vms.find((x: any) => x.name === v.name).id);
    for (const [i, id] of ids.entries()) {
      const f = await guestRead(vmVolume(id), [IDENTITY_PATHS.hostname, '/etc/network/interfaces']);
      expect(f[IDENTITY_PATHS.hostname]?.trim()).toBe(`ovlab-pc${i + 1}`);
      expect(f['/etc/network/interfaces']).toContain(`192.0.2.${101 + i}/24`);
    }
    expect((await autoResetsOf(ids[0])).length).toBe(0); // the room's own sysprep only

    // A change on VM 1's disk, then reset: oVirt restores the rollout snapshot.
    const probe = '/etc/ovlab-probe';
    await execFileAsync('guestfish', ['-a', vmVolume(ids[0]), '-i', 'write', probe, 'changed'], { env: libguestfsEnv(), timeout: 300_000 });
    const reset = await api('POST', '/rooms/ovlab/reset', body());
    expect(reset).toMatchObject({ status: 200, body: { failed: 0 } });
    expect(ovirt.actions).toEqual(expect.arrayContaining([expect.stringMatching(/^restore ovlab-1 ovlab 192\.0\.2\.101 at /)]));
    expect((await guestRead(vmVolume(ids[0]), [probe]))[probe]).toBeNull();

    const del = await api('POST', '/rooms/ovlab/delete', body());
    expect(del).toMatchObject({ status: 200, body: { failed: 0 } });
    for (const id of ids) expect(ovirt.vm(id)).toBeUndefined();
  });
});
