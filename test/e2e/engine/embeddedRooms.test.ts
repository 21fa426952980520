// A room on the embedded inventory: the real engine, the real host agent and the real
// virt-sysprep (TCG), real qcow2 clones and qemu-img snapshots, through the real HTTP API:
//   * rollout of 2 VMs from the fixture guest disk: one job of kind room; each VM's own
//     hostname on its disk, the room's mark, a snapshot described by the room's pattern;
//     the template's disk unchanged;
//   * reset after a file was written on a VM's disk: the file is gone, the hostname of the
//     rollout is back;
//   * delete: both VMs and their overlays gone.
// Everything is under the stack's directory, removed by close().
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { ROOM_MARK } from '../../../shared/rooms/RoomPlan';
import { guestRead, sha256File } from '../../helpers/disk';
import { copyGuestImage, IDENTITY_PATHS, libguestfsEnv } from '../../helpers/guestImage';
import { OPERATOR, Stack, startStack } from './stack';

jest.setTimeout(30 * 60_000);

const execFileAsync = promisify(execFile);
const PROBE = '/etc/room-reset-probe';
const ROOMS = `version: 1
rooms:
  class:
    template: golden
    snapshot_description: "class ready \${rollout_time}"
    reset_to_snapshot: "^class ready "
    vms:
      - ids: [1, 2]
        names: "class-vd\${id}"
        hostname: "class-pc\${id}"
`;
const body = (extra: Record<string, unknown> = {}) => ({ file: 'rooms.yaml', source: ROOMS, ...extra });

describe('a room on the embedded inventory (real virt-sysprep, real qemu-img)', () => {
  let s: Stack;
  let golden: string;
  let goldenSum: string;
  const VMS = ['class-vd1', 'class-vd2'];
  const disk = async (name: string) => (await s.api('GET', `/vms/${name}`)).body.disks[0].path as string;
  const hostname = async (file: string) => (await guestRead(file, [IDENTITY_PATHS.hostname]))[IDENTITY_PATHS.hostname]?.trim();

  beforeAll(async () => {
    s = await startStack({ maxJobs: 2 });
    golden = path.join(s.storage, 'golden.qcow2');
    await copyGuestImage(golden);
    goldenSum = await sha256File(golden);
    expect((await s.api('POST', '/templates', { name: 'golden', disks: [{ path: golden }] })).status).toBe(201);
  });
  afterAll(() => s?.close());

  it('rolls out, resets and deletes the room', async () => {
    const r = await s.api('POST', '/rooms/class/rollout', body(), OPERATOR);
    expect(r).toMatchObject({ status: 202, body: { job: { kind: 'room', childrenTotal: 2 } } });
    const job = await s.waitJob(r.body.job.id, 25 * 60_000);
    expect(job.state).toBe('succeeded');
    // The follow-up (release, snapshot) runs just after each child ends.
    for (const v of r.body.vms) {
      for (let i = 0; ; i++) {
        const child = (await s.api('GET', `/jobs/${v.jobId}`)).body;
        const snap = child.steps.find((x: { operation: string }) => x.operation === 'snapshot');
        if (snap && snap.state !== 'running') {
          expect(snap.state).toBe('done');
          break;
        }
        if (i > 600) throw new Error(`no snapshot step on ${v.name}: ${JSON.stringify(child.steps)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    for (const [i, name] of VMS.entries()) {
      expect((await s.api('GET', `/vms/${name}`)).body).toMatchObject({ status: 'down', marks: { [ROOM_MARK]: 'class' } });
      expect(await hostname(await disk(name))).toBe(`class-pc${i + 1}`);
      const snaps = (await s.api('GET', `/vms/${name}/snapshots`)).body.items;
      expect(snaps).toEqual([expect.objectContaining({ description: expect.stringMatching(/^class ready \d{4}-\d\d-\d\dT/) })]);
    }
    expect(await sha256File(golden)).toBe(goldenSum);

    const first = await disk(VMS[0]);
    await execFileAsync('guestfish', ['-a', first, '-i', 'write', PROBE, 'changed'], { env: libguestfsEnv(), timeout: 300_000 });
    expect((await guestRead(first, [PROBE]))[PROBE]).toBe('changed');
    const reset = await s.api('POST', '/rooms/class/reset', body(), OPERATOR);
    expect(reset).toMatchObject({ status: 200, body: { failed: 0, vms: [{ ok: true, action: 'revert' }, { ok: true, action: 'revert' }] } });
    expect((await guestRead(first, [PROBE]))[PROBE]).toBeNull();
    expect(await hostname(first)).toBe('class-pc1');

    const second = await disk(VMS[1]);
    const del = await s.api('POST', '/rooms/class/delete', body(), OPERATOR);
    expect(del).toMatchObject({ status: 200, body: { failed: 0, vms: [{ action: 'delete', ok: true }, { action: 'delete', ok: true }] } });
    for (const name of VMS) expect((await s.api('GET', `/vms/${name}`)).status).toBe(404);
    expect(existsSync(first) || existsSync(second)).toBe(false);
    expect(await sha256File(golden)).toBe(goldenSum);
  });
});
