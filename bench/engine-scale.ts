// Orchestration-scale benchmark (not part of npm test). A pool of 5,000 VMs spread over
// 4 local agents that share one storage root is expanded, dispatched and finished.
// The tool is bench/fake-virt-sysprep, a STAND-IN that prints virt-sysprep's progress
// lines and touches no disk: this measures the engine, not sysprep.
//
// Two runs side by side, each on a fresh engine and fresh agents:
//   "admin page": the API is used as one open admin page uses it (health, the job list,
//                 a page of VMs, the bulk job with its first children, every 4 s);
//   "10 Hz probe": the same four requests every 100 ms (about 30 requests a second),
//                 to catch the slowest answer while the engine is busiest.
// Each on SQLite and on PostgreSQL (a server the benchmark starts: initdb in a temporary
// directory, a unix socket), side by side in one run.
// Measured: engine CPU time per VM (from /proc: the engine runs as its own process),
// its peak RSS, the API's p99 and slowest request, what one request costs the engine when
// idle, and the hypervisor's steal time (a noisy host makes every figure worse).
// Agents: the real ones (default: each VM costs them real qemu-img work, about 20-400 ms
// of this machine's CPU), or with `stand-in` STAND-IN agents (bench/fakeAgentProcess.ts,
// jobs are timers) that make 100,000 VMs a matter of minutes and leave the CPU to the engine.
// Run: npm run build && node dist/bench/engine-scale.js [VMS=5000] [admin|probe|both] [sqlite|postgresql|both] [real|stand-in]
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { api, machineTicks, ROOT, startAgentProcess, startEngineProcess, startStandInAgentProcess } from './engineBenchKit';
import { FINAL_JOB_STATES } from '../shared/jobStates';
import { startPostgres, TestPostgres } from '../test/helpers/postgres';

const VMS = Number(process.argv[2] ?? 5000);
/** real: the real agents (their real qemu-img work) with the stand-in tool; stand-in: STAND-IN agents whose jobs are timers (bench/fakeAgentProcess.ts). */
const AGENT_KIND = process.argv[5] ?? 'real';
const STAND_IN_JOB_MS = 50;
const AGENTS = 4;
const JOBS_PER_AGENT = 8;
const PROBE_ROUNDS_IDLE = 200;

interface Result {
  run: string;
  wallSeconds: number;
  engineMsPerVm: number;
  /** The same, split into user and system (kernel) time. */
  engineUserSysMsPerVm: [number, number];
  enginePeakRssMb: number;
  /** Peak RSS while POST /pools made the clones (before the run; not in the targets). */
  setupPeakRssMb: number;
  apiRequests: number;
  /** 99th percentile of the probe's request times, ms. */
  p99ApiMs: number;
  slowestApiMs: number;
  slowestApi: string;
  /** When it was asked, seconds after the pool's POST (0: before it). */
  slowestApiAtS: number;
  /** When each request over 50 ms was asked, seconds after the POST. */
  over50msAtS: number[];
  stealPercent: number;
  succeeded: number;
  perHost: Record<string, number>;
  idleCpuMsPerRequest?: Record<string, number>;
}

const probePaths = (jobId: string) => ['/health', '/jobs?limit=20', '/vms?limit=50', ...(jobId ? [`/jobs/${jobId}?children=20`] : [])];

