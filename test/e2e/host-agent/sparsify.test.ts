// The sparsify action's refusals on a real agent (real qemu-img probe): a format qemu
// cannot discard in, operations or customisations, safe mode, an unknown action are
// refused before any job exists. The real virt-sparsify run is the engine's e2e
// (test/e2e/engine/sparsify.test.ts: REST -> agent -> bytes saved on the job).
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { toWireParams } from '../../../shared/wireParams';
import { fixtureDisk, refusal, startTestAgent, TestAgent, waitForJob } from '../../helpers/agentHarness';

jest.setTimeout(300_000);

describe('sparsify: what the agent refuses', () => {
  let t: TestAgent;
  let disk: string;

  beforeAll(async () => {
    t = await startTestAgent();
    disk = await fixtureDisk(t.dirs, 'fat.qcow2');
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
});
