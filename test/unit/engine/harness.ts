// Test harness: a real engine (real HTTP, real SQLite, real gRPC) in front of FAKE
// agents (test/unit/engine/fakeAgent.ts), on a temporary data dir.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineConfig, TokenConfig } from '../../../engine-plugin/config';
import { RunningEngine, startEngine } from '../../../engine-plugin/engine';
import { FakeAgent, FakeAgentOptions } from './fakeAgent';
import { FINAL_JOB_STATES } from '../../../shared/jobStates';
import { testDatabase } from '../../helpers/testDatabase';

export const TOKENS: Record<'admin' | 'operator' | 'viewer', TokenConfig> = {
  admin: { name: 'alice', role: 'admin', token: 'admin-token-0123456789' },
  operator: { name: 'oscar', role: 'operator', token: 'operator-token-0123456789' },
  viewer: { name: 'victor', role: 'viewer', token: 'viewer-token-0123456789' },
};

export interface Harness {
  dir: string;
  storage: string;
  engine: RunningEngine;
  agents: FakeAgent[];
  api<T = any>(method: string, url: string, body?: unknown, role?: keyof typeof TOKENS | null): Promise<{ status: number; body: T }>;
  /** A tiny qcow2 image under the shared storage root. */
  image(name: string): string;
  /** Stops the engine, runs `whileStopped` (if given), and starts it again with `config` on top. */
  restart(config?: Partial<EngineConfig>, whileStopped?: () => void | Promise<void>): Promise<void>;
  waitJob(id: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

/** `fetch`: how api() reaches the engine (an https engine needs one that trusts its CA). */
export async function harness(opts: { agents?: Partial<FakeAgentOptions>[]; config?: Partial<EngineConfig>; fetch?: typeof fetch } = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-unit-'));
  const database = testDatabase(); // kept across restarts
  const storage = path.join(dir, 'storage');
  mkdirSync(storage);
  const agents = (opts.agents ?? [{}]).map((a, i) => new FakeAgent({ hostId: `host${i + 1}`, storageRoots: [storage], ...a }));
  for (const a of agents) await a.start();
  const config = (): Partial<EngineConfig> => ({
    listen: '127.0.0.1:0',
    dataDir: path.join(dir, 'engine'),
    database,
    logLevel: 'error',
    tokens: Object.values(TOKENS),
    hosts: agents.map((a) => ({ id: a.opts.hostId, address: a.address, storageRoots: a.opts.storageRoots })),
    autoReset: { clone: { enabled: true, profile: 'clone-reset' }, import: { enabled: true, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } },
    healthIntervalSec: 60,
    agentLostTimeoutSec: 5,
    ...opts.config,
  });
  const h: Harness = {
    dir,
    storage,
    agents,
    engine: await startEngine(config()),
    async api(method, url, body, role = 'admin') {
      const res = await (opts.fetch ?? fetch)(`${h.engine.url}/api/v1${url}`, {
        method,
        headers: { ...(role ? { authorization: `Bearer ${TOKENS[role].token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    image(name) {
      const file = path.join(storage, name);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '16M']);
      return file;
    },
    async restart(extra, whileStopped) {
      await h.engine.stop();
      await whileStopped?.();
      h.engine = await startEngine({ ...config(), ...extra });
    },
    async waitJob(id, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await h.api('GET', `/jobs/${id}`);
        if ((FINAL_JOB_STATES as readonly string[]).includes(body.state)) return body;
        if (Date.now() > end) throw new Error(`job ${id} still ${body.state} after ${timeoutMs} ms: ${JSON.stringify(body)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      await h.engine.stop();
      for (const a of agents) await a.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}
