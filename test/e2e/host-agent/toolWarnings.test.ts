// A run that really warns (issue 15): the phony Windows image (test/helpers/windowsImage.ts)
// with a time zone request. virt-sysprep's customize cannot set a Windows time zone nor its
// random seed and says so with `virt-sysprep: warning: ...`; the job must carry those
// warnings (on its record and as events) and end INCOMPLETE, not SUCCEEDED. Driven at the
// agent: the engine's OS guard refuses this request (422) before anything runs.
// One real virt-sysprep run (safe mode: the overlay is committed, the disk unchanged
// because nothing was written).
import * as path from 'node:path';
import type { JobEvent } from '../../../shared/wireTypes';
import { toWireParams } from '../../../shared/wireParams';
import { startTestAgent, TestAgent } from '../../helpers/agentHarness';
import { sha256File } from '../../helpers/disk';
import { copyWindowsImage } from '../../helpers/windowsImage';

jest.setTimeout(600_000);

describe('tool warnings on a real run (phony Windows guest)', () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent();
  });
  afterAll(() => t.stop());

  it('a time zone virt-sysprep cannot set: the warnings on the job and its events, the job INCOMPLETE, the disk as it was', async () => {
    const disk = path.join(t.dirs.root, 'windows.qcow2');
    await copyWindowsImage(disk);
    const before = await sha256File(disk);
    await t.client.startSysprep({
      jobId: 'win-timezone-1',
      disks: [{ path: disk, format: 'qcow2' }],
      spec: { only: ['customize'], ...toWireParams({ timezone: 'Europe/Berlin' }) },
    });
    const events: JobEvent[] = [];
    for await (const e of t.client.watchJob('win-timezone-1')) events.push(e);
    const job = await t.client.getJob('win-timezone-1');

    expect(job.state).toBe('INCOMPLETE');
    expect(job.error).toBeNull();
    expect(job.warnings).toEqual(expect.arrayContaining([
      { message: 'timezone could not be set for this type of guest', field: 'params.timezone' },
      // recorded, but names nothing not applied (toolWarnings.ts: no seed file is no shared seed)
      { message: expect.stringMatching(/^random seed could not be set/), field: '' },
    ]));
    expect(events.filter((e) => e.type === 'warning').map((e) => e.warning)).toEqual(job.warnings);
    expect(events.at(-1)).toMatchObject({ type: 'state', state: 'INCOMPLETE' });
    // Committed, and nothing was written: the disk is byte for byte what it was.
    expect(await sha256File(disk)).toBe(before);
  });
});
