// Contract tests of the inventory actions on oVirt (issue 14): clone with marks, power,
// snapshots and delete through oVirt's REST API, against the oVirt API test server (a
// stand-in: no oVirt engine runs here) and a FAKE agent; the real engine and its routes.
// Each checks the test server's state changed as oVirt's would, the caller's rights
// asked first, and that the engine's own clone gets no automatic reset from the watcher.
import { IDS } from '../../helpers/ovirtApiServer';
import { ovirtHarness, OvirtHarness } from './ovirtHarness';

jest.setTimeout(60_000);

const ROOM_MARK = { 'ovirt-sysprep-room': 'lab' };

describe('inventory actions on oVirt (contract, oVirt API test server + fake agent)', () => {
  let h: OvirtHarness;
  beforeEach(async () => {
    h = await ovirtHarness();
    h.ovirt.asyncMs = 50;
  });
  afterEach(() => h?.close());

  const autoResets = async () => (await h.api('GET', '/jobs?kind=auto-reset')).body.items as any[];

  it('clones a thin VM from the template with marks, waits until oVirt has made it, and the watcher leaves its reset to the cloner', async () => {
    await h.engine.ovirt!.watcher.tick(); // begins after the newest event
    const vm = await h.engine.deps.cloning!.cloneVm({ name: 'lab-vd1', template: 'golden-el9', status: 'down', marks: ROOM_MARK });
    expect(vm).toMatchObject({ name: 'lab-vd1', status: 'down', templateId: IDS.golden, marks: ROOM_MARK });
    const raw = h.ovirt.vm(vm.id);
    expect(raw).toMatchObject({ status: 'down', template: { id: IDS.golden }, cluster: { id: 'c0c0c0c0-0000-4000-8000-000000000001' } });
    expect(raw.disk_attachments.disk_attachment[0].disk.status).toBe('ok');
    const add = h.ovirt.calls.find((c) => c.method === 'POST' && c.path === '/vms')!;
    expect(add.query).toEqual({ clone: 'false' });
    expect(add.body).toMatchObject({ name: 'lab-vd1', template: { id: IDS.golden }, cluster: { id: 'c0c0c0c0-0000-4000-8000-000000000001' } });
    expect((await h.api('GET', '/vms/lab-vd1')).body.marks).toEqual(ROOM_MARK);

    // A VM made in oVirt meanwhile is reset; ours (events 37 and 53 like any) is not.
    const other = h.ovirt.createVm('from-template', { name: 'made-in-ovirt' });
    await h.engine.ovirt!.watcher.tick();
    await h.engine.ovirt!.watcher.tick();
    expect((await autoResets()).map((j) => j.target.name)).toEqual(['made-in-ovirt']);
    expect(other.id).not.toBe(vm.id);
  });

  it('refuses a taken name (409 on name), an unknown template (404 on template) and Blank (400) before oVirt makes anything', async () => {
    const cloning = h.engine.deps.cloning!;
    await expect(cloning.cloneVm({ name: 'web-01', template: 'golden-el9', status: 'down' })).rejects.toMatchObject({ code: 'NAME_IN_USE', details: { field: 'name' } });
    await expect(cloning.cloneVm({ name: 'n1', template: 'nope', status: 'down' })).rejects.toMatchObject({ code: 'TEMPLATE_NOT_FOUND', details: { field: 'template' } });
    await expect(cloning.cloneVm({ name: 'n1', template: 'Blank', status: 'down' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'template' } });
    expect(h.ovirt.actions).toEqual([]);
  });

  it('POST /vms clones on oVirt and starts ONE automatic reset (the route\'s; the watcher skips the clone)', async () => {
    await h.engine.ovirt!.watcher.tick();
    const r = await h.api('POST', '/vms', { name: 'web-clone', template: 'golden-el9' });
    expect(r.status).toBe(201);
    expect(r.body.vm).toMatchObject({ name: 'web-clone', marks: {} });
    expect(r.body.job).toMatchObject({ kind: 'auto-reset' });
    await h.waitJob(r.body.job.id);
    await h.engine.ovirt!.watcher.tick();
    await h.engine.ovirt!.watcher.tick();
    expect((await autoResets()).length).toBe(1);
  });

  it('starts, shuts down and stops through oVirt, answering the VM as oVirt then shows it', async () => {
    const vm = await h.engine.deps.cloning!.cloneVm({ name: 'pw-1', template: 'golden-el9', status: 'down' });
    expect((await h.api('POST', '/vms/pw-1/start')).body).toMatchObject({ id: vm.id, status: 'up' });
    expect(h.ovirt.vm(vm.id).status).toBe('up');
    expect((await h.api('POST', '/vms/pw-1/start')).body.status).toBe('up'); // harmless again
    h.ovirt.ignoresAcpi.add(vm.id);
    expect((await h.api('POST', '/vms/pw-1/shutdown', { timeoutSec: 1 })).body.status).toBe('up');
    expect((await h.api('POST', '/vms/pw-1/stop')).body.status).toBe('down');
    h.ovirt.ignoresAcpi.delete(vm.id);
    await h.api('POST', '/vms/pw-1/start');
    expect((await h.api('POST', '/vms/pw-1/shutdown', { timeoutSec: 10 })).body.status).toBe('down');
    expect(h.ovirt.actions.slice(1)).toEqual(['start pw-1', 'shutdown pw-1', 'stop pw-1', 'start pw-1', 'shutdown pw-1']);
  });

  it('takes, lists, restores and deletes snapshots as oVirt does (locked -> ok, newer ones removed by a restore, a new leaf volume)', async () => {
    const vm = await h.engine.deps.cloning!.cloneVm({ name: 'sn-1', template: 'golden-el9', status: 'down' });
    const volume0 = h.ovirt.vm(vm.id).disk_attachments.disk_attachment[0].disk.image_id;
    const s1 = await h.api('POST', '/vms/sn-1/snapshots', { name: 'morning', description: 'rollout 192.0.2.11' });
    expect(s1).toMatchObject({ status: 201, body: { name: 'rollout 192.0.2.11', description: 'rollout 192.0.2.11', current: true } });
    const volume1 = h.ovirt.vm(vm.id).disk_attachments.disk_attachment[0].disk.image_id;
    expect(volume1).not.toBe(volume0); // the VM goes on on a new leaf
    await new Promise((r) => setTimeout(r, 5));
    const s2 = (await h.api('POST', '/vms/sn-1/snapshots', { name: 'evening' })).body;
    const list = (await h.api('GET', '/vms/sn-1/snapshots')).body.items;
    expect(list.map((s: any) => [s.name, s.current, s.parent])).toEqual([['rollout 192.0.2.11', false, undefined], ['evening', true, s1.body.id]]);
    expect(list[0].date).toMatch(/^\d{4}-/);

    // Restore (by description): the VM must be down; the later snapshot is gone.
    await h.api('POST', '/vms/sn-1/start');
    expect((await h.api('POST', `/vms/sn-1/snapshots/${s1.body.id}/revert`)).body.error.code).toBe('VM_NOT_DOWN');
    await h.api('POST', '/vms/sn-1/stop');
    const reverted = await h.api('POST', `/vms/sn-1/snapshots/${encodeURIComponent('rollout 192.0.2.11')}/revert`);
    expect(reverted).toMatchObject({ status: 200, body: { id: s1.body.id, current: true } });
    expect(h.ovirt.snapshotsOf(vm.id).map((s) => s.id)).not.toContain(s2.id);
    expect(h.ovirt.vm(vm.id).disk_attachments.disk_attachment[0].disk.image_id).not.toBe(volume1);
    expect(h.ovirt.calls.find((c) => c.path.endsWith('/restore'))!.body).toEqual({ restore_memory: false });

    expect((await h.api('DELETE', `/vms/sn-1/snapshots/${s1.body.id}`)).status).toBe(204);
    expect(h.ovirt.snapshotsOf(vm.id).filter((s) => s.snapshot_type === 'regular')).toEqual([]);
    expect((await h.api('DELETE', `/vms/sn-1/snapshots/${s1.body.id}`))).toMatchObject({ status: 404, body: { error: { code: 'SNAPSHOT_NOT_FOUND', details: { field: 'sid' } } } });
  });

  it('deletes a VM that is down (gone from oVirt); refuses one that runs (409 IN_USE); templates and pools stay oVirt\'s', async () => {
    const vm = await h.engine.deps.cloning!.cloneVm({ name: 'del-1', template: 'golden-el9', status: 'down' });
    await h.api('POST', '/vms/del-1/start');
    expect(await h.api('DELETE', '/vms/del-1')).toMatchObject({ status: 409, body: { error: { code: 'IN_USE', details: { field: 'id' } } } });
    await h.api('POST', '/vms/del-1/stop');
    expect((await h.api('DELETE', '/vms/del-1')).status).toBe(204);
    expect(h.ovirt.vm(vm.id)).toBeUndefined();
    expect((await h.api('GET', '/vms/del-1')).status).toBe(404);
    expect((await h.api('DELETE', '/templates/golden-el9')).body.error.code).toBe('NOT_SUPPORTED');
  });

  it('asks oVirt whether a user of the UI plugin may act on the VM before any power or snapshot call', async () => {
    const bob = h.ovirt.tokenFor('bob@internal');
    for (const [method, url, body] of [['POST', `/vms/${IDS.web01}/start`], ['POST', `/vms/${IDS.web01}/stop`], ['POST', `/vms/${IDS.web01}/snapshots`, { name: 's' }]] as const) {
      const r = await h.api(method, url, body, bob);
      expect(r).toMatchObject({ status: 403, body: { error: { code: 'OVIRT_NOT_VISIBLE' } } });
    }
    expect(h.ovirt.actions).toEqual([]);
    expect(h.ovirt.calls.some((c) => c.method === 'POST' && c.path.startsWith(`/vms/${IDS.web01}/`))).toBe(false);
  });
});
