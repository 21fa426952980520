// A real stack for the engine's end-to-end tests: host agent(s) in this process with
// mutual TLS (test PKI), the real virt-sysprep under TCG, and the engine in this process
// (or as its own process, for the kill test) over real HTTP.
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineConfig } from '../../../engine-plugin/config';
import { RunningEngine, startEngine } from '../../../engine-plugin/engine';
import { startAgent } from '../../../host-agent/agent';
import type { AgentConfig } from '../../../host-agent/config';
import { makeTestPki, TestPki } from '../../helpers/tls';
import { FINAL_JOB_STATES } from '../../../shared/jobStates';

export const ADMIN = 'e2e-admin-token-0123456789';
export const OPERATOR = 'e2e-operator-token-0123456789';
export const VIEWER = 'e2e-viewer-token-0123456789';
export const TOKENS = [
  { name: 'admin', role: 'admin' as const, token: ADMIN },
  { name: 'op', role: 'operator' as const, token: OPERATOR },
  { name: 'view', role: 'viewer' as const, token: VIEWER },
];

const OFF = { enabled: false, profile: 'clone-reset' };
const ON = { enabled: true, profile: 'clone-reset' };

export interface Stack {
  dir: string;
  storage: string;
  pki: TestPki;
  agent: Awaited<ReturnType<typeof startAgent>>;
  engine?: RunningEngine;
  url: string;
  engineConfig: Partial<EngineConfig>;
  api<T = any>(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T }>;
  waitJob(id: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export async function startStack(opts: { autoResetClone?: boolean; maxJobs?: number; engine?: boolean; agent?: Partial<AgentConfig> } = {}): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-e2e-'));
  const storage = path.join(dir, 'storage');
  mkdirSync(storage);
  const pki = await makeTestPki(path.join(dir, 'pki'));
  const agent = await startAgent({
    hostId: 'e2e-host',
    listen: '127.0.0.1:0',
    dataDir: path.join(dir, 'agent'),
    logDir: path.join(dir, 'agent-logs'),
    secretsDir: path.join(dir, 'agent-secrets'),
    storageRoots: [storage],
    maxJobs: opts.maxJobs ?? 2,
    hypervisor: 'tcg',
    logLevel: 'warn',
    tlsCa: pki.caCert,
    tlsCert: pki.serverCert,
    tlsKey: pki.serverKey,
    ...opts.agent,
  });
  const engineConfig: Partial<EngineConfig> = {
    listen: '127.0.0.1:0',
    dataDir: path.join(dir, 'engine'),
    logLevel: 'warn',
    tokens: TOKENS,
    agentTls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey },
    hosts: [{ id: agent.hostId, address: agent.address, storageRoots: [storage] }],
    autoReset: { clone: opts.autoResetClone ? ON : OFF, import: OFF, pool: OFF },
  };
  const s = {
    dir,
    storage,
    pki,
    agent,
    url: '',
    engineConfig,
    async close() {
      await s.engine?.stop();
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  } as Stack;
  Object.assign(s, restApi(s));
  if (opts.engine !== false) {
    s.engine = await startEngine(engineConfig);
    s.url = s.engine.url;
  }
  return s;
}

/** REST calls to the engine at `target.url`, read at each call (a restarted engine may move). */
export function restApi(target: { url: string }): Pick<Stack, 'api' | 'waitJob'> {
  const api: Stack['api'] = async (method, url, body, token = ADMIN) => {
    const res = await fetch(`${target.url}/api/v1${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    api,
    async waitJob(id, timeoutMs = 20 * 60_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await api('GET', `/jobs/${id}`);
        if ((FINAL_JOB_STATES as readonly string[]).includes(body?.state)) return body;
        if (Date.now() > end) throw new Error(`job ${id} not finished after ${timeoutMs} ms: ${JSON.stringify(body)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    },
  };
}

/** What engine.conf needs to know of a stack (its agent may be in this process or its own). */
export type StackFiles = Pick<Stack, 'dir' | 'storage' | 'pki' | 'engineConfig'> & { agent: { hostId: string; address: string } };

/** engine.conf text for running the engine as its own process (the kill tests). */
export function engineConfFile(s: StackFiles, port: number): string {
  const file = path.join(s.dir, 'engine.conf');
  writeFileSync(file, [
    '[engine]', `listen = 127.0.0.1:${port}`, `data_dir = ${s.engineConfig.dataDir}`, 'log_level = warn', `log_file = ${path.join(s.dir, 'engine.log')}`,
    '[tls]', `ca = ${s.pki.caCert}`, `cert = ${s.pki.clientCert}`, `key = ${s.pki.clientKey}`,
    '[tokens]', ...TOKENS.map((t) => `${t.name} = ${t.role}:${t.token}`),
    `[host:${s.agent.hostId}]`, `address = ${s.agent.address}`, `storage_roots = ${s.storage}`,
    '[auto_reset]', 'clone = off', 'import = off', 'pool = off', '',
  ].join('\n'));
  return file;
}

/** The built engine (npm run build), for running it as its own process. */
export const ENGINE_MAIN = path.resolve(__dirname, '../../../dist/engine-plugin/main.js');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The engine as its own process on `conf` (engineConfFile), once it answers at `url`; `env`: its environment. */
export async function startEngineProcess(conf: string, url: string, env: NodeJS.ProcessEnv = process.env): Promise<ChildProcess> {
  const child = spawn(process.execPath, [ENGINE_MAIN, '--config', conf], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`engine exited ${child.exitCode}`);
    if (await fetch(`${url}/api/v1/health`).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('engine did not start');
}
