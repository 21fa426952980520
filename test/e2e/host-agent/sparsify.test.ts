// The sparsify action on a real agent with the real virt-sparsify: a fixture copy with a
// big deleted file (30 MB written then deleted inside the guest with guestfish) is
// sparsified in place; the job reports the allocated bytes before and after and the
// bytes saved (> 0, and what qemu-img says), a step per disk, and the guest still
// inspects (guestfish -i: inspection finds the OS and mounts it). What sparsify refuses
// (a format qemu cannot discard in, operations or customisations, safe mode) is refused
// before any job exists.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { SysprepError } from '../../../shared/errors';
import { toWireParams } from '../../../shared/wireParams';
import { fixtureDisk, startTestAgent, TestAgent, waitForJob } from '../../helpers/agentHarness';
import { guestRead } from '../../helpers/disk';
import { GOLDEN_HOSTNAME, libguestfsEnv } from '../../helpers/guestImage';

jest.setTimeout(600_000);

const allocated = (file: string) => Number(JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '--', file], { encoding: 'utf8' }))['actual-size']);

async function refusal(call: Promise<unknown>): Promise<SysprepError> {
  const err = await call.then(() => undefined, (e) => e);
  if (!(err instanceof SysprepError)) throw new Error(`expected a refusal, got ${JSON.stringify(err)}`);
  return err;
}

describe('sparsify (real virt-sparsify --in-place)', () => {
  let t: TestAgent;
  let disk: string;

  beforeAll(async () => {
    t = await startTestAgent();
    disk = await fixtureDisk(t.dirs, 'fat.qcow2');
    // Deleted data: the guest's file system frees it, the image keeps it allocated.
    execFileSync('guestfish', ['-a', disk, '-i'], { env: libguestfsEnv(), input: 'fill 0x55 30000000 /big\nsync\nrm /big\n' });
    execFileSync('qemu-img', ['convert', '-O', 'vmdk', disk, path.join(t.dirs.root, 'fat.vmdk')]);
  });

  afterAll(async () => {
    await t?.stop();
    if (t) execFileSync('rm', ['-rf', t.dirs.base]);
  });

  it.each([
    ['a vmdk (qemu cannot discard in it)', () => ({ disks: [{ path: path.join(t.dirs.root, 'fat.vmdk') }] }), 'UNSUPPORTED_FORMAT', 'disks[0].path', /sparsify works on qcow2 and raw disks only/],
    ['an operation', () => ({ disks: [{ path: disk }], spec: { only: ['machine-id'] } }), 'INVALID_ARGUMENT', 'spec.only', /does not apply to a sparsify job/],
    ['a customisation', () => ({ disks: [{ path: disk }], spec: toWireParams({ hostname: 'x' }) }), 'INVALID_ARGUMENT', 'spec.params.hostname', /does not apply/],
    ['safe mode', () => ({ disks: [{ path: disk }], mode: 'SAFE' as const }), 'INVALID_ARGUMENT', 'mode', /in place only/],
    ['an unknown action', () => ({ disks: [{ path: disk }], action: 'shrink' }), 'INVALID_ARGUMENT', 'action', /"sysprep" or "sparsify"/],
  ])('refuses %s before any job exists', async (_what, req, code, field, message) => {
    const jobId = `refused-${field.replace(/\W/g, '-')}`;
    const err = await refusal(t.client.startSysprep({ jobId, action: 'sparsify', ...req() }));
    expect(err).toMatchObject({ code, details: { field } });
    expect(err.message).toMatch(message);
    await expect(t.client.getJob(jobId)).rejects.toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  it('frees the deleted data in place, reports the bytes saved, and the guest still inspects', async () => {
    const before = allocated(disk);
    const started = Date.now();
    await t.client.startSysprep({ jobId: 'sparsify-1', action: 'sparsify', disks: [{ path: disk }] });
    const job = await waitForJob(t.client, 'sparsify-1');
    console.log(`sparsify: ${Math.round((Date.now() - started) / 1000)} s, ${JSON.stringify(job.sparsify)}`);
    expect({ state: job.state, error: job.error }).toEqual({ state: 'SUCCEEDED', error: null });
    expect(job).toMatchObject({ action: 'sparsify', mode: 'IN_PLACE', operations: ['sparsify-disk0'], steps: [{ operation: 'sparsify-disk0', state: 'done' }] });
    const after = allocated(disk);
    expect(Number(job.sparsify!.allocatedBefore)).toBe(before);
    expect(Number(job.sparsify!.allocatedAfter)).toBe(after);
    expect(Number(job.sparsify!.bytesSaved)).toBe(before - after);
    expect(before - after).toBeGreaterThan(20_000_000);
    expect((await guestRead(disk, ['/etc/hostname']))['/etc/hostname']?.trim()).toBe(GOLDEN_HOSTNAME);
  });
});
