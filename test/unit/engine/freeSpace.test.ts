// One free-space threshold: the engine's pre-check of a job that installs packages uses
// the value each agent reports in its Capabilities (min_free_bytes_for_packages), not a
// setting of its own. Over real HTTP and real gRPC; the agents are FAKES reporting
// 10 GB free (test/unit/engine/fakeAgent.ts); the agent's own check is in
// test/e2e/host-agent/safety.test.ts.
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

const noAutoReset = { clone: { enabled: false, profile: 'clone-reset' }, import: { enabled: false, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } };

describe.each([
  ['asks for more than the storage has', 20e9, 409],
  ['asks for less than the storage has', 5e9, 202],
])('an agent that %s', (_name, minFree, status) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness({ agents: [{ minFreeBytesForPackages: minFree }], config: { autoReset: noAutoReset } });
  });
  afterAll(() => h.close());

  it(`answers a sysprep that installs packages with ${status}`, async () => {
    const vm = await h.api('POST', '/vms', { name: 'pkg', disks: [{ path: h.image('pkg.qcow2') }] });
    const r = await h.api('POST', `/vms/${vm.body.vm.id}/sysprep`, { params: { install: ['nginx'] } });
    expect(r.status).toBe(status);
    if (status === 409) {
      expect(r.body.error).toMatchObject({ code: 'INSUFFICIENT_SPACE', details: { field: 'params.install' } });
      expect(h.agents[0].startCalls).toEqual([]);
    } else {
      await h.waitJob(r.body.job.id);
      expect(h.agents[0].jobs.get(r.body.job.id)!.params.install).toEqual(['nginx']);
    }
  });

  it('answers a sysprep without packages with 202 whatever the room', async () => {
    const vm = await h.api('POST', '/vms', { name: 'nopkg', disks: [{ path: h.image('nopkg.qcow2') }] });
    expect((await h.api('POST', `/vms/${vm.body.vm.id}/sysprep`, { params: { hostname: 'x' } })).status).toBe(202);
  });
});
