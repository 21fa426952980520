// Engine faults (the engine and the agent as their own processes, real virt-sysprep):
// the engine killed with a job pending (7), running (8), while the agent commits (9),
// and restarted only after the agent finished (10); the engine stopped and continued
// (11); the agent killed and restarted in the middle of a pool job (17); the engine's
// database locked by another process while jobs end (18). The engine's record, the
// agent's record and the disk must tell the same story.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { REPO } from '../helpers/agentHarness';
import { copyGuestImage } from '../helpers/guestImage';
import { sha256File } from '../helpers/disk';
import {
  checkJob, checkLeftovers, checkTruth, fault, faultRequest, FaultRequest, stopFaultAgents, ToolWrapper,
  untilOperation, Verdict, waitForJob, wrapTool,
} from './faultKit';
import { FaultStack, importVm, startFaultStack, sysprepVm, untilEngineJob } from './engineStack';

jest.setTimeout(30 * 60_000);

const AGENT_STATE: Record<string, string> = { succeeded: 'SUCCEEDED', failed: 'FAILED', cancelled: 'CANCELLED' };

/** The engine's final record, the agent's (when it ever had the job) and the disk agree. */
async function checkStory(v: Verdict, s: FaultStack, jobId: string, disk: { path: string; before: string }, hostname: string, state: string, code?: string, agentHasIt: boolean | 'maybe' = true): Promise<void> {
  const job = await s.waitJob(jobId);
  checkJob(v, job, state, code, 'engine ');
  const agentJob = await s.agent.client.getJob(jobId).catch(() => null);
  if (agentHasIt === true || (agentHasIt === 'maybe' && agentJob)) {
    if (v.check(!!agentJob, `the agent has no job ${jobId}`)) checkJob(v, agentJob!, AGENT_STATE[state], code, 'agent ');
  } else {
    v.check(!agentJob, `the agent ran ${jobId}, which the engine says never ran`);
  }
  await checkTruth(v, job, disk.path, disk.before, hostname);
}

/** The next job on the VM, through the engine, must succeed; returns its secrets. */
async function checkNextVmJob(v: Verdict, s: FaultStack, vmId: string): Promise<string[]> {
  const next = faultRequest('next');
  const job = await s.waitJob(await sysprepVm(s, vmId, next.params));
  v.check(job.state === 'succeeded', `next job on ${vmId} is ${job.state}${job.error ? ` (${job.error.code})` : ''}`);
  return next.secrets;
}

async function newVm(s: FaultStack, name: string): Promise<{ id: string; path: string; before: string }> {
  const p = path.join(s.storage, `${name}.qcow2`);
  await copyGuestImage(p);
  return { id: await importVm(s, name, p), path: p, before: await sha256File(p) };
}

