// Starts a real host agent for a test: temp storage root with fixture disks, its own
// data and log dirs, its own PKI, mutual TLS, and a real gRPC client with the client
// certificate. `spawnAgentProcess` runs the agent as its own OS process (for crash tests).
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAgent, RunningAgent } from '../../host-agent/agent';
import type { AgentConfig } from '../../host-agent/config';
import { AgentClient } from '../../shared/agentClient';
import { SysprepError } from '../../shared/errors';
import type { Job } from '../../shared/wireTypes';
import { copyGuestImage } from './guestImage';
import { makeTestPki, TestPki } from './tls';

export { REPO_ROOT as REPO } from './guestImage';
import { REPO_ROOT as REPO } from './guestImage';

export interface AgentDirs {
  base: string;
  root: string;
  dataDir: string;
  logDir: string;
  secretsDir: string;
}

export function makeAgentDirs(prefix = 'agent-'): AgentDirs {
  const base = mkdtempSync(path.join(tmpdir(), prefix));
  const dirs = { base, root: path.join(base, 'images'), dataDir: path.join(base, 'data'), logDir: path.join(base, 'log'), secretsDir: path.join(base, 'secrets') };
  require('node:fs').mkdirSync(dirs.root, { recursive: true });
  return dirs;
}

export async function fixtureDisk(dirs: AgentDirs, name: string): Promise<string> {
  const p = path.join(dirs.root, name);
  await copyGuestImage(p);
  return p;
}

export function agentConfig(dirs: AgentDirs, pki: TestPki, extra: Partial<AgentConfig> = {}): Partial<AgentConfig> {
  return {
    hostId: 'test-host',
    listen: '127.0.0.1:0',
    dataDir: dirs.dataDir,
    logDir: dirs.logDir,
    secretsDir: dirs.secretsDir,
    storageRoots: [dirs.root],
    hypervisor: 'tcg',
    leaseTimeoutSec: 4,
    tlsCa: pki.caCert,
    tlsCert: pki.serverCert,
    tlsKey: pki.serverKey,
    logLevel: 'warn',
    ...extra,
  };
}

export function clientFor(address: string, pki: TestPki): AgentClient {
  // The server certificate is for "localhost": connect by that name.
  return new AgentClient({
    address: address.replace(/^127\.0\.0\.1/, 'localhost'),
    tls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey },
  });
}

export interface TestAgent {
  dirs: AgentDirs;
  pki: TestPki;
  agent: RunningAgent;
  client: AgentClient;
  stop(): Promise<void>;
}

export async function startTestAgent(extra: Partial<AgentConfig> = {}, dirs = makeAgentDirs()): Promise<TestAgent> {
  const pki = await makeTestPki(path.join(dirs.base, 'pki'));
  const agent = await startAgent(agentConfig(dirs, pki, extra));
  const client = clientFor(agent.address, pki);
  return {
    dirs,
    pki,
    agent,
    client,
    async stop() {
      client.close();
      await agent.stop();
    },
  };
}

/**
 * Runs `node dist/host-agent/main.js` with a config file; resolves once it listens.
 * `env` is added to the process's environment; `output()` is all it wrote so far
 * (stdout and stderr: its own log).
 */
export async function spawnAgentProcess(
  config: Partial<AgentConfig>,
  dir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; address: string; output(): string }> {
  const keyOf: Record<string, string> = require('../../host-agent/config').AGENT_KEYS;
  const lines = Object.entries(config).map(([k, v]) => `${(keyOf as any)[k].key} = ${Array.isArray(v) ? v.join(',') : v}`);
  const file = path.join(dir, 'agent.conf');
  writeFileSync(file, `[agent]\n${lines.join('\n')}\n`);
  const child = spawn(process.execPath, [path.join(REPO, 'dist/host-agent/main.js'), '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OVIRT_SYSPREP_LOG_LEVEL: 'warn', ...env },
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (c) => (stderr += c));
  child.stdout!.on('data', (c) => (stdout += c));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(JSON.parse(line).listening);
    });
    child.on('exit', (code) => reject(new Error(`agent exited with ${code}: ${stderr}`)));
  });
  return { child, address, output: () => stdout + stderr };
}

/** Waits until the job reaches a final state (via WatchJob) and returns it. */
export async function waitForJob(client: AgentClient, jobId: string): Promise<Job> {
  for await (const _ of client.watchJob(jobId)) void _;
  return client.getJob(jobId);
}

/** Resolves when `predicate` holds, polling every 100 ms (no fixed sleeps). */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 120_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The typed error of a rejected call (a call that succeeds fails the test). */
export async function refusal(call: Promise<unknown>): Promise<SysprepError> {
  const err = await call.then(() => undefined, (e) => e);
  if (!(err instanceof SysprepError)) throw new Error(`expected a refusal, got ${JSON.stringify(err)}`);
  return err;
}
