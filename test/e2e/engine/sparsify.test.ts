// Sparsify through the engine, the real agent and the real virt-sparsify: a fixture copy
// with a big deleted file (30 MB written then deleted inside the guest with guestfish)
// imported as a VM, POST /vms/{id}/sparsify -> a job of kind sparsify that frees the
// deleted data in place; the job reports the allocated bytes before, after and saved
// (> 0, and what qemu-img says), a step per disk, and the guest still inspects
// (guestfish -i: inspection finds the OS and mounts it). Refusals before anything runs:
// a vmdk VM (409 UNSUPPORTED_FORMAT), a sysprep field in the body (400).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { copyGuestImage, GOLDEN_HOSTNAME, libguestfsEnv } from '../../helpers/guestImage';
import { guestRead } from '../../helpers/disk';
import { startStack, Stack } from './stack';

jest.setTimeout(600_000);

const allocated = (file: string) => Number(JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '--', file], { encoding: 'utf8' }))['actual-size']);

describe('sparsify a VM through the engine (real virt-sparsify --in-place)', () => {
  let s: Stack;
  let disk: string;

  beforeAll(async () => {
    s = await startStack();
    disk = path.join(s.storage, 'fat.qcow2');
    await copyGuestImage(disk);
    // Deleted data: the guest's file system frees it, the image keeps it allocated.
    execFileSync('guestfish', ['-a', disk, '-i'], { env: libguestfsEnv(), input: 'fill 0x55 30000000 /big\nsync\nrm /big\n' });
    const vmdk = path.join(s.storage, 'other.vmdk');
    execFileSync('qemu-img', ['convert', '-O', 'vmdk', disk, vmdk]);
    expect((await s.api('POST', '/vms', { name: 'fat', disks: [{ path: disk }] })).status).toBe(201);
    expect((await s.api('POST', '/vms', { name: 'other', disks: [{ path: vmdk }] })).status).toBe(201);
  });

  afterAll(() => s?.close());

  it('refuses a vmdk VM and sysprep fields before anything runs', async () => {
    const vmdk = await s.api('POST', '/vms/other/sparsify', {});
    expect(vmdk.status).toBe(409);
    expect(vmdk.body.error).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    expect(vmdk.body.error.message).toMatch(/vmdk disk .*qcow2 and raw disks only/);
    const body = await s.api('POST', '/vms/fat/sparsify', { operations: { only: ['machine-id'] } });
    expect(body.status).toBe(400);
    expect((await s.api('GET', '/jobs?kind=sparsify')).body.items).toEqual([]);
  });

  it('frees the deleted data in place, reports the bytes saved on the job, and the guest still inspects', async () => {
    const before = allocated(disk);
    const started = Date.now();
    const res = await s.api('POST', '/vms/fat/sparsify', {});
    expect(res.status).toBe(202);
    expect(res.body.job).toMatchObject({ kind: 'sparsify', target: { type: 'vm', name: 'fat' } });
    const job = await s.waitJob(res.body.job.id);
    console.log(`sparsify: ${Math.round((Date.now() - started) / 1000)} s, ${JSON.stringify(job.result)}`);
    expect({ state: job.state, error: job.error }).toEqual({ state: 'succeeded', error: undefined });
    expect(job.steps).toEqual([expect.objectContaining({ operation: 'sparsify-disk0', state: 'done' })]);
    const after = allocated(disk);
    expect(job.result.sparsify).toEqual({ allocatedBefore: before, allocatedAfter: after, bytesSaved: before - after });
    expect(before - after).toBeGreaterThan(20_000_000);
    // A sparsify is not the VM's last sysprep.
    expect((await s.api('GET', '/vms/fat')).body.lastSysprep).toBeUndefined();
    expect((await guestRead(disk, ['/etc/hostname']))['/etc/hostname']?.trim()).toBe(GOLDEN_HOSTNAME);
  });
});
