// The agent's one free-space threshold (min_free_bytes_for_packages): reported in its
// capabilities, and enforced by the agent itself before anything is spawned, on a real
// agent over mutual TLS (the engine's use of the reported value is
// test/unit/engine/freeSpace.test.ts).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { toWireParams } from '../../../shared/wireParams';
import { fixtureDisk, startTestAgent, TestAgent, waitForJob } from '../../helpers/agentHarness';
import { sha256File } from '../../helpers/disk';

jest.setTimeout(300_000);

describe('min_free_bytes_for_packages (real agent)', () => {
  const NEEDED = 2 ** 52; // more than any test machine has
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({ minFreeBytesForPackages: NEEDED });
  });
  afterAll(() => t.stop());

  it('is reported in the capabilities', async () => {
    const caps = await t.client.getCapabilities();
    expect(caps.minFreeBytesForPackages).toBe(String(NEEDED));
    expect(Number(caps.storageRoots[0].freeBytes)).toBeLessThan(NEEDED);
  });

  it('fails a job that installs packages with INSUFFICIENT_SPACE before virt-sysprep runs, disk untouched, lease free', async () => {
    const disk = await fixtureDisk(t.dirs, 'space.qcow2');
    const before = await sha256File(disk);
    await t.client.startSysprep({ jobId: 'space-1', disks: [{ path: disk }], spec: { only: ['machine-id'], ...toWireParams({ install: ['nginx'] }) } });
    const job = await waitForJob(t.client, 'space-1');
    expect(job.state).toBe('FAILED');
    expect(job.error!.code).toBe('INSUFFICIENT_SPACE');
    expect(job.error!.message).toMatch(/min_free_bytes_for_packages/);
    expect(JSON.parse(job.error!.detailsJson)).toMatchObject({ needed: NEEDED });
    expect(existsSync(path.join(t.dirs.logDir, 'space-1.log'))).toBe(false); // never spawned
    expect(await sha256File(disk)).toBe(before);
    expect(await t.agent.leases.holder({ real: disk, root: t.dirs.root })).toBeNull();
  });
});
