// What the oVirt e2e files share: the oVirt API test server (HTTPS, the test PKI) with
// host-01 only, the REAL host agent on a temp mount root laid out as vdsm's, and an
// engine with inventory = ovirt on it; stop() removes everything the stack made.
import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunningEngine, startEngine } from '../../../engine-plugin/engine';
import { OvirtConfig, ovirtWithDefaults } from '../../../engine-plugin/ovirt/OvirtConfig';
import { startAgent } from '../../../host-agent/agent';
import { IDS, OvirtApiServer, PASSWORDS } from '../../helpers/ovirtApiServer';
import { makeTestPki } from '../../helpers/tls';

export interface OvirtStack {
  dir: string;
  /** Where the agent sees the storage domains (vdsm: /rhev/data-center/mnt). */
  mountRoot: string;
  ovirt: OvirtApiServer;
  agent: Awaited<ReturnType<typeof startAgent>>;
  engine: RunningEngine;
  stop(): Promise<void>;
}

/**
 * The stack, the engine's automatic reset on for clones and imports (clone-reset).
 * `before` runs once the mount root exists and before the test server starts (lay out
 * volumes, set hooks); `ovirt` overrides the [ovirt] settings (e.g. eventsIntervalSec).
 */
export async function startOvirtStack(opts: { prefix: string; adminToken: string; ovirt?: Partial<OvirtConfig>; before?: (s: { ovirt: OvirtApiServer; mountRoot: string }) => Promise<void> | void }): Promise<OvirtStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), opts.prefix));
  const mountRoot = path.join(dir, 'rhev', 'data-center', 'mnt');
  mkdirSync(mountRoot, { recursive: true });
  const ovirt = new OvirtApiServer();
  await opts.before?.({ ovirt, mountRoot });
  const pki = await makeTestPki(path.join(dir, 'pki'));
  await ovirt.start({ cert: pki.serverCert, key: pki.serverKey });
  ovirt.hosts = ovirt.hosts.filter((h) => h.id === IDS.host1); // address 127.0.0.1
  const agent = await startAgent({
    hostId: IDS.host1,
    listen: '127.0.0.1:0',
    dataDir: path.join(dir, 'agent'),
    logDir: path.join(dir, 'agent-logs'),
    secretsDir: path.join(dir, 'agent-secrets'),
    storageRoots: [mountRoot],
    maxJobs: 1,
    hypervisor: 'tcg',
    tlsCa: pki.caCert,
    tlsCert: pki.serverCert,
    tlsKey: pki.serverKey,
  });
  const engine = await startEngine({
    listen: '127.0.0.1:0',
    dataDir: path.join(dir, 'engine'),
    logLevel: 'warn',
    tokens: [{ name: 'admin', role: 'admin', token: opts.adminToken }],
    agentTls: { caFile: pki.caCert, certFile: pki.clientCert, keyFile: pki.clientKey },
    inventory: 'ovirt',
    ovirt: ovirtWithDefaults({
      url: ovirt.url,
      caFile: pki.caCert,
      username: 'admin@internal',
      password: PASSWORDS['admin@internal'],
      agentPort: Number(agent.address.split(':').pop()),
      mountRoot,
      eventsIntervalSec: 1,
      guardPollSec: 2,
      ...opts.ovirt,
    }),
    autoReset: { clone: { enabled: true, profile: 'clone-reset' }, import: { enabled: true, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } },
  });
  return {
    dir,
    mountRoot,
    ovirt,
    agent,
    engine,
    async stop() {
      await engine.stop();
      await agent.stop();
      await ovirt.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
