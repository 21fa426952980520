// Fault: the agent (its own process) killed with SIGKILL while virt-sysprep works on the
// safe-mode overlays of a vmdk, a vpc (VHD), a vhdx and a vdi disk (issue 15 formats,
// one job each, all at once), then started again on the same data dir: each base disk
// byte-identical, each job FAILED/INTERRUPTED, no overlay or lease left.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { makeAgentDirs } from '../helpers/agentHarness';
import { sha256File } from '../helpers/disk';
import { checkJob, checkLeftovers, fault, faultDisk, faultRequest, startFaultAgent, stopFaultAgents, untilOperation, waitForJob } from './faultKit';
import { toWireParams } from '../../shared/wireParams';

jest.setTimeout(20 * 60_000);
afterAll(stopFaultAgents);

const FORMATS = ['vmdk', 'vpc', 'vhdx', 'vdi'] as const;

describe('agent SIGKILL before the commit, on each issue-15 format (real virt-sysprep)', () => {
  fault('formats: agent SIGKILL while virt-sysprep runs on vmdk, vpc, vhdx and vdi overlays', async (v) => {
    const dirs = makeAgentDirs('fault-fmt-');
    const a = await startFaultAgent({ prefix: 'fmt', dirs, extra: { maxJobs: FORMATS.length } });
    const { disk: golden } = await faultDisk(dirs, 'golden.qcow2');
    const disks = await Promise.all(
      FORMATS.map(async (f) => {
        const disk = path.join(dirs.root, `crash.${f}`);
        execFileSync('qemu-img', ['convert', '-O', f, golden, disk]);
        return { f, disk, before: await sha256File(disk), req: faultRequest(`fmt-${f}`) };
      }),
    );
    await Promise.all(disks.map((d) => a.client.startSysprep({ jobId: `fmt-${d.f}`, disks: [{ path: d.disk }], mode: 'SAFE', spec: { only: ['machine-id'], ...toWireParams(d.req.params) } })));
    await Promise.all(disks.map((d) => untilOperation(a.client, `fmt-${d.f}`)));
    await a.kill();

    await a.restart();
    const outcomes: string[] = [];
    for (const d of disks) {
      checkJob(v, await waitForJob(a.client, `fmt-${d.f}`), 'FAILED', 'INTERRUPTED', `${d.f} `);
      const same = (await sha256File(d.disk)) === d.before;
      outcomes.push(`${d.f} ${same ? 'identical' : 'CHANGED'}`);
      v.check(same, `${d.f} base disk changed`);
    }
    v.disk = outcomes.join(', ');
    checkLeftovers(v, a.places(), disks.flatMap((d) => d.req.secrets));
    await a.stop();
    execFileSync('rm', ['-rf', dirs.base]);
  });
});
