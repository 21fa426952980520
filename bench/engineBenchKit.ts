// Shared pieces of the engine benchmarks: the engine as its own process (so its CPU time
// and RSS can be read from /proc), a tiny HTTP client, and /proc readers.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { FINAL_JOB_STATES } from '../shared/jobStates';

/** The checkout: two levels up from dist/bench, one from bench/ (a test runs the sources). */
export const ROOT = [path.resolve(__dirname, '..'), path.resolve(__dirname, '..', '..')].find((d) => existsSync(path.join(d, 'package.json')))!;
export const TOKEN = 'bench-admin-token-0123456789';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * BENCH_PIN=1, for profiling only (not for figures): the engine gets CPU 1 to itself and
 * everything else (agents, their tools, this client) shares CPU 0, so a profile of the
 * engine shows its own work instead of the moments it waited for a CPU.
 */
function pin(pid: number, who: 'engine' | 'other'): void {
  if (!process.env.BENCH_PIN) return;
  execFileSync('taskset', ['-a', '-p', '-c', who === 'engine' ? '1' : '0', String(pid)], { stdio: 'ignore' });
  if (who === 'other') execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
}

export interface EngineProcess {
  url: string;
  child: ChildProcess;
  /** CPU seconds (user + system) the engine process has used. */
  cpuSeconds(): number;
  /** The same, split: user (our code, V8, GC) and system (the kernel: sockets, SQLite I/O). */
  cpu(): { user: number; system: number };
  /** Peak resident set size since the start (VmHWM), MB. */
  peakRssMb(): number;

  stop(): Promise<void>;
}

/** An engine process on `dir`; its stderr is this process's, or goes to the file `stderrFile`. */
export async function startEngineProcess(dir: string, hosts: { id: string; address: string; roots: string[] }[], extra: string[] = [], stderrFile?: string): Promise<EngineProcess> {
  const port = await freePort();
  const conf = path.join(dir, 'engine.conf');
  writeFileSync(conf, [
    '[engine]', `listen = 127.0.0.1:${port}`, `data_dir = ${path.join(dir, 'engine')}`, 'log_level = warn', `log_file = ${path.join(dir, 'engine.log')}`,
    ...extra,
    '[tokens]', `bench = admin:${TOKEN}`,
    ...hosts.flatMap((h) => [`[host:${h.id}]`, `address = ${h.address}`, `storage_roots = ${h.roots.join(',')}`]),
    '[auto_reset]', 'clone = off', 'import = off', 'pool = off', '',
  ].join('\n'));
  // BENCH_PROFILE=DIR: a CPU profile of the engine; BENCH_NODE_FLAGS: more node flags (e.g. --trace-gc, printed to stderr).
  const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const flags = process.env.BENCH_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const errFd = stderrFile ? openSync(stderrFile, 'w') : undefined;
  const child = spawn(process.execPath, [...profile, ...flags, path.join(ROOT, 'dist/engine-plugin/main.js'), '--config', conf], { stdio: ['ignore', flags.length ? 2 : 'ignore', errFd ?? 'inherit'] });
  if (errFd !== undefined) closeSync(errFd);
  pin(child.pid!, 'engine');
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (await fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const clk = 100; // USER_HZ on Linux
  const cpu = () => {
    const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { user: Number(f[11]) / clk, system: Number(f[12]) / clk };
  };
  return {
    url,
    child,
    cpu,
    cpuSeconds() {
      const c = cpu();
      return c.user + c.system;
    },
    peakRssMb() {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    },

    stop: () => stopChild(child),
  };
}

/** Jiffies of the whole machine from /proc/stat: total, and stolen by the hypervisor. */
export function machineTicks(): { total: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { total: f.reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
}

export async function api<T = any>(url: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: T; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/api/v1${p}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, ms: performance.now() - t0 };
}

export async function waitJob(url: string, id: string, onPoll?: (job: any) => void): Promise<any> {
  for (;;) {
    const { body } = await api(url, 'GET', `/jobs/${id}`);
    onPoll?.(body);
    if ((FINAL_JOB_STATES as readonly string[]).includes(body.state)) return body;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface AgentProcess {
  hostId: string;
  address: string;
  /** CPU seconds (user + system) of the agent process itself, not of the tools it runs. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** CPU seconds (user + system) a process has used itself (its children not counted). */
export function processCpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ
}

/** SIGTERM, then the child's exit (at once if it has exited already). */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

function agentProcess(hostId: string, address: string, child: ChildProcess): AgentProcess {
  return { hostId, address, cpuSeconds: () => processCpuSeconds(child.pid!), stop: () => stopChild(child) };
}

/** A host agent as its own process (node dist/host-agent/main.js --config FILE). */
export async function startAgentProcess(dir: string, hostId: string, keys: Record<string, string>): Promise<AgentProcess> {
  const port = await freePort();
  const conf = path.join(dir, `${hostId}.conf`);
  writeFileSync(conf, ['[agent]', `host_id = ${hostId}`, `listen = 127.0.0.1:${port}`, 'plaintext = true', ...Object.entries(keys).map(([k, v]) => `${k} = ${v}`), ''].join('\n'));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/host-agent/main.js'), '--config', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  pin(child.pid!, 'other');
  const address = `127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => { sock.end(); resolve(true); });
      sock.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return agentProcess(hostId, address, child);
}

/** A STAND-IN agent as its own process (bench/fakeAgentProcess.ts: jobs are timers of `jobMs`). */
export async function startStandInAgentProcess(hostId: string, root: string, maxJobs: number, jobMs: number): Promise<AgentProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/bench/fakeAgentProcess.js'), hostId, root, String(maxJobs), String(jobMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  pin(child.pid!, 'other');
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the stand-in agent ${hostId} exited with ${code}`)));
  });
  return agentProcess(hostId, address, child);
}