describe('engine killed or stopped mid-job', () => {
  let s: FaultStack;
  let qemuImg: ToolWrapper;
  beforeAll(async () => {
    const wrapDir = require('node:fs').mkdtempSync(path.join(require('node:os').tmpdir(), 'fault-ewrap-'));
    qemuImg = wrapTool(wrapDir, 'qemu-img');
    s = await startFaultStack('eng', { qemuImg: qemuImg.bin });
  });
  afterAll(async () => {
    await s?.stop();
    await stopFaultAgents();
  });

  // One kill serves faults 7 and 10: VM a's job runs (the agent runs one job at a time),
  // VM b's waits in the engine; the engine dies; the agent finishes a while the engine
  // is down; the engine comes back.
  let killWithPending: Promise<{ a: Awaited<ReturnType<typeof newVm>>; b: Awaited<ReturnType<typeof newVm>>; ja: string; jb: string; ra: FaultRequest; rb: FaultRequest; pendingBefore: string }> | undefined;
  const pendingScenario = () => (killWithPending ??= (async () => {
    const a = await newVm(s, 'e10');
    const b = await newVm(s, 'e7');
    const ra = faultRequest('e10');
    const rb = faultRequest('e7');
    const ja = await sysprepVm(s, a.id, ra.params);
    const jb = await sysprepVm(s, b.id, rb.params);
    await untilEngineJob(s, ja, (j) => j.state === 'running');
    await untilOperation(s.agent.client, ja);
    const pendingBefore = (await s.api('GET', `/jobs/${jb}`)).body.state;
    await s.killEngine();
    await waitForJob(s.agent.client, ja);
    await s.startEngine();
    return { a, b, ja, jb, ra, rb, pendingBefore };
  })());

  fault('7. engine SIGKILL with a job pending (secrets never stored: SECRETS_LOST)', async (v) => {
    const { b, jb, rb, pendingBefore } = await pendingScenario();
    v.check(pendingBefore === 'pending', `phase not reached: job was ${pendingBefore} when the engine died`);
    await checkStory(v, s, jb, b, rb.hostname, 'failed', 'SECRETS_LOST', false);
    const next = await checkNextVmJob(v, s, b.id);
    checkLeftovers(v, s.places(), [...rb.secrets, ...next]);
  });

  fault('10. engine SIGKILL, the agent finishes while it is down, engine restarted', async (v) => {
    const { a, ja, ra } = await pendingScenario();
    await checkStory(v, s, ja, a, ra.hostname, 'succeeded');
    const next = await checkNextVmJob(v, s, a.id);
    checkLeftovers(v, s.places(), [...ra.secrets, ...next]);
  });

  fault('8. engine SIGKILL while virt-sysprep runs, restarted at once', async (v) => {
    const vm = await newVm(s, 'e8');
    const req = faultRequest('e8');
    const id = await sysprepVm(s, vm.id, req.params);
    await untilEngineJob(s, id, (j) => j.state === 'running');
    await untilOperation(s.agent.client, id);
    await s.killEngine();
    await s.startEngine();
    await checkStory(v, s, id, vm, req.hostname, 'succeeded');
    const next = await checkNextVmJob(v, s, vm.id);
    checkLeftovers(v, s.places(), [...req.secrets, ...next]);
  });

  fault('9. engine SIGKILL while the agent commits (wrapper qemu-img holds the commit)', async (v) => {
    const vm = await newVm(s, 'e9');
    const req = faultRequest('e9');
    qemuImg.pause('commit');
    const id = await sysprepVm(s, vm.id, req.params);
    await qemuImg.reached('commit');
    await s.killEngine();
    await s.startEngine();
    v.check((await s.agent.client.getJob(id)).state === 'RUNNING', 'phase not reached: the agent had ended the job');
    qemuImg.release('commit');
    await checkStory(v, s, id, vm, req.hostname, 'succeeded');
    const next = await checkNextVmJob(v, s, vm.id);
    checkLeftovers(v, s.places(), [...req.secrets, ...next]);
  });

  fault('11. engine SIGSTOP mid-job for 15 s, then SIGCONT', async (v) => {
    const vm = await newVm(s, 'e11');
    const req = faultRequest('e11');
    const id = await sysprepVm(s, vm.id, req.params);
    await untilEngineJob(s, id, (j) => j.state === 'running');
    await untilOperation(s.agent.client, id);
    s.signalEngine('SIGSTOP');
    await new Promise((r) => setTimeout(r, 15_000));
    s.signalEngine('SIGCONT');
    await checkStory(v, s, id, vm, req.hostname, 'succeeded');
    const next = await checkNextVmJob(v, s, vm.id);
    checkLeftovers(v, s.places(), [...req.secrets, ...next]);
  });

  fault('18. engine database locked (BEGIN EXCLUSIVE held by another process) while a job ends', async (v) => {
    const vm = await newVm(s, 'e18');
    const req = faultRequest('e18');
    const id = await sysprepVm(s, vm.id, req.params);
    await untilEngineJob(s, id, (j) => j.state === 'running');
    await untilOperation(s.agent.client, id);
    const locker = spawn(process.execPath, ['-e', `
      const db = new (require('better-sqlite3'))(${JSON.stringify(path.join(s.engineDir, 'engine.db'))});
      db.pragma('busy_timeout = 20000');
      db.exec('BEGIN EXCLUSIVE');
      process.stdout.write('locked\\n');
      process.stdin.on('end', () => { db.exec('ROLLBACK'); process.exit(0); }).resume();
    `], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      locker.stdout!.on('data', (c) => String(c).includes('locked') && resolve());
      locker.once('exit', (code) => reject(new Error(`the locker exited with ${code}`)));
    });
    const agentJob = await waitForJob(s.agent.client, id);
    await new Promise((r) => setTimeout(r, 8_000)); // the engine learns the end while locked
    const readable = await s.api('GET', `/jobs/${id}`).then((r) => r.status, (e) => String(e));
    locker.stdin!.end();
    await new Promise((r) => locker.once('exit', r));
    v.check(readable === 200, `GET /jobs/${id} while locked answered ${readable}`);
    const alive = s.engine.exitCode === null && s.engine.signalCode === null;
    v.check(alive, `the engine died while its database was locked (exit ${s.engine.exitCode ?? s.engine.signalCode})`);
    if (!alive) await s.startEngine();
    await checkStory(v, s, id, vm, req.hostname, agentJob.state === 'SUCCEEDED' ? 'succeeded' : 'failed');
    const next = await checkNextVmJob(v, s, vm.id);
    checkLeftovers(v, s.places(), [...req.secrets, ...next]);
  });
});