/** The p-th percentile (0-100) of `values`. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function run(label: string, probeMs: number, measureIdleRequests: boolean, pg?: TestPostgres): Promise<Result> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-scale-'));
  const storage = path.join(dir, 'storage');
  mkdirSync(storage);
  const template = path.join(storage, 'tiny.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', template, '1M']);
  const agents = [];
  for (let i = 0; i < AGENTS; i++) {
    // Each agent is its own process, like on real hosts (and so that neither the agents'
    // work nor this probe client share the engine's or each other's event loop).
    agents.push(AGENT_KIND === 'stand-in'
      ? await startStandInAgentProcess(`bench${i + 1}`, storage, JOBS_PER_AGENT, STAND_IN_JOB_MS)
      : await startAgentProcess(dir, `bench${i + 1}`, {
        hypervisor: 'tcg', data_dir: path.join(dir, `agent${i}`), log_dir: path.join(dir, `agent${i}-logs`), secrets_dir: path.join(dir, `agent${i}-secrets`), storage_roots: storage,
        max_jobs: String(JOBS_PER_AGENT), virt_sysprep: path.join(ROOT, 'bench/fake-virt-sysprep'), log_level: 'warn',
      }));
  }
  const database = pg ? [`database = ${await pg.createDatabase('scale')}`] : [];
  // One VM per run: the stand-in cannot share an appliance (batch mode would start real
  // guestfish sessions on the 1 MB clones, which fail and fall back to one run per VM).
  const agentHosts = agents.map((a) => ({ id: a.hostId, address: a.address, roots: [storage] }));
  let engine = await startEngineProcess(dir, agentHosts, [...database, 'batch_size = 1']);
  try {
    await api(engine.url, 'POST', '/templates', { name: 'tiny', disks: [{ path: template, format: 'qcow2' }] });
    let t = performance.now();
    const created = await api(engine.url, 'POST', '/pools', { name: 'scale', template: 'tiny', size: VMS });
    if (created.status !== 201) throw new Error(JSON.stringify(created.body));
    const setupPeakRssMb = +engine.peakRssMb().toFixed(0);
    console.error(`[${label}] setup: ${VMS} clones created in ${((performance.now() - t) / 1000).toFixed(1)} s (not measured; engine peak RSS ${setupPeakRssMb} MB)`);
    // The run on a fresh engine process (an engine restart: same database), after the
    // clones' gigabytes are written out (sync): neither the creation's garbage nor its
    // disk writes weigh on the run, whose peak RSS is then the process's own (VmHWM).
    execFileSync('sync');
    await engine.stop();
    engine = await startEngineProcess(dir, agentHosts, [...database, 'batch_size = 1']);

    let slowest = { ms: 0, what: '', at: 0 };
    const times: number[] = [];
    const slow: number[] = []; // seconds since the POST of each request over 50 ms
    let t0 = 0;
    let requests = 0;
    let jobId = '';
    let done = false;
    const probe = (async () => {
      while (!done) {
        for (const p of probePaths(jobId)) {
          const r = await api(engine.url, 'GET', p);
          requests++;
          times.push(r.ms);
          const at = t0 ? +((performance.now() - r.ms - t0) / 1000).toFixed(1) : 0;
          if (r.ms > slowest.ms) slowest = { ms: r.ms, what: p.replace(jobId, '{id}'), at };
          if (r.ms > 50) slow.push(at);
        }
        for (let waited = 0; waited < probeMs && !done; waited += 100) await new Promise((r) => setTimeout(r, Math.min(100, probeMs)));
      }
    })();

    const cpu0 = engine.cpu();
    const ticks0 = machineTicks();
    t = t0 = performance.now();
    const r = await api(engine.url, 'POST', `/pools/${created.body.pool.id}/sysprep`, { operations: { only: ['machine-id', 'ssh-hostkeys'] }, params: { hostname: '${pool}-${index}' } });
    jobId = r.body.job.id;
    console.error(`[${label}] POST /pools/{id}/sysprep (expansion of ${VMS} VMs): ${r.ms.toFixed(0)} ms`);
    let job: any;
    for (;;) {
      job = (await api(engine.url, 'GET', `/jobs/${jobId}?children=0`)).body;
      if ((FINAL_JOB_STATES as readonly string[]).includes(job.state)) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    const wall = (performance.now() - t) / 1000;
    const cpu1 = engine.cpu();
    const cpu = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
    const ticks1 = machineTicks();
    done = true;
    await probe;
    const enginePeakRssMb = +engine.peakRssMb().toFixed(0);

    let idleCpuMsPerRequest: Record<string, number> | undefined;
    if (measureIdleRequests) {
      // What one request costs the engine once the pool is done (nothing else running).
      idleCpuMsPerRequest = {};
      for (const p of probePaths(jobId)) {
        const c0 = engine.cpuSeconds();
        for (let i = 0; i < PROBE_ROUNDS_IDLE; i++) await api(engine.url, 'GET', p);
        idleCpuMsPerRequest[p.replace(jobId, '{id}')] = +(((engine.cpuSeconds() - c0) * 1000) / PROBE_ROUNDS_IDLE).toFixed(2);
      }
    }
    const hosts = new Map<string, number>();
    let succeeded = 0;
    for (let cursor: string | undefined = '0'; cursor !== undefined; ) {
      const page: { items: { host: string; state: string }[]; next?: string } = (await api(engine.url, 'GET', `/jobs/${jobId}/children?limit=5000&cursor=${cursor}`)).body;
      for (const c of page.items) {
        hosts.set(c.host, (hosts.get(c.host) ?? 0) + 1);
        if (c.state === 'succeeded') succeeded++;
      }
      cursor = page.next;
    }
    if (job.state !== 'succeeded') throw new Error(`[${label}] the pool job ended ${job.state}`);
    return {
      run: label,
      wallSeconds: +wall.toFixed(1),
      engineMsPerVm: +((cpu * 1000) / VMS).toFixed(2),
      engineUserSysMsPerVm: [+(((cpu1.user - cpu0.user) * 1000) / VMS).toFixed(2), +(((cpu1.system - cpu0.system) * 1000) / VMS).toFixed(2)],
      enginePeakRssMb,
      setupPeakRssMb,
      apiRequests: requests,
      p99ApiMs: +percentile(times, 99).toFixed(1),
      slowestApiMs: +slowest.ms.toFixed(1),
      slowestApi: slowest.what,
      slowestApiAtS: slowest.at,
      over50msAtS: slow,
      stealPercent: +((100 * (ticks1.steal - ticks0.steal)) / Math.max(1, ticks1.total - ticks0.total)).toFixed(1),
      succeeded,
      perHost: Object.fromEntries(hosts),
      idleCpuMsPerRequest,
    };
  } finally {
    await engine.stop();
    for (const a of agents) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const which = process.argv[3] ?? 'both'; // admin | probe | both
  const stores = (process.argv[4] ?? 'both') === 'both' ? ['sqlite', 'postgresql'] : [process.argv[4]];
  const results: Result[] = [];
  for (const store of stores) {
    const pg = store === 'postgresql' ? await startPostgres() : undefined;
    try {
      if (which !== 'probe') results.push(await run(`admin page, ${store}`, 4000, false, pg));
      if (which !== 'admin') results.push(await run(`10 Hz probe, ${store}`, 100, true, pg));
    } finally {
      await pg?.stop();
    }
  }
  console.log(JSON.stringify({ vms: VMS, agents: AGENTS, agentKind: AGENT_KIND, jobsPerAgent: JOBS_PER_AGENT, results }, null, 2));
  console.log(`\n${VMS} VMs, ${AGENTS} ${AGENT_KIND === 'stand-in' ? `STAND-IN agents (jobs are ${STAND_IN_JOB_MS} ms timers)` : 'real agents with the stand-in tool'}, ${JOBS_PER_AGENT} jobs each`);
  console.log('\nrun                      | wall s | engine CPU ms/VM (user + sys) | peak RSS MB (setup) | API requests | p99 API ms | slowest API ms | steal %');
  for (const r of results) {
    const split = `${r.engineMsPerVm} (${r.engineUserSysMsPerVm.join(' + ')})`;
    console.log(`${r.run.padEnd(24)} | ${String(r.wallSeconds).padStart(6)} | ${split.padStart(29)} | ${`${r.enginePeakRssMb} (${r.setupPeakRssMb})`.padStart(19)} | ${String(r.apiRequests).padStart(12)} | ${String(r.p99ApiMs).padStart(10)} | ${String(r.slowestApiMs).padStart(14)} | ${r.stealPercent}`);
  }
  console.log(`targets: < 1 ms/VM, < 300 MB, API p99 under 100 ms`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
