// Harness of the oVirt contract tests: the oVirt API test server (HTTPS with the test
// PKI, so the engine CA check is real), a FAKE host agent (timers, no virt-sysprep)
// standing for oVirt host-01, and a real engine with inventory = ovirt.
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EngineConfig } from '../../../engine-plugin/config';
import { RunningEngine, startEngine } from '../../../engine-plugin/engine';
import { OvirtConfig, ovirtWithDefaults } from '../../../engine-plugin/ovirt/OvirtConfig';
import { IDS, OvirtApiServer, PASSWORDS } from '../../helpers/ovirtApiServer';
import { makeTestPki, TestPki } from '../../helpers/tls';
import { FakeAgent } from '../engine/fakeAgent';
import { FINAL_JOB_STATES } from '../../../shared/jobStates';
import { testDatabase } from '../../helpers/testDatabase';

export const ADMIN_TOKEN = 'ovirt-unit-admin-token-0123456789';

export interface OvirtHarness {
  dir: string;
  mountRoot: string;
  pki: TestPki;
  ovirt: OvirtApiServer;
  agent: FakeAgent;
  engine: RunningEngine;
  ovirtConfig: OvirtConfig;
  api<T = any>(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  waitJob(id: string, timeoutMs?: number): Promise<any>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

let pki: Promise<TestPki> | undefined;
const sharedPki = (dir: string) => (pki ??= makeTestPki(dir));

export async function ovirtHarness(opts: { config?: Partial<EngineConfig>; ovirt?: Partial<OvirtConfig>; agentMs?: number } = {}): Promise<OvirtHarness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ovirt-unit-'));
  const database = testDatabase(); // kept across restarts
  const mountRoot = path.join(dir, 'rhev', 'data-center', 'mnt');
  mkdirSync(mountRoot, { recursive: true });
  const tls = await sharedPki(path.join(os.tmpdir(), `ovirt-unit-pki-${process.pid}`));
  const ovirt = new OvirtApiServer();
  ovirt.hosts = ovirt.hosts.filter((h) => h.id === IDS.host1);
  await ovirt.start({ cert: tls.serverCert, key: tls.serverKey });
  const agent = new FakeAgent({ hostId: IDS.host1, storageRoots: [mountRoot], jobMs: opts.agentMs ?? 60 });
  await agent.start();
  const ovirtConfig = ovirtWithDefaults({
    url: ovirt.url,
    caFile: tls.caCert,
    username: 'admin@internal',
    password: PASSWORDS['admin@internal'],
    agentPort: Number(agent.address.split(':')[1]),
    mountRoot,
    eventsIntervalSec: 3600, // the tests tick the watcher themselves
    guardPollSec: 1,
    cacheTtlSec: 1,
    ...opts.ovirt,
  });
  const config = (): Partial<EngineConfig> => ({
    listen: '127.0.0.1:0',
    dataDir: path.join(dir, 'engine'),
    database,
    logLevel: 'error',
    tokens: [{ name: 'admin', role: 'admin', token: ADMIN_TOKEN }],
    inventory: 'ovirt',
    ovirt: ovirtConfig,
    healthIntervalSec: 60,
    autoReset: { clone: { enabled: true, profile: 'clone-reset' }, import: { enabled: true, profile: 'clone-reset' }, pool: { enabled: true, profile: 'clone-reset' } },
    ...opts.config,
  });
  const h: OvirtHarness = {
    dir,
    mountRoot,
    pki: tls,
    ovirt,
    agent,
    ovirtConfig,
    engine: await startEngine(config()),
    async api(method, url, body, token = ADMIN_TOKEN) {
      const res = await fetch(`${h.engine.url}/api/v1${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async waitJob(id, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await h.api('GET', `/jobs/${id}`);
        if ((FINAL_JOB_STATES as readonly string[]).includes(body.state)) return body;
        if (Date.now() > end) throw new Error(`job ${id} still ${body.state} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async restart() {
      await h.engine.stop();
      h.engine = await startEngine(config());
    },
    async close() {
      await h.engine.stop();
      await agent.stop();
      await ovirt.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Polls until `check` holds (oVirt calls happen asynchronously to the engine's jobs). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
