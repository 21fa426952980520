// Faults 1-5: the agent (its own process) killed with SIGKILL at each phase of a safe-mode
// job, then started again on the same data dir. Each phase is reached through the agent's
// own signals (job events, the COMMITTING marker) or a wrapper qemu-img / virt-sysprep
// that holds the chosen step; a held wrapper is killed with the agent (the step never ran).
// Before the commit the disk must be byte-identical and the job FAILED/INTERRUPTED; from
// the commit on, the restarted agent rolls it forward: the disk fully done, SUCCEEDED.
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { LEASE_DIR } from '../../host-agent/storage/leases';
import { makeAgentDirs } from '../helpers/agentHarness';
import {
  checkAftermath, fault, faultDisk, faultRequest, killGroup, processRunning, startFaultAgent, startJob, stopFaultAgents,
  until, untilOperation, wrapTool,
} from './faultKit';

jest.setTimeout(20 * 60_000);
afterAll(stopFaultAgents);

const leaseCount = (root: string) => (existsSync(path.join(root, LEASE_DIR)) ? readdirSync(path.join(root, LEASE_DIR)).length : 0);

describe('agent SIGKILL at each phase (real virt-sysprep)', () => {
  fault('1. agent SIGKILL with the lease taken, before the overlay', async (v) => {
    const dirs = makeAgentDirs('fault-k1-');
    const qemuImg = wrapTool(dirs.base, 'qemu-img');
    qemuImg.pause('create');
    const a = await startFaultAgent({ prefix: 'k1', dirs, extra: { qemuImg: qemuImg.bin } });
    const { disk, before } = await faultDisk(dirs, 'k1.qcow2');
    const req = faultRequest('k1');
    await startJob(a.client, 'k1', disk, req);
    const held = await qemuImg.reached('create');
    v.check(leaseCount(dirs.root) > 0, 'phase not reached: no lease taken');
    v.check(!existsSync(path.join(dirs.dataDir, 'overlays', 'k1', 'disk0.qcow2')), 'phase not reached: overlay already there');
    await a.kill();
    killGroup(held);

    await a.restart();
    await checkAftermath(v, a, { jobId: 'k1', disk, before, req, state: 'FAILED', code: 'INTERRUPTED' });
  });

  fault('2. agent SIGKILL with the overlay made, before virt-sysprep', async (v) => {
    const dirs = makeAgentDirs('fault-k2-');
    const tool = wrapTool(dirs.base, 'virt-sysprep');
    tool.pause('run');
    const a = await startFaultAgent({ prefix: 'k2', dirs, extra: { virtSysprep: tool.bin } });
    const { disk, before } = await faultDisk(dirs, 'k2.qcow2');
    const req = faultRequest('k2');
    await startJob(a.client, 'k2', disk, req);
    const held = await tool.reached('run');
    try {
      v.check(existsSync(path.join(dirs.dataDir, 'overlays', 'k2', 'disk0.qcow2')), 'phase not reached: no overlay');
      await a.kill();
      await a.restart();
      // The held wrapper stands where virt-sysprep would: the restarted agent stops it.
      await until(() => !processRunning('/overlays/k2/'), 15_000, 'the orphan tool to be stopped').catch(() => v.check(false, 'the orphan tool of k2 still runs'));
      await checkAftermath(v, a, { jobId: 'k2', disk, before, req, state: 'FAILED', code: 'INTERRUPTED' });
    } finally {
      killGroup(held);
    }
  });

  fault('3. agent SIGKILL while virt-sysprep runs', async (v) => {
    const a = await startFaultAgent({ prefix: 'k3' });
    const { disk, before } = await faultDisk(a.dirs, 'k3.qcow2');
    const req = faultRequest('k3');
    await startJob(a.client, 'k3', disk, req);
    await untilOperation(a.client, 'k3');
    await a.kill();
    await a.restart();
    await until(() => !processRunning('/overlays/k3/'), 15_000, 'the orphan tool to be stopped').catch(() => v.check(false, 'the orphan virt-sysprep of k3 still runs'));
    await checkAftermath(v, a, { jobId: 'k3', disk, before, req, state: 'FAILED', code: 'INTERRUPTED' });
  });

  fault('4. agent SIGKILL while committing (COMMITTING marker written): rolled forward', async (v) => {
    const dirs = makeAgentDirs('fault-k4-');
    const qemuImg = wrapTool(dirs.base, 'qemu-img');
    qemuImg.pause('commit');
    const a = await startFaultAgent({ prefix: 'k4', dirs, extra: { qemuImg: qemuImg.bin } });
    const { disk, before } = await faultDisk(dirs, 'k4.qcow2');
    const req = faultRequest('k4');
    await startJob(a.client, 'k4', disk, req);
    const held = await qemuImg.reached('commit');
    v.check(existsSync(path.join(dirs.dataDir, 'overlays', 'k4', 'COMMITTING')), 'phase not reached: no COMMITTING marker');
    await a.kill();
    killGroup(held);

    await a.restart();
    await checkAftermath(v, a, { jobId: 'k4', disk, before, req, state: 'SUCCEEDED' });
  });

  fault('5. agent SIGKILL after the commit, before the final state', async (v) => {
    const dirs = makeAgentDirs('fault-k5-');
    const qemuImg = wrapTool(dirs.base, 'qemu-img');
    qemuImg.pause('commit', 'after');
    const a = await startFaultAgent({ prefix: 'k5', dirs, extra: { qemuImg: qemuImg.bin } });
    const { disk, before } = await faultDisk(dirs, 'k5.qcow2');
    const req = faultRequest('k5');
    await startJob(a.client, 'k5', disk, req);
    const held = await qemuImg.reached('commit', 'after');
    v.check((await a.client.getJob('k5')).state === 'RUNNING', 'phase not reached: job already final');
    await a.kill();
    killGroup(held);

    await a.restart();
    await checkAftermath(v, a, { jobId: 'k5', disk, before, req, state: 'SUCCEEDED' });
  });
});
