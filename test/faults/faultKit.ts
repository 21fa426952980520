// The fault-injection suite's kit. Every fault test ends with the same four verdicts:
//  1. the disk: byte-identical to before (sha256), or fully done (the requested
//     hostname read back from the guest), never anything else;
//  2. the job record: the state and error code the agent (and the engine) report
//     match what happened to the disk;
//  3. leftovers: no lease, overlay, private job directory, and none of the secret
//     strings sent as passwords in the data, log or secrets dirs (or the engine's);
//  4. the next job on the same disk succeeds.
// `fault()` collects them as soft checks, appends one JSON line per fault to the results
// file that test/faults/faultReporter.js prints as a table, then fails the test if any
// check failed. Faults are injected with the agent's own signals (events, files that
// appear) or with wrapper executables (`wrapTool`) named in the agent's config.
import { ChildProcess, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AgentConfig } from '../../host-agent/config';
import { LEASE_DIR } from '../../host-agent/storage/leases';
import { AgentClient } from '../../shared/agentClient';
import type { Job } from '../../shared/wireTypes';
import { agentConfig, AgentDirs, clientFor, fixtureDisk, makeAgentDirs, REPO, spawnAgentProcess, until, waitForJob } from '../helpers/agentHarness';
import { guestRead, sha256File } from '../helpers/disk';
import { makeTestPki, TestPki } from '../helpers/tls';
import { toWireParams } from '../../shared/wireParams';

/** One JSON line per fault; faultReporter.js truncates it at the start of a run and prints it at the end. */
export const RESULTS_FILE = process.env.FAULT_RESULTS_FILE ?? path.join(REPO, '.cache', 'faults', 'results.jsonl');

export interface FaultRow {
  fault: string;
  outcome: string;
  disk: string;
  job: string;
  leftovers: string;
  seconds: number;
}

/** The soft checks of one fault; every failed check is a problem reported in the row. */
export class Verdict {
  readonly problems: string[] = [];
  /** What held but is worth knowing (a known limitation the fault ran into): shown in the row. */
  readonly notes: string[] = [];
  disk = '-';
  job = '-';
  leftovers = '-';

  check(ok: boolean, problem: string): boolean {
    if (!ok) this.problems.push(problem);
    return ok;
  }
}

const firstLine = (err: unknown) => String(err instanceof Error ? err.message : err).split('\n')[0].slice(0, 160);

/** A fault test: runs `body`, records its row, then fails on any problem (the row says which). */
export function fault(name: string, body: (v: Verdict) => Promise<void>, timeoutMs = 20 * 60_000): void {
  it(name, async () => {
    const v = new Verdict();
    const started = Date.now();
    let error: unknown;
    try {
      await body(v);
    } catch (err) {
      error = err;
    }
    const outcome = error ? `ERROR: ${firstLine(error)}` : v.problems.length ? `FAILED: ${v.problems.join('; ')}` : v.notes.length ? `ok (${v.notes.join('; ')})` : 'ok';
    const row: FaultRow = { fault: name, outcome, disk: v.disk, job: v.job, leftovers: v.leftovers, seconds: Math.round((Date.now() - started) / 1000) };
    mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    appendFileSync(RESULTS_FILE, JSON.stringify(row) + '\n');
    if (error) throw error;
    expect(v.problems).toEqual([]);
  }, timeoutMs);
}

// ---------------------------------------------------------------------------------
// Requests: a hostname that proves a job was done, and secrets to look for afterwards.

export interface FaultRequest {
  hostname: string;
  params: Record<string, unknown>;
  secrets: string[];
}

