// An automatic reset that its pre-check refuses because the VM is not down (a libvirt
// domain started before its reset, issue 13) is recorded as a job of kind auto-reset
// already `failed` with VM_NOT_DOWN (nobody waits on an automatic job's answer), nothing
// is dispatched, and the VM keeps its status; a user's sysprep on the same VM is still
// refused with the thrown 409 and no job. Agents are FAKES here (fakeAgent.ts); the API,
// SQLite and the files are real.
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

const off = { enabled: false, profile: 'clone-reset' };

describe('automatic reset refused by the pre-check', () => {
  let h: Harness;

  beforeAll(async () => {
    // The VM is imported with its reset off, then the clone trigger's reset is asked for.
    h = await harness({ config: { autoReset: { clone: { enabled: true, profile: 'clone-reset' }, import: off, pool: off } } });
  });
  afterAll(() => h.close());

  it('records a failed auto-reset job VM_NOT_DOWN for a VM that is up, dispatches nothing, leaves its status; a user sysprep still gets the 409', async () => {
    const vm = (await h.api('POST', '/vms', { name: 'early', disks: [{ path: h.image('early.qcow2') }] })).body.vm;
    expect((await h.api('POST', `/vms/${vm.id}/start`)).body.status).toBe('up');
    const up = (await h.engine.deps.inventory.getVm(vm.id))!;

    const r = await h.engine.deps.autoReset.onVmAdded(up, 'clone', 'test');
    expect(r.error).toBeUndefined();
    expect(r.job).toMatchObject({ kind: 'auto-reset', state: 'failed', error: { code: 'VM_NOT_DOWN' }, target: { id: vm.id }, profile: 'clone-reset' });
    expect((await h.api('GET', `/jobs/${r.job!.id}`)).body).toMatchObject({ state: 'failed', error: { code: 'VM_NOT_DOWN' } });
    expect(h.agents[0].startCalls).toEqual([]);
    expect((await h.api('GET', `/vms/${vm.id}`)).body.status).toBe('up');

    const before = (await h.api('GET', '/jobs')).body.items.length;
    expect(await h.api('POST', `/vms/${vm.id}/sysprep`, {})).toMatchObject({ status: 409, body: { error: { code: 'VM_NOT_DOWN' } } });
    expect((await h.api('GET', '/jobs')).body.items).toHaveLength(before);
  });
});
