// A room's whole life on the embedded inventory through the real engine over real HTTP
// (test/unit/engine/harness.ts: real SQLite, real qcow2 clones and qemu-img snapshots,
// FAKE agents: the sysprep itself is the e2e's, test/e2e/libvirt/libvirtRooms.test.ts):
//   * rollout: one job of kind room, a child per VM with ITS values; a VM whose sysprep
//     fails is released without a snapshot, the others are snapshotted and marked; the
//     follow-up steps are on each child;
//   * resume: the failed VM alone is syspreped again;
//   * reset: a VM that was up is stopped, reverted and started again (auto);
//   * delete: the room's VMs and their snapshots are gone.
import { runCli } from '../../helpers/cliRun';
import { ROOM_MARK } from '../../../shared/rooms/RoomPlan';
import { harness, Harness, TOKENS } from '../engine/harness';

jest.setTimeout(60_000);

const ROOMS = `version: 1
rooms:
  lab:
    template: golden
    snapshot_description: "lab at \${rollout_time}"
    reset_to_snapshot: "^lab at "
    vms:
      - ids: "1-2"
        names: "lab-pc\${id}"
        hostname: "pc\${id}.lab.example"
`;
const source = { file: 'rooms.yaml', source: ROOMS };
const OFF = { enabled: false, profile: 'clone-reset' };

describe('a room on the embedded inventory', () => {
  let h: Harness;
  const fail = new Map<string, string>();
  const cli = (args: string[]) => runCli(h.engine.url, TOKENS.operator.token, args, { 'rooms.yaml': ROOMS });
  /** The child job once its follow-up steps have all ended. */
  const settled = async (id: string) => {
    for (let i = 0; ; i++) {
      const job = (await h.api('GET', `/jobs/${id}`)).body;
      const steps = (job.steps as { operation: string; state: string }[]).filter((s) => ['release', 'snapshot', 'start'].includes(s.operation));
      if (steps.length === 3 && steps.every((s) => s.state !== 'running')) return { job, steps: Object.fromEntries(steps.map((s) => [s.operation, s.state])) };
      if (i > 200) throw new Error(`follow-up of ${id} did not end: ${JSON.stringify(job.steps)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const snapshots = async (vm: string) => (await h.api('GET', `/vms/${vm}/snapshots`)).body.items as { id: string; description: string }[];

  beforeAll(async () => {
    h = await harness({ agents: [{ jobMs: 1500, failDisks: fail }], config: { autoReset: { clone: OFF, import: OFF, pool: OFF } } });
    expect((await h.api('POST', '/templates', { name: 'golden', disks: [{ path: h.image('golden.qcow2') }] })).status).toBe(201);
  });
  afterAll(() => h.close());

  it('rollout: one job, each VM with its own values; the failed VM released without a snapshot', async () => {
    const r = await h.api('POST', '/rooms/lab/rollout', source, 'operator');
    expect(r.status).toBe(202);
    expect(r.body.job).toMatchObject({ kind: 'room', target: { type: 'room', name: 'lab' }, childrenTotal: 2 });
    // lab-pc2's sysprep fails (the fake agent fails jobs on its disk).
    const pc2 = (await h.api('GET', '/vms/lab-pc2')).body;
    expect(pc2).toMatchObject({ status: 'image_locked' });
    fail.set(pc2.disks[0].path, 'VIRT_SYSPREP_FAILED');
    const job = await h.waitJob(r.body.job.id);
    expect(job.state).toBe('partial');
    const [c1, c2] = r.body.vms.map((v: { jobId: string }) => v.jobId);
    const one = await settled(c1);
    const two = await settled(c2);
    expect(one.job.request.params).toMatchObject({ hostname: 'pc1.lab.example' });
    expect(two.job.request.params).toMatchObject({ hostname: 'pc2.lab.example' });
    expect(one.steps).toEqual({ release: 'done', snapshot: 'done', start: 'skipped' });
    expect(two.steps).toEqual({ release: 'done', snapshot: 'skipped', start: 'skipped' });
    expect(await snapshots('lab-pc1')).toEqual([expect.objectContaining({ description: expect.stringMatching(/^lab at \d{4}-/) })]);
    expect(await snapshots('lab-pc2')).toEqual([]);
    for (const name of ['lab-pc1', 'lab-pc2']) expect((await h.api('GET', `/vms/${name}`)).body).toMatchObject({ status: 'down', marks: { [ROOM_MARK]: 'lab' } });
    fail.clear();
  });

  it('resume: only the VM without its snapshot is syspreped again', async () => {
    expect(await h.api('POST', '/rooms/lab/rollout', source, 'operator')).toMatchObject({ status: 409, body: { error: { code: 'ROOM_VM_EXISTS', details: { line: 9 } } } });
    const r = await cli(['room', 'rollout', 'rooms.yaml', 'lab', '--resume']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/lab-pc1\s+done before/);
    expect(r.out).toMatch(/lab-pc2\s+done\s+succeeded\s+release:done snapshot:done start:skipped/);
    expect(await snapshots('lab-pc2')).toHaveLength(1);
    const again = await h.api('POST', '/rooms/lab/rollout', { ...source, resume: true }, 'operator');
    expect(again).toMatchObject({ status: 200, body: { vms: [{ action: 'done' }, { action: 'done' }] } });
    expect(again.body.job).toBeUndefined();
  });

  it('reset: the VM that was up is reverted and started again (auto), the other stays down', async () => {
    expect((await h.api('POST', '/vms/lab-pc1/start', undefined, 'operator')).body.status).toBe('up');
    const r = await cli(['room', 'reset', 'rooms.yaml', 'lab', '-o', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ failed: 0, vms: [{ name: 'lab-pc1', ok: true, wasRunning: true, started: true }, { name: 'lab-pc2', ok: true, wasRunning: false, started: false }] });
    expect((await h.api('GET', '/vms/lab-pc1')).body.status).toBe('up');
  });

  it('delete: the VMs and their snapshots are gone', async () => {
    const r = await cli(['room', 'delete', 'rooms.yaml', 'lab']);
    expect(r.code).toBe(0);
    for (const name of ['lab-pc1', 'lab-pc2']) expect((await h.api('GET', `/vms/${name}`)).status).toBe(404);
    const shown = (await h.api('POST', '/rooms/lab/show', source, 'viewer')).body;
    expect(shown.vms.map((v: { exists: boolean }) => v.exists)).toEqual([false, false]);
  });
});