/** Params with a unique hostname and two passwords (root and the guest's `student`). */
export function faultRequest(tag: string): FaultRequest {
  const salt = randomBytes(4).toString('hex');
  const secrets = [`Root-${tag}-${salt}-pw`, `Student-${tag}-${salt}-pw`];
  const hostname = `${tag}-${salt}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return {
    hostname,
    secrets,
    params: { hostname, rootPassword: { value: secrets[0] }, users: [{ name: 'student', password: { value: secrets[1] } }] },
  };
}

/** The operations of every fault job: one cheap operation plus customize (hostname, passwords). */
export const FAULT_OPS = ['machine-id'];

// ---------------------------------------------------------------------------------
// Verdicts on the disk, the job record and what is left behind.

export type DiskOutcome = 'identical' | 'done' | string;

/** What happened to the disk: identical bytes, the requested hostname in the guest, or neither. */
export async function diskOutcome(disk: string, before: string, hostname: string): Promise<DiskOutcome> {
  if ((await sha256File(disk)) === before) return 'identical';
  let files: Record<string, string | null>;
  try {
    files = await guestRead(disk, ['/etc/hostname']);
  } catch (err) {
    return `UNREADABLE (${firstLine(err)})`;
  }
  const found = files['/etc/hostname']?.trim();
  return found === hostname ? 'done' : `CHANGED, hostname ${JSON.stringify(found)}`;
}

/** Checks the disk against what the job's final state says: done if it succeeded, identical otherwise. */
export async function checkDisk(v: Verdict, disk: string, before: string, hostname: string, want: 'identical' | 'done'): Promise<DiskOutcome> {
  const got = await diskOutcome(disk, before, hostname);
  v.disk = got;
  v.check(got === want, `disk ${path.basename(disk)} is ${got}, expected ${want}`);
  return got;
}

/** Checks a job record's state and error code; the row shows them as STATE/CODE. */
export function checkJob(v: Verdict, job: { state: string; error?: { code: string } | null }, state: string, code?: string | RegExp, who = ''): void {
  const shown = `${who}${job.state}${job.error?.code ? `/${job.error.code}` : ''}`;
  v.job = v.job === '-' ? shown : `${v.job}, ${shown}`;
  v.check(job.state === state, `${who}job is ${job.state}, expected ${state}`);
  if (code !== undefined) {
    const ok = typeof code === 'string' ? job.error?.code === code : code.test(job.error?.code ?? '');
    v.check(ok, `${who}error code is ${job.error?.code ?? 'none'}, expected ${code}`);
  }
}

export interface LeftoverPlaces {
  roots: string[];
  dataDir: string;
  logDir: string;
  /** The agent's secrets_dir, when its config has one. */
  secretsDir?: string;
  /** More places to grep for the secrets (engine data dir, engine log). */
  more?: string[];
}

function walk(dir: string, out: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Leases, overlays, private job dirs left, and files holding any of `secrets`. */
export function findLeftovers(at: LeftoverPlaces, secrets: string[]): string[] {
  const found: string[] = [];
  for (const root of at.roots) {
    const leaseDir = path.join(root, LEASE_DIR);
    if (existsSync(leaseDir) && statSync(leaseDir).isDirectory()) found.push(...readdirSync(leaseDir).map((n) => `lease ${n}`));
  }
  const listed = (dir: string, what: string) => (existsSync(dir) ? readdirSync(dir).map((n) => `${what} ${n}`) : []);
  found.push(...listed(path.join(at.dataDir, 'overlays'), 'overlay'), ...listed(path.join(at.dataDir, 'private'), 'private dir'));
  // The secrets dir keeps only the agent's `.owner` record between jobs.
  if (at.secretsDir) found.push(...listed(at.secretsDir, 'secrets dir').filter((e) => e !== 'secrets dir .owner'));
  const places = [at.dataDir, at.logDir, ...(at.secretsDir ? [at.secretsDir] : []), ...(at.more ?? [])];
  const needles = secrets.map((s) => Buffer.from(s));
  for (const file of places.flatMap((p) => (existsSync(p) && statSync(p).isFile() ? [p] : walk(p)))) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue;
    }
    if (needles.some((n) => bytes.includes(n))) found.push(`secret in ${file}`);
  }
  return found;
}

export function checkLeftovers(v: Verdict, at: LeftoverPlaces, secrets: string[]): void {
  const found = findLeftovers(at, secrets);
  v.leftovers = found.length ? found.join(', ') : 'none';
  v.check(found.length === 0, `left behind: ${found.join(', ')}`);
}

// ---------------------------------------------------------------------------------
// Wrapper tools: the real executable, except at one armed step.

export interface ToolWrapper {
  /** The wrapper executable (config key virt_sysprep or qemu_img). */
  bin: string;
  /** The next run of `step` waits (before it, or after the real tool ran) until release(). */
  pause(step: string, when?: 'before' | 'after'): void;
  /** Every run of `step` fails (exit 1) without running the real tool. */
  fail(step: string, on?: boolean): void;
  /** Resolves with the wrapper's pid once a paused step is reached. */
  reached(step: string, when?: 'before' | 'after', timeoutMs?: number): Promise<number>;
  release(step: string, when?: 'before' | 'after'): void;
}

function which(tool: string): string {
  return execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
}

/**
 * A shell wrapper of `tool` in `dir` controlled by files in `<dir>/<tool>.ctl/`. Its step
 * is the first argument (qemu-img: create, commit, info...), or `run` for a virt-sysprep
 * run. A paused wrapper writes its pid to `at-<point>` and polls for `go-<point>`.
 */
export function wrapTool(dir: string, tool: 'qemu-img' | 'virt-sysprep'): ToolWrapper {
  const real = which(tool);
  const ctl = path.join(dir, `${tool}.ctl`);
  mkdirSync(ctl, { recursive: true });
  const bin = path.join(dir, `fault-${tool}`);
  const stepOf = tool === 'virt-sysprep' ? 'case "$1" in --version|--list-operations) exec "$REAL" "$@";; esac\nstep=run' : 'step=$1';
  writeFileSync(bin, `#!/bin/sh
# FAULT WRAPPER of ${tool} (fault-injection suite): runs the real tool, except at a step
# armed in $CTL: fail-STEP fails it, pause-STEP / pause-after-STEP hold it once.
REAL=${real}
CTL=${ctl}
${stepOf}
hold() {
  mv "$CTL/pause-$1" "$CTL/held-$1.$$" 2>/dev/null || return 0
  echo $$ > "$CTL/at-$1.tmp" && mv "$CTL/at-$1.tmp" "$CTL/at-$1"
  n=0
  while [ ! -e "$CTL/go-$1" ] && [ $n -lt 9000 ]; do sleep 0.1; n=$((n + 1)); done
}
if [ -e "$CTL/fail-$step" ]; then echo "${tool}: injected failure of $step" >&2; exit 1; fi
hold "$step"
if [ -e "$CTL/pause-after-$step" ]; then "$REAL" "$@"; rc=$?; hold "after-$step"; exit $rc; fi
exec "$REAL" "$@"
`, { mode: 0o755 });
  const point = (step: string, when: 'before' | 'after' = 'before') => (when === 'after' ? `after-${step}` : step);
  return {
    bin,
    pause: (step, when) => writeFileSync(path.join(ctl, `pause-${point(step, when)}`), ''),
    fail: (step, on = true) => (on ? writeFileSync(path.join(ctl, `fail-${step}`), '') : rmSync(path.join(ctl, `fail-${step}`), { force: true })),
    async reached(step, when, timeoutMs = 900_000) {
      const at = path.join(ctl, `at-${point(step, when)}`);
      await until(() => existsSync(at), timeoutMs, `${tool} to reach ${point(step, when)}`);
      return Number(readFileSync(at, 'utf8'));
    },
    release: (step, when) => writeFileSync(path.join(ctl, `go-${point(step, when)}`), ''),
  };
}

/** SIGKILL of a process group; a group already gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* gone */
  }
}

/** Whether a process whose command line contains `text` runs (a tool working on a job's overlay). */
export function processRunning(text: string): boolean {
  return spawnSync('pgrep', ['-f', text]).stdout.length > 0;
}

// ---------------------------------------------------------------------------------
// The agent as its own OS process, on a fixed address so a restart comes back there.

export interface FaultAgent {
  dirs: AgentDirs;
  pki: TestPki;
  config: Partial<AgentConfig>;
  address: string;
  child: ChildProcess;
  client: AgentClient;
  places(more?: string[]): LeftoverPlaces;
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same config and address (after kill()). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const agents = new Set<FaultAgent>();

/** A fresh free port on 127.0.0.1. */
export function freePortSync(): number {
  const out = execFileSync(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"], { encoding: 'utf8' });
  return Number(out.trim());
}

export async function startFaultAgent(opts: { prefix: string; extra?: Partial<AgentConfig>; env?: NodeJS.ProcessEnv; dirs?: AgentDirs; pki?: TestPki }): Promise<FaultAgent> {
  const dirs = opts.dirs ?? makeAgentDirs(`fault-${opts.prefix}-`);
  const pki = opts.pki ?? (await makeTestPki(path.join(dirs.base, 'pki')));
  const config = agentConfig(dirs, pki, { listen: `127.0.0.1:${freePortSync()}`, toolTrace: false, ...opts.extra });
  const confDir = path.join(dirs.base, `conf-${opts.prefix}`);
  mkdirSync(confDir, { recursive: true });
  const launch = async () => {
    const { child, address } = await spawnAgentProcess(config, confDir, opts.env);
    return { child, address, client: clientFor(address, pki) };
  };
  // Ends the process (continued first, should it be stopped); SIGKILL if SIGTERM is not enough.
  const end = async (sig: NodeJS.Signals) => {
    a.client.close();
    if (a.child.exitCode !== null || a.child.signalCode !== null) return;
    const exited = new Promise((r) => a.child.once('exit', r));
    a.child.kill('SIGCONT');
    a.child.kill(sig);
    const t = setTimeout(() => a.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
  };
  const a: FaultAgent = {
    dirs,
    pki,
    config,
    ...(await launch()),
    places: (more) => ({ roots: config.storageRoots!, dataDir: config.dataDir!, logDir: config.logDir!, secretsDir: config.secretsDir, more }),
    signal: (sig) => void a.child.kill(sig),
    kill: () => end('SIGKILL'),
    async restart() {
      await a.kill();
      Object.assign(a, await launch());
    },
    async stop() {
      await end('SIGTERM');
      agents.delete(a);
    },
  };
  agents.add(a);
  return a;
}

/** afterAll of every fault file: stops the agents it started (never another process). */
export async function stopFaultAgents(): Promise<void> {
  await Promise.all([...agents].map((a) => a.stop()));
}

/** A fixture disk (copy of the cached guest image) and its sha256. */
export async function faultDisk(dirs: AgentDirs, name: string): Promise<{ disk: string; before: string }> {
  const disk = await fixtureDisk(dirs, name);
  return { disk, before: await sha256File(disk) };
}

/** Starts a job on the agent and waits until it is past `event` ('operation': virt-sysprep is working). */
export async function startJob(client: AgentClient, jobId: string, disk: string, req: FaultRequest, extra: { timeoutSeconds?: number } = {}): Promise<Job> {
  return client.startSysprep({ jobId, disks: [{ path: disk }], spec: { only: FAULT_OPS, ...toWireParams(req.params) }, ...extra });
}

/** Resolves at the job's first `Performing "op"` event (virt-sysprep is really working). */
export async function untilOperation(client: AgentClient, jobId: string): Promise<void> {
  for await (const e of client.watchJob(jobId)) {
    if (e.type === 'operation') return;
    if (e.type === 'state' && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.state)) throw new Error(`${jobId} ended ${e.state} before any operation`);
  }
}

/** The next job on the same disk must succeed (the disk is usable again); returns its secrets. */
export async function checkNextJob(v: Verdict, client: AgentClient, jobId: string, disk: string): Promise<string[]> {
  const next = faultRequest('next');
  await startJob(client, jobId, disk, next);
  const job = await waitForJob(client, jobId);
  v.check(job.state === 'SUCCEEDED', `next job ${jobId} is ${job.state}${job.error ? ` (${job.error.code}: ${job.error.message.slice(0, 120)})` : ''}`);
  return next.secrets;
}

export { until, waitForJob };

/**
 * The end of an agent fault: the job's final record (`state`, `code`), the disk as that
 * state says (done only if SUCCEEDED), the next job on the disk, nothing left behind.
 */
export async function checkAftermath(v: Verdict, a: FaultAgent, f: { jobId: string; disk: string; before: string; req: FaultRequest; state: string; code?: string }): Promise<void> {
  checkJob(v, await waitForJob(a.client, f.jobId), f.state, f.code);
  await checkDisk(v, f.disk, f.before, f.req.hostname, f.state === 'SUCCEEDED' ? 'done' : 'identical');
  const next = await checkNextJob(v, a.client, `${f.jobId}-next`, f.disk);
  checkLeftovers(v, a.places(), [...f.req.secrets, ...next]);
}

/** The disk must match the job's final state: done if it succeeded, identical otherwise. */
export async function checkTruth(v: Verdict, job: { state: string }, disk: string, before: string, hostname: string): Promise<void> {
  await checkDisk(v, disk, before, hostname, job.state === 'SUCCEEDED' || job.state === 'succeeded' ? 'done' : 'identical');
}
