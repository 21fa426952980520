// The engine and one agent as their own OS processes, for the engine's fault tests: the
// agent on a fixed address (so a restarted agent comes back where the engine looks), the
// engine on engine.conf (test/e2e/engine/stack.ts) so it can be killed and started again
// on the same database.
import { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { AgentConfig } from '../../host-agent/config';
import { makeAgentDirs } from '../helpers/agentHarness';
import { engineConfFile, freePort, restApi, Stack, startEngineProcess } from '../e2e/engine/stack';
import { FaultAgent, LeftoverPlaces, startFaultAgent } from './faultKit';

export interface FaultStack extends Pick<Stack, 'api' | 'waitJob'> {
  agent: FaultAgent;
  storage: string;
  engineDir: string;
  engine: ChildProcess;
  url: string;
  /** Where secrets must not be: the agent's dirs and the engine's database and log. */
  places(): LeftoverPlaces;
  signalEngine(sig: NodeJS.Signals): void;
  /** SIGKILL of the engine; resolves once it is gone. */
  killEngine(): Promise<void>;
  startEngine(): Promise<void>;
  stop(): Promise<void>;
}

export async function startFaultStack(prefix: string, agentExtra: Partial<AgentConfig> = {}): Promise<FaultStack> {
  const dirs = makeAgentDirs(`fault-${prefix}-`);
  const agent = await startFaultAgent({ prefix, dirs, extra: { hostId: `${prefix}-host`, maxJobs: 1, ...agentExtra } });
  const port = await freePort();
  const engineDir = path.join(dirs.base, 'engine');
  const conf = engineConfFile({ dir: dirs.base, storage: dirs.root, pki: agent.pki, engineConfig: { dataDir: engineDir }, agent: { hostId: `${prefix}-host`, address: agent.address } }, port);
  const target = { url: `http://127.0.0.1:${port}` };
  const s: FaultStack = {
    ...restApi(target),
    agent,
    storage: dirs.root,
    engineDir,
    url: target.url,
    engine: await startEngineProcess(conf, target.url),
    places: () => agent.places([engineDir, path.join(dirs.base, 'engine.log')]),
    signalEngine: (sig) => void s.engine.kill(sig),
    async killEngine() {
      if (s.engine.exitCode !== null || s.engine.signalCode !== null) return;
      const gone = new Promise((r) => s.engine.once('exit', r));
      s.engine.kill('SIGCONT');
      s.engine.kill('SIGKILL');
      await gone;
    },
    async startEngine() {
      s.engine = await startEngineProcess(conf, target.url);
    },
    async stop() {
      await s.killEngine();
      await agent.stop();
    },
  };
  return s;
}

/** Imports a disk of the storage root as a VM of the embedded inventory; returns its id. */
export async function importVm(s: FaultStack, name: string, disk: string): Promise<string> {
  const r = await s.api('POST', '/vms', { name, disks: [{ path: disk }] });
  if (r.status !== 201) throw new Error(`import of ${name} failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.vm.id;
}

/** POST /vms/{id}/sysprep; returns the engine's job id. */
export async function sysprepVm(s: FaultStack, vmId: string, params: Record<string, unknown>): Promise<string> {
  const r = await s.api('POST', `/vms/${vmId}/sysprep`, { operations: { only: ['machine-id'] }, params });
  if (r.status !== 202) throw new Error(`sysprep of ${vmId} refused: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.job.id;
}

/** Polls the engine's job until `pred` holds. */
export async function untilEngineJob(s: FaultStack, id: string, pred: (job: any) => boolean, timeoutMs = 300_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await s.api('GET', `/jobs/${id}`).catch(() => ({ body: undefined }));
    if (body && pred(body)) return body;
    if (Date.now() > end) throw new Error(`engine job ${id}: condition not met after ${timeoutMs} ms: ${JSON.stringify(body)?.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