describe('agent killed in the middle of a pool job', () => {
  let s: FaultStack;
  beforeAll(async () => {
    s = await startFaultStack('bulk');
  });
  afterAll(async () => {
    await s?.stop();
    await stopFaultAgents();
  });

  fault('17. agent SIGKILL mid-bulk (pool of 3), restarted: every child ends truthfully', async (v) => {
    const tpl = path.join(s.storage, 'gold17.qcow2');
    await copyGuestImage(tpl);
    await s.api('POST', '/templates', { name: 'gold17', disks: [{ path: tpl }] });
    const created = await s.api('POST', '/pools', { name: 'p17', template: 'gold17', size: 3 });
    if (created.status !== 201) throw new Error(`pool: ${created.status} ${JSON.stringify(created.body)}`);
    const vmIds: string[] = created.body.pool.vmIds;
    const disks = new Map<string, { path: string; before: string }>();
    for (const id of vmIds) {
      const p = (await s.api('GET', `/vms/${id}`)).body.disks[0].path;
      disks.set(id, { path: p, before: await sha256File(p) });
    }
    const req = faultRequest('p17');
    const r = await s.api('POST', `/pools/${created.body.pool.id}/sysprep`, { operations: { only: ['machine-id'] }, params: { ...req.params, hostname: 'p17-${index}' } });
    if (r.status !== 202) throw new Error(`pool sysprep: ${r.status} ${JSON.stringify(r.body)}`);
    const running = await untilEngineJob(s, r.body.job.id, (j) => j.children.some((c: { state: string }) => c.state === 'running'));
    const first = running.children.find((c: { state: string }) => c.state === 'running').id;
    await untilOperation(s.agent.client, first);
    await s.agent.kill();
    await new Promise((res) => setTimeout(res, 3_000));
    await s.agent.restart();

    const job = await s.waitJob(r.body.job.id);
    const states = job.children.map((c: { state: string }) => c.state);
    const expected = states.every((x: string) => x === 'succeeded') ? 'succeeded' : states.some((x: string) => x === 'succeeded') ? 'partial' : 'failed';
    v.check(job.state === expected, `the pool job is ${job.state} while its children are ${states.join(', ')}`);
    const failed: string[] = [];
    const outcomes: string[] = [];
    for (const child of job.children) {
      const vmId = child.target.id;
      const disk = disks.get(vmId)!;
      // A child failed before it reached the agent (NO_AGENT) is not on the agent.
      await checkStory(v, s, child.id, disk, `p17-${vmIds.indexOf(vmId) + 1}`, child.state, child.error?.code, child.id === first || child.state === 'succeeded' ? true : 'maybe');
      outcomes.push(v.disk);
      if (child.state !== 'succeeded') failed.push(vmId);
    }
    v.disk = outcomes.join(', ');
    v.job = `pool ${job.state}: ${v.job}`;
    const next: string[] = [];
    for (const vmId of failed) next.push(...(await checkNextVmJob(v, s, vmId)));
    checkLeftovers(v, s.places(), [...req.secrets, ...next]);
  });
});
