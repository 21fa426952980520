// The agent as its own process: killed with SIGKILL in the middle of a run, restarted,
// it reports the job failed/INTERRUPTED, frees the lease and removes the overlay; the
// disk is byte-identical. Killed during the commit, its successor completes the commit.
// And its transport: mutual TLS is demanded.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AgentClient } from '../../../shared/agentClient';
import { startAgent } from '../../../host-agent/agent';
import { Journal } from '../../../host-agent/jobs/journal';
import { LeaseManager } from '../../../host-agent/storage/leases';
import { createLogger } from '../../../shared/logger';
import { agentConfig, clientFor, fixtureDisk, makeAgentDirs, spawnAgentProcess, until } from '../../helpers/agentHarness';
import { sha256File } from '../../helpers/disk';
import { makeTestPki } from '../../helpers/tls';
import { toWireParams } from '../../../shared/wireParams';

jest.setTimeout(300_000);

describe('agent killed with SIGKILL mid-run', () => {
  it('restarts with the job failed/INTERRUPTED, its lease free, its overlay gone and the disk untouched', async () => {
    const dirs = makeAgentDirs('agent-crash-');
    const pki = await makeTestPki(path.join(dirs.base, 'pki'));
    const disk = await fixtureDisk(dirs, 'crash.qcow2');
    const before = await sha256File(disk);
    const config = agentConfig(dirs, pki, { leaseTimeoutSec: 30 });

    const first = await spawnAgentProcess(config, dirs.base);
    let client = clientFor(first.address, pki);
    await client.startSysprep({ jobId: 'crash-1', disks: [{ path: disk }], spec: { only: ['machine-id', 'ssh-hostkeys', 'logfiles'], ...toWireParams({ hostname: 'x1' }) } });
    // Kill once virt-sysprep is really working on the overlay (first operation performed).
    for await (const e of client.watchJob('crash-1')) if (e.type === 'operation') break;
    expect(readdirSync(path.join(dirs.dataDir, 'overlays'))).toEqual(['crash-1']);
    const leases = new LeaseManager('test-host', 30_000, createLogger({ service: 't', silent: true }));
    expect((await leases.holder({ real: disk, root: dirs.root }))?.jobId).toBe('crash-1');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    client.close();
    // Its virt-sysprep (own process group) outlives it, working on an overlay nobody commits.
    const orphanAlive = () => require('node:child_process').spawnSync('pgrep', ['-f', 'crash-1/disk0']).stdout.length > 0;
    expect(orphanAlive()).toBe(true);
    expect(await sha256File(disk)).toBe(before);

    const second = await spawnAgentProcess(config, dirs.base);
    client = clientFor(second.address, pki);
    try {
      // The restarted agent stops the orphan.
      await until(() => !orphanAlive(), 10_000, 'orphan tool to be stopped');
      const job = await client.getJob('crash-1');
      expect(job.state).toBe('FAILED');
      expect(job.error!.code).toBe('INTERRUPTED');
      expect(readdirSync(path.join(dirs.dataDir, 'overlays'))).toEqual([]);
      expect(await leases.holder({ real: disk, root: dirs.root })).toBeNull();
      expect(await sha256File(disk)).toBe(before);
      const events = [];
      for await (const e of client.watchJob('crash-1')) events.push(e);
      expect(events.at(-1)).toMatchObject({ type: 'state', state: 'FAILED' });

      // The disk is usable again at once: the freed lease is taken by a new job.
      const retry = await client.startSysprep({ jobId: 'crash-2', disks: [{ path: disk }], spec: { only: ['machine-id'] }, dryRun: true });
      expect(retry.state).not.toBe('FAILED');
      await client.cancelJob('crash-2');
    } finally {
      client.close();
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
    expect(await sha256File(disk)).toBe(before);
  });
});

describe('agent killed during the commit', () => {
  it("completes the half-done commit on restart: the disk ends whole and the job succeeded", async () => {
    const dirs = makeAgentDirs('agent-commit-');
    const pki = await makeTestPki(path.join(dirs.base, 'pki'));
    // What a SIGKILL in the middle of `qemu-img commit` leaves: the job RUNNING in the
    // journal, its overlay with the run's changes, the marker, and a disk half written.
    const disk = path.join(dirs.root, 'half.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '1M']);
    const overlayDir = path.join(dirs.dataDir, 'overlays', 'commit-1');
    mkdirSync(overlayDir, { recursive: true });
    const overlay = path.join(overlayDir, 'disk0.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', disk, '-F', 'qcow2', overlay]);
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 128k', overlay]);
    execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 0 32k', disk]); // the part committed before the kill
    writeFileSync(path.join(overlayDir, 'COMMITTING'), JSON.stringify([overlay]));
    const now = new Date().toISOString();
    new Journal(path.join(dirs.dataDir, 'jobs')).saveJob({
      id: 'commit-1', state: 'RUNNING', disks: [{ path: disk, format: 'qcow2' }], operations: ['machine-id'], mode: 'SAFE', dryRun: false,
      createdAt: now, startedAt: now, endedAt: '', progress: { done: 1, total: 1, current: 'machine-id', phase: 'committing', phaseSince: now }, steps: [{ operation: 'machine-id', state: 'running', at: now }],
      error: null, logPath: path.join(dirs.logDir, 'commit-1.log'), requestedBy: 'test', labels: {}, hostId: 'test-host', paramKeys: [], timeoutSec: 60,
    });
    const whole = () => spawnSync('qemu-io', ['-f', 'qcow2', '-r', '-c', 'read -P 0xab 0 128k', disk], { encoding: 'utf8' }).stdout;
    expect(whole()).toMatch(/Pattern verification failed/); // half written

    const agent = await startAgent(agentConfig(dirs, pki));
    const client = clientFor(agent.address, pki);
    try {
      expect(whole()).not.toMatch(/Pattern verification failed/);
      expect(whole()).toMatch(/read 131072\/131072 bytes/);
      const job = await client.getJob('commit-1');
      expect(job.state).toBe('SUCCEEDED');
      expect(existsSync(overlayDir)).toBe(false);
    } finally {
      client.close();
      await agent.stop();
    }
  });
});

describe('agent transport', () => {
  const dirs = makeAgentDirs('agent-tls-');

  it('refuses a client without a certificate and a client of another CA', async () => {
    const pki = await makeTestPki(path.join(dirs.base, 'pki'));
    const agent = await startAgent(agentConfig(dirs, pki));
    const address = agent.address.replace('127.0.0.1', 'localhost');
    try {
      const ok = clientFor(agent.address, pki);
      expect((await ok.getCapabilities()).hostId).toBe('test-host');
      ok.close();

      const rogue = new AgentClient({ address, tls: { caFile: pki.caCert, certFile: pki.rogueClientCert, keyFile: pki.rogueClientKey }, deadlineMs: 5_000 });
      await expect(rogue.getCapabilities()).rejects.toMatchObject({ kind: 'unavailable' });
      rogue.close();

      // A plaintext client gets nowhere with a TLS server.
      const plain = new AgentClient({ address: agent.address, tls: null, deadlineMs: 5_000 });
      await expect(plain.getCapabilities()).rejects.toMatchObject({ kind: 'unavailable' });
      plain.close();
    } finally {
      await agent.stop();
    }
  });

  it('serves plaintext only on loopback', async () => {
    const pki = await makeTestPki(path.join(dirs.base, 'pki2'));
    await expect(startAgent(agentConfig(dirs, pki, { plaintext: true, listen: '0.0.0.0:0' }))).rejects.toThrow(/plaintext gRPC is allowed only on loopback/);
    const agent = await startAgent(agentConfig(dirs, pki, { plaintext: true, listen: '127.0.0.1:0' }));
    const client = new AgentClient({ address: agent.address, tls: null });
    try {
      expect((await client.listOperations()).operations.length).toBeGreaterThan(10);
    } finally {
      client.close();
      await agent.stop();
    }
    expect(existsSync(dirs.dataDir)).toBe(true);
  });
});
