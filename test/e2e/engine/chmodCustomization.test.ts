// The customisation added to the catalog alone (chmod, virt-customize's --chmod) works
// end to end with the REAL virt-sysprep: request -> engine -> agent argv -> the guest
// file's mode, read back with guestfish. One appliance run for the job, one for the read.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { copyGuestImage, IDENTITY_PATHS, libguestfsEnv } from '../../helpers/guestImage';
import { Stack, startStack } from './stack';

jest.setTimeout(15 * 60_000);

const run = promisify(execFile);

describe('chmod customisation (real virt-sysprep)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s?.close());

  it('changes the mode of a guest file, as the request asked', async () => {
    const disk = path.join(s.storage, 'chmod.qcow2');
    await copyGuestImage(disk);
    const vm = await s.api('POST', '/vms', { name: 'chmod-vm', disks: [{ path: disk }] });
    expect(vm.status).toBe(201);
    const file = IDENTITY_PATHS.hostname;
    const r = await s.api('POST', `/vms/${vm.body.vm.id}/sysprep`, { operations: { only: ['customize'] }, params: { chmod: [`0640:${file}`] } });
    expect(r.status).toBe(202);
    const job = await s.waitJob(r.body.job.id);
    expect(job).toMatchObject({ state: 'succeeded', operations: ['customize'] });

    const { stdout } = await run('guestfish', ['--ro', '-a', disk, 'run', ':', 'mount-ro', '/dev/sda1', '/', ':', 'stat', file], { env: libguestfsEnv() });
    const mode = Number(/^mode: (\d+)$/m.exec(stdout)?.[1]);
    expect((mode & 0o7777).toString(8)).toBe('640');
  });
});
