// The OS guard through the engine's API on the embedded inventory (issue 15): VMs imported
// with a declared `os`; agents are FAKES (fakeAgent.ts), the API, SQLite and files real.
// A request that does not fit a VM's OS is 422 GUEST_OS_MISMATCH naming each field, and
// nothing is created or dispatched; a bulk request names each VM; Windows params on a
// Windows VM pass; the automatic reset of a Windows VM uses windows-reset.
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

const off = { enabled: false, profile: 'clone-reset' };

describe('the OS guard', () => {
  let h: Harness;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await harness({ config: { autoReset: { clone: off, import: { enabled: true, profile: 'clone-reset' }, pool: off } } });
    for (const [name, os] of [['win1', 'windows'], ['lin1', 'linux'], ['any1', undefined]] as const) {
      const r = await h.api('POST', '/vms', { name, disks: [{ path: h.image(`${name}.qcow2`) }], ...(os && { os }) });
      expect(r.status).toBe(201);
      ids[name] = r.body.vm.id;
      // The import's automatic reset: windows-reset for the Windows VM, the trigger's profile otherwise.
      expect(r.body.job).toMatchObject({ kind: 'auto-reset', profile: name === 'win1' ? 'windows-reset' : 'clone-reset' });
      await h.waitJob(r.body.job.id);
    }
  });
  afterAll(() => h.close());

  it('refuses Linux fields on a Windows VM and Windows fields on a Linux VM, naming each; nothing created', async () => {
    const before = (await h.api('GET', '/jobs')).body.items.length;
    const calls = h.agents[0].startCalls.length;
    const win = await h.api('POST', `/vms/${ids.win1}/sysprep`, { operations: { only: ['machine-id'] }, params: { hostname: 'x', computerName: 'ok' } });
    expect(win).toMatchObject({ status: 422, body: { error: { code: 'GUEST_OS_MISMATCH', details: { fields: ['operations.customize', 'operations.machine-id', 'params.hostname'], vm: 'win1' } } } });
    const lin = await h.api('POST', `/vms/${ids.lin1}/sysprep`, { params: { hostname: 'x', computerName: 'W1' } });
    expect(lin).toMatchObject({ status: 422, body: { error: { code: 'GUEST_OS_MISMATCH', details: { fields: ['params.computerName'] } } } });
    const bulk = await h.api('POST', '/sysprep', { vms: [ids.win1, ids.lin1, ids.any1], profile: 'clone-reset' });
    expect(bulk.status).toBe(422);
    expect(bulk.body.error.details.vms.map((v: { vm: string }) => v.vm)).toEqual(['win1']);
    expect((await h.api('GET', '/jobs')).body.items).toHaveLength(before);
    expect(h.agents[0].startCalls).toHaveLength(calls);
  });

  it('lets Windows params through on a Windows VM and anything through on a VM of unknown OS', async () => {
    const win = await h.api('POST', `/vms/${ids.win1}/sysprep`, { params: { computerName: '${vm}', registry: [{ hive: 'SOFTWARE', key: 'X', name: 'y', type: 'dword', data: 1 }] } });
    expect(win).toMatchObject({ status: 202, body: { job: { operations: [] } } });
    await h.waitJob(win.body.job.id);
    const any = await h.api('POST', `/vms/${ids.any1}/sysprep`, { profile: 'clone-reset' });
    expect(any.status).toBe(202);
    await h.waitJob(any.body.job.id);
  });
});
