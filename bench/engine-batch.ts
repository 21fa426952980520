// Batch mode on the REAL tools (issue 16; not part of npm test): a pool of VMS clones reset
// with the clone-reset profile through the engine and one local agent, the same
// concurrency (the agent's max_jobs) each time, once per batch size, side by side in one
// run: batch size 1 (one appliance per VM: virt-sysprep per VM, as without batch mode)
// and each larger size (up to that many VMs per appliance). Reports, per size, the wall
// time, the speed-up against size 1, the engine's and the agent's own CPU per VM (not the
// tools'), and how many VMs really ran in a shared appliance.
// Run: npm run build && node dist/bench/engine-batch.js [VMS=16] [CONCURRENCY=2] [SIZES=1,8,16]
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cachedGuestImage } from '../test/helpers/guestImage';
import { api, startAgentProcess, startEngineProcess, waitJob } from './engineBenchKit';

const VMS = Number(process.argv[2] ?? 16);
const CONCURRENCY = Number(process.argv[3] ?? 2);
const SIZES = (process.argv[4] ?? '1,8,16').split(',').map(Number);

interface Round { batchSize: number; seconds: number; state: string; batchedVms: number; engineCpuMsPerVm: number; agentCpuMsPerVm: number }

async function round(base: string, golden: string, batchSize: number): Promise<Round> {
  const dir = path.join(base, `size-${batchSize}`);
  const storage = path.join(dir, 'storage');
  mkdirSync(storage, { recursive: true });
  const template = path.join(storage, 'golden.qcow2');
  copyFileSync(golden, template);
  const agent = await startAgentProcess(dir, 'bench', {
    hypervisor: 'tcg', max_jobs: String(CONCURRENCY), max_batch_size: String(Math.max(batchSize, 1)), storage_roots: storage,
    data_dir: path.join(dir, 'agent'), log_dir: path.join(dir, 'agent-logs'), secrets_dir: path.join(dir, 'agent-secrets'),
  });
  const engine = await startEngineProcess(dir, [{ id: agent.hostId, address: agent.address, roots: [storage] }], [`batch_size = ${batchSize}`]);
  try {
    await api(engine.url, 'POST', '/templates', { name: 'golden', disks: [{ path: template }] });
    const pool = (await api(engine.url, 'POST', '/pools', { name: 'bench', template: 'golden', size: VMS })).body.pool;
    // Give the agent a moment to be probed by the engine (its max_batch_size).
    await new Promise((r) => setTimeout(r, 500));
    const cpu0 = { engine: engine.cpuSeconds(), agent: agent.cpuSeconds() };
    const t = performance.now();
    const r = await api(engine.url, 'POST', `/pools/${pool.id}/sysprep`, { profile: 'clone-reset' });
    if (r.status !== 202) throw new Error(`sysprep refused: ${JSON.stringify(r.body)}`);
    let last = -1;
    const job = await waitJob(engine.url, r.body.job.id, (j) => {
      if (j.progress.done !== last) process.stdout.write(`batch size ${batchSize}: ${(last = j.progress.done)}/${VMS} done at ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    });
    const seconds = (performance.now() - t) / 1000;
    const children = await Promise.all(job.children.map((c: { id: string }) => api(engine.url, 'GET', `/jobs/${c.id}`).then((x) => x.body)));
    const batchedVms = children.filter((c) => c.result?.batch?.batched).length;
    return {
      batchSize, seconds: +seconds.toFixed(1), state: job.state, batchedVms,
      engineCpuMsPerVm: +(((engine.cpuSeconds() - cpu0.engine) * 1000) / VMS).toFixed(1),
      agentCpuMsPerVm: +(((agent.cpuSeconds() - cpu0.agent) * 1000) / VMS).toFixed(1),
    };
  } finally {
    await engine.stop();
    await agent.stop();
  }
}

async function main(): Promise<void> {
  const base = mkdtempSync(path.join(os.tmpdir(), 'engine-batch-'));
  try {
    const golden = await cachedGuestImage();
    const rounds: Round[] = [];
    for (const size of SIZES) rounds.push(await round(base, golden, size));
    const alone = rounds.find((r) => r.batchSize <= 1);
    console.log(JSON.stringify({
      vms: VMS, concurrency: CONCURRENCY, profile: 'clone-reset', cores: os.cpus().length,
      rounds: rounds.map((r) => ({ ...r, speedup: alone ? +(alone.seconds / r.seconds).toFixed(2) : undefined })),
    }, null, 2));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
