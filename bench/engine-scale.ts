// Orchestration-scale benchmark (not part of npm test). A pool of 5,000 VMs spread over
// 4 local agents that share one storage root is expanded, dispatched and finished.
// The tool is bench/fake-virt-sysprep, a STAND-IN that prints virt-sysprep's progress
// lines and touches no disk: this measures the engine, not sysprep.
//
// Measured: engine CPU time per VM (from /proc: the engine runs as its own process),
// the engine's peak RSS, and the slowest of the API requests made meanwhile.
// Run: npm run build && node dist/bench/engine-scale.js [VMS=5000]
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { api, ROOT, startAgentProcess, startEngineProcess } from './engineBenchKit';

const VMS = Number(process.argv[2] ?? 5000);
const PROBE_MS = Number(process.env.PROBE_MS ?? 100);
const AGENTS = 4;
const JOBS_PER_AGENT = 8;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-scale-'));
  const storage = path.join(dir, 'storage');
  mkdirSync(storage);
  const template = path.join(storage, 'tiny.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', template, '1M']);
  const agents = [];
  for (let i = 0; i < AGENTS; i++) {
    // Each agent is its own process, like on real hosts (and so that neither the agents'
    // work nor this probe client share the engine's or each other's event loop).
    agents.push(await startAgentProcess(dir, `bench${i + 1}`, {
      hypervisor: 'tcg', data_dir: path.join(dir, `agent${i}`), log_dir: path.join(dir, `agent${i}-logs`), storage_roots: storage,
      max_jobs: String(JOBS_PER_AGENT), virt_sysprep: path.join(ROOT, 'bench/fake-virt-sysprep'), log_level: 'warn',
    }));
  }
  const engine = await startEngineProcess(dir, agents.map((a) => ({ id: a.hostId, address: a.address, roots: [storage] })));
  try {
    await api(engine.url, 'POST', '/templates', { name: 'tiny', disks: [{ path: template, format: 'qcow2' }] });
    let t = performance.now();
    const created = await api(engine.url, 'POST', '/pools', { name: 'scale', template: 'tiny', size: VMS });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    console.log(`setup: ${VMS} clones created in ${((performance.now() - t) / 1000).toFixed(1)} s (not measured)`);

    // Probe the API all along: health, job list, a page of VMs, the bulk job itself.
    let slowest = { ms: 0, what: '' };
    let probes = 0;
    let jobId = '';
    let done = false;
    const probe = (async () => {
      while (!done) {
        // What an admin page polls: health, recent jobs, a page of VMs, and the bulk job
        // with its first page of children.
        for (const p of ['/health', '/jobs?limit=20', '/vms?limit=50', ...(jobId ? [`/jobs/${jobId}?children=20`] : [])]) {
          const r = await api(engine.url, 'GET', p);
          probes++;
          if (r.ms > slowest.ms) slowest = { ms: r.ms, what: p };
        }
        await new Promise((r) => setTimeout(r, PROBE_MS));
      }
    })();

    const cpu0 = engine.cpuSeconds();
    t = performance.now();
    const r = await api(engine.url, 'POST', `/pools/${created.body.pool.id}/sysprep`, { operations: { only: ['machine-id', 'ssh-hostkeys'] }, params: { hostname: '${pool}-${index}' } });
    jobId = r.body.job.id;
    console.log(`POST /pools/{id}/sysprep (expansion of ${VMS} VMs): ${r.ms.toFixed(0)} ms`);
    let job: any;
    for (;;) {
      job = (await api(engine.url, 'GET', `/jobs/${jobId}?children=0`)).body;
      if (['succeeded', 'failed', 'partial', 'cancelled'].includes(job.state)) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    const wall = (performance.now() - t) / 1000;
    const cpu = engine.cpuSeconds() - cpu0;
    done = true;
    await probe;
    const hosts = new Map<string, number>();
    const all = (await api(engine.url, 'GET', `/jobs/${jobId}/children?limit=5000`)).body.items;
    for (const c of all) hosts.set(c.host, (hosts.get(c.host) ?? 0) + 1);
    console.log(JSON.stringify({
      vms: VMS, agents: AGENTS, state: job.state, succeeded: all.filter((c: any) => c.state === 'succeeded').length,
      perHost: Object.fromEntries(hosts), wallSeconds: +wall.toFixed(1),
      engineCpuSeconds: +cpu.toFixed(2), engineMsPerVm: +((cpu * 1000) / VMS).toFixed(3),
      enginePeakRssMb: +engine.peakRssMb().toFixed(0), apiProbes: probes, slowestApiMs: +slowest.ms.toFixed(1), slowestApi: slowest.what,
    }, null, 2));
  } finally {
    await engine.stop();
    for (const a of agents) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
