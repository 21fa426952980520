// Faults of one agent's run, the agent staying up (real virt-sysprep unless named): the
// agent stopped and continued (6), its overlay directory full (12), its lease directory
// unusable (13), qemu-img commit failing (15, wrapper), the run past its time limit (16),
// virt-sysprep killed (20), a failing --run script (21), a cancel (22). A failed or
// cancelled job leaves the disk byte-identical, nothing left behind, and the next job on
// the disk succeeds once the fault is gone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LEASE_DIR } from '../../host-agent/storage/leases';
import { makeAgentDirs } from '../helpers/agentHarness';
import {
  checkAftermath, fault, FAULT_OPS, faultDisk, FaultAgent, faultRequest, killGroup, processRunning, startFaultAgent, startJob,
  stopFaultAgents, ToolWrapper, until, untilOperation, waitForJob, wrapTool,
} from './faultKit';
import { toWireParams } from '../../shared/wireParams';

jest.setTimeout(20 * 60_000);

const mounted: string[] = [];
afterAll(async () => {
  await stopFaultAgents();
  for (const m of mounted) execFileSync('umount', ['-l', m]);
});

describe('agent faults during a run (real virt-sysprep)', () => {
  fault('6. agent SIGSTOP while virt-sysprep runs, then SIGCONT', async (v) => {
    const a = await startFaultAgent({ prefix: 's6', extra: { leaseTimeoutSec: 30 } });
    const { disk, before } = await faultDisk(a.dirs, 's6.qcow2');
    const req = faultRequest('s6');
    await startJob(a.client, 's6', disk, req);
    await untilOperation(a.client, 's6');
    a.signal('SIGSTOP');
    await new Promise((r) => setTimeout(r, 10_000));
    a.signal('SIGCONT');
    // Either end is truthful if the disk agrees: done if SUCCEEDED, identical if FAILED.
    const { state } = await waitForJob(a.client, 's6');
    await checkAftermath(v, a, { jobId: 's6', disk, before, req, state: state === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED' });
  });

  fault('12. overlay directory full (2 MiB tmpfs as the data dir, filled to 320 KiB free)', async (v) => {
    const dirs = makeAgentDirs('fault-f12-');
    mkdirSync(dirs.dataDir, { recursive: true });
    // Root is required: the suite runs as root (CI too). No mount, no test: fail loudly.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2M,mode=0750', 'tmpfs', dirs.dataDir]);
    mounted.push(dirs.dataDir);
    const a = await startFaultAgent({ prefix: 'f12', dirs });
    // A run's overlay needs about 1 MiB: leave room for the overlay's header, not its writes.
    const ballast = path.join(dirs.dataDir, 'ballast');
    const fs = statfsSync(dirs.dataDir);
    execFileSync('fallocate', ['-l', String(fs.bavail * fs.bsize - 320 * 1024), ballast]);
    const { disk, before } = await faultDisk(dirs, 'f12.qcow2');
    const req = faultRequest('f12');
    await startJob(a.client, 'f12', disk, req, { timeoutSeconds: 240 });
    await waitForJob(a.client, 'f12');
    // The fault goes away before the next job: room again.
    rmSync(ballast);
    execFileSync('mount', ['-o', 'remount,size=256M', dirs.dataDir]);
    await checkAftermath(v, a, { jobId: 'f12', disk, before, req, state: 'FAILED' });
  });

  fault('13. lease directory unusable (a regular file in its place)', async (v) => {
    const a = await startFaultAgent({ prefix: 'f13' });
    const { disk, before } = await faultDisk(a.dirs, 'f13.qcow2');
    const leaseDir = path.join(a.dirs.root, LEASE_DIR);
    rmSync(leaseDir, { recursive: true, force: true });
    writeFileSync(leaseDir, 'not a directory\n');
    const req = faultRequest('f13');
    await startJob(a.client, 'f13', disk, req);
    const job = await waitForJob(a.client, 'f13');
    v.check(job.error?.message.includes(LEASE_DIR) ?? false, `the error does not name the lease directory: ${job.error?.message}`);
    v.check(!existsSync(job.logPath), 'virt-sysprep ran without a lease');
    rmSync(leaseDir);
    await checkAftermath(v, a, { jobId: 'f13', disk, before, req, state: 'FAILED' });
  });

  describe('one agent with a wrapper qemu-img', () => {
    let a: FaultAgent;
    let qemuImg: ToolWrapper;
    beforeAll(async () => {
      const dirs = makeAgentDirs('fault-run-');
      qemuImg = wrapTool(dirs.base, 'qemu-img');
      a = await startFaultAgent({ prefix: 'run', dirs, extra: { qemuImg: qemuImg.bin } });
    });

    fault('15. qemu-img commit fails (wrapper qemu-img)', async (v) => {
      const { disk, before } = await faultDisk(a.dirs, 'f15.qcow2');
      const req = faultRequest('f15');
      qemuImg.fail('commit');
      await startJob(a.client, 'f15', disk, req);
      await waitForJob(a.client, 'f15');
      qemuImg.fail('commit', false);
      await checkAftermath(v, a, { jobId: 'f15', disk, before, req, state: 'FAILED', code: 'COMMIT_FAILED' });
    });

    fault('16. virt-sysprep past its time limit (timeout 5 s, real tool)', async (v) => {
      const { disk, before } = await faultDisk(a.dirs, 'f16.qcow2');
      const req = faultRequest('f16');
      await startJob(a.client, 'f16', disk, req, { timeoutSeconds: 5 });
      await waitForJob(a.client, 'f16');
      // The whole process group went, the libguestfs appliance with it.
      await until(() => !processRunning('/overlays/f16/'), 10_000, 'the tool and its appliance to go').catch(() => v.check(false, 'a process of f16 outlived the timeout'));
      await checkAftermath(v, a, { jobId: 'f16', disk, before, req, state: 'FAILED', code: 'TIMEOUT' });
    });

    fault('20. virt-sysprep killed (SIGKILL of its process group mid-run)', async (v) => {
      const { disk, before } = await faultDisk(a.dirs, 'f20.qcow2');
      const req = faultRequest('f20');
      await startJob(a.client, 'f20', disk, req);
      await untilOperation(a.client, 'f20');
      const { toolPid } = JSON.parse(readFileSync(path.join(a.dirs.dataDir, 'jobs', 'f20.json'), 'utf8'));
      v.check(toolPid > 0, 'no tool pid in the journal');
      killGroup(toolPid);
      await checkAftermath(v, a, { jobId: 'f20', disk, before, req, state: 'FAILED', code: 'TOOL_FAILED' });
    });

    fault('21. a failing --run script (exit 1)', async (v) => {
      const { disk, before } = await faultDisk(a.dirs, 'f21.qcow2');
      const req = faultRequest('f21');
      const params = { ...req.params, scripts: ['#!/bin/sh\necho injected failure >&2\nexit 1\n'] };
      await a.client.startSysprep({ jobId: 'f21', disks: [{ path: disk }], spec: { only: FAULT_OPS, ...toWireParams(params) } });
      await checkAftermath(v, a, { jobId: 'f21', disk, before, req, state: 'FAILED', code: 'TOOL_FAILED' });
    });

    fault('22. cancel while virt-sysprep runs', async (v) => {
      const { disk, before } = await faultDisk(a.dirs, 'f22.qcow2');
      const req = faultRequest('f22');
      await startJob(a.client, 'f22', disk, req);
      await untilOperation(a.client, 'f22');
      await a.client.cancelJob('f22');
      await waitForJob(a.client, 'f22');
      await until(() => !processRunning('/overlays/f22/'), 10_000, 'the tool to go').catch(() => v.check(false, 'a process of f22 outlived the cancel'));
      await checkAftermath(v, a, { jobId: 'f22', disk, before, req, state: 'CANCELLED', code: 'CANCELLED' });
    });
  });
});
