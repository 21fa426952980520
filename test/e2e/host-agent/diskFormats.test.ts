// The disk formats of issue 15 on a real agent, the real qemu-img and virt-sysprep: the
// debian fixture converted to vmdk, vpc (VHD), vhdx and vdi with `qemu-img convert`, one
// safe-mode job on each (the four run at once: one bulk), and the guest checked on every
// disk in one libguestfs launch: changed as on qcow2, still its format, the overlays gone.
// The refused variants (formatProbe.ts) are refused by the probe of the real images
// before any job exists. The crash-before-commit case is in test/faults/formatFaults.test.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { toWireParams } from '../../../shared/wireParams';
import { fixtureDisk, refusal, startTestAgent, TestAgent, waitForJob } from '../../helpers/agentHarness';
import { GOLDEN_MACHINE_ID } from '../../helpers/guestImage';
import { readGuestFiles } from '../engine/guestFiles';

jest.setTimeout(600_000);

const FORMATS = ['vmdk', 'vpc', 'vhdx', 'vdi'] as const;
const probed = (file: string) => JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '--', file], { encoding: 'utf8' }));

describe('disk formats vmdk, vpc, vhdx, vdi (real virt-sysprep, safe mode)', () => {
  let t: TestAgent;
  let root: string;
  const disks: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestAgent({ maxJobs: FORMATS.length });
    root = t.dirs.root;
    const golden = await fixtureDisk(t.dirs, 'golden.qcow2');
    for (const f of FORMATS) {
      disks[f] = path.join(root, `guest.${f}`);
      execFileSync('qemu-img', ['convert', '-O', f, golden, disks[f]]);
    }
    // The refused variants, made the same way.
    execFileSync('qemu-img', ['convert', '-O', 'vmdk', '-o', 'subformat=streamOptimized', golden, path.join(root, 'stream.vmdk')]);
    execFileSync('qemu-img', ['convert', '-O', 'vmdk', '-o', 'subformat=monolithicFlat', golden, path.join(root, 'flat.vmdk')]);
    execFileSync('qemu-img', ['create', '-q', '-f', 'vmdk', '-b', disks.vmdk, '-F', 'vmdk', path.join(root, 'child.vmdk')]);
    execFileSync('qemu-img', ['convert', '-O', 'qed', golden, path.join(root, 'guest.qed')]);
  });

  afterAll(async () => {
    await t?.stop();
    if (t) execFileSync('rm', ['-rf', t.dirs.base]);
  });

  it('probes each format, whether declared or not', async () => {
    const res = await t.client.checkDisks(FORMATS.map((f, i) => ({ path: disks[f], ...(i % 2 ? { format: f } : {}) })));
    expect(res.disks.map((d) => d.format)).toEqual([...FORMATS]);
  });

  it.each([
    ['a streamOptimized vmdk', 'stream.vmdk', undefined, 'UNSUPPORTED_FORMAT', 'disks[0].path', /streamOptimized vmdk: qemu-img commit fails part way/],
    ['a vmdk whose data is in an extent file', 'flat.vmdk', undefined, 'UNSUPPORTED_FORMAT', 'disks[0].path', /monolithicFlat vmdk \(extents: .*flat-flat\.vmdk\)/],
    ['a vmdk with a parent image', 'child.vmdk', undefined, 'UNSUPPORTED_FORMAT', 'disks[0].path', /with a parent image/],
    ['a qed image', 'guest.qed', undefined, 'UNSUPPORTED_FORMAT', 'disks[0].path', /is a qed image/],
    ['a vhdx declared vpc', 'guest.vhdx', 'vpc', 'FORMAT_MISMATCH', 'disks[0].format', /declared "vpc" but is a vhdx image/],
    ['a vdi declared raw', 'guest.vdi', 'raw', 'FORMAT_MISMATCH', 'disks[0].format', /declared "raw" but is a vdi image/],
  ])('refuses %s before any job exists', async (_what, file, format, code, field, message) => {
    const disk = { path: path.join(root, file), ...(format ? { format } : {}) };
    const checked = await refusal(t.client.checkDisks([disk]));
    expect(checked).toMatchObject({ kind: 'invalid', code, details: { field } });
    expect(checked.message).toMatch(message);
    const jobId = `refused-${file.replace(/\W/g, '-')}`;
    const started = await refusal(t.client.startSysprep({ jobId, disks: [disk], spec: { only: ['machine-id'] } }));
    expect(started).toMatchObject({ code, details: { field } });
    await expect(t.client.getJob(jobId)).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('runs a safe-mode job on each format: hostname set and machine-id reset as on qcow2, the format kept, no overlay left', async () => {
    const started = Date.now();
    await Promise.all(
      FORMATS.map((f) => t.client.startSysprep({ jobId: `fmt-${f}`, disks: [{ path: disks[f] }], mode: 'SAFE', spec: { only: ['machine-id'], ...toWireParams({ hostname: `fmt-${f}` }) } })),
    );
    const jobs = await Promise.all(FORMATS.map((f) => waitForJob(t.client, `fmt-${f}`)));
    console.log(`4 formats in parallel: ${Math.round((Date.now() - started) / 1000)} s`);
    for (const [i, f] of FORMATS.entries()) {
      expect({ f, state: jobs[i].state, error: jobs[i].error }).toEqual({ f, state: 'SUCCEEDED', error: null });
      expect(jobs[i].disks[0]).toMatchObject({ format: f });
      expect(probed(disks[f])).toMatchObject({ format: f });
    }
    expect(existsSync(path.join(t.dirs.dataDir, 'overlays')) ? readdirSync(path.join(t.dirs.dataDir, 'overlays')) : []).toEqual([]);
    const files = await readGuestFiles(FORMATS.map((f) => disks[f]), ['/etc/hostname', '/etc/machine-id']);
    for (const f of FORMATS) {
      expect({ f, hostname: files[disks[f]]['/etc/hostname']?.trim() }).toEqual({ f, hostname: `fmt-${f}` });
      expect({ f, machineId: files[disks[f]]['/etc/machine-id']?.trim() }).not.toEqual({ f, machineId: GOLDEN_MACHINE_ID });
    }
  });
});
