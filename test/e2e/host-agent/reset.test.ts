// A real identity reset through the agent: real gRPC over mutual TLS, the real
// virt-sysprep on a real qcow2 guest, the result checked inside the disk.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import winston from 'winston';
import { Writable } from 'node:stream';
import { startAgent } from '../../../host-agent/agent';
import { AgentClient } from '../../../shared/agentClient';
import type { JobEvent } from '../../../shared/wireTypes';
import { agentConfig, clientFor, fixtureDisk, makeAgentDirs, until } from '../../helpers/agentHarness';
import { guestRead, sha256File } from '../../helpers/disk';
import { GOLDEN_MACHINE_ID, GOLDEN_ROOT_HASH, IDENTITY_PATHS } from '../../helpers/guestImage';
import { makeTestPki } from '../../helpers/tls';
import { toWireParams } from '../../../shared/wireParams';

jest.setTimeout(300_000);

const PASSWORD = 'Very-Secret-Root-Pw-7f3a';
const RESET_OPS = ['ssh-hostkeys', 'machine-id', 'bash-history', 'logfiles', 'dhcp-client-state', 'udev-persistent-net'];

describe('reset job through the agent (real virt-sysprep)', () => {
  const dirs = makeAgentDirs('agent-reset-');
  let client: AgentClient;
  let stop: () => Promise<void>;
  let agentLog = '';
  let disk: string;
  const psSnapshots: string[] = [];

  beforeAll(async () => {
    const pki = await makeTestPki(path.join(dirs.base, 'pki'));
    disk = await fixtureDisk(dirs, 'vm1.qcow2');
    const sink = new Writable({ write(chunk, _enc, cb) { agentLog += chunk; cb(); } });
    const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: sink })] });
    const agent = await startAgent(agentConfig(dirs, pki), logger);
    client = clientFor(agent.address, pki);
    stop = async () => { client.close(); await agent.stop(); };
  });
  afterAll(() => stop());

  it('serves capabilities and the installed operations over mutual TLS', async () => {
    const caps = await client.getCapabilities();
    expect(caps.virtSysprepVersion).toMatch(/^1\.\d+/);
    expect(caps.qemuImgVersion).toMatch(/^\d+\./);
    expect(caps.hypervisor).toBe('tcg');
    expect(caps.storageRoots[0].path).toBe(dirs.root);
    expect(Number(caps.storageRoots[0].freeBytes)).toBeGreaterThan(0);
    const ops = await client.listOperations();
    expect(ops.operations.map((o) => o.name)).toEqual(expect.arrayContaining(RESET_OPS));
    expect(ops.customizations.find((c) => c.key === 'rootPassword')?.secret).toBe(true);
  });

  it('resets the identity, sets hostname and root password, streams one event per operation', async () => {
    const before = await sha256File(disk);
    // The engine's way: one WatchJobs stream, subscribed before the job exists.
    const many = new AbortController();
    const manyEvents: JobEvent[] = [];
    let watching!: () => void;
    const subscribed = new Promise<void>((r) => (watching = r));
    const manyDone = (async () => {
      for await (const batch of client.watchJobs([], many.signal, 20)) {
        for (const e of batch.events) {
          if (e.type === 'watching') watching();
          else manyEvents.push(e);
        }
        if (manyEvents.some((e) => e.type === 'state' && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(e.state))) break;
      }
    })();
    await subscribed;
    const request = {
      jobId: 'reset-1',
      disks: [{ path: disk }],
      spec: { only: RESET_OPS, ...toWireParams({ hostname: 'clone-one', rootPassword: { value: PASSWORD } }) },
      requestedBy: 'alice@internal',
      labels: { vm: 'clone-one' },
    };
    const job = await client.startSysprep(request);
    expect(job.id).toBe('reset-1');
    expect(job.operations).toEqual([...RESET_OPS, 'customize'].sort());

    // Idempotent: the same job id returns the same job and starts nothing new.
    const again = await client.startSysprep(request);
    expect(again.id).toBe(job.id);
    expect(again.createdAt).toBe(job.createdAt);
    expect((await client.listJobs()).length).toBe(1);

    // Watch live, and sample the process list while virt-sysprep runs.
    const sampler = setInterval(() => psSnapshots.push(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })), 200);
    const events: JobEvent[] = [];
    try {
      for await (const e of client.watchJob(job.id)) events.push(e);
    } finally {
      clearInterval(sampler);
    }
    const final = await client.getJob(job.id);
    expect(final.state).toBe('SUCCEEDED');
    expect(final.requestedBy).toBe('alice@internal');
    expect(final.progress).toEqual({ done: 7, total: 7, current: '', phase: '', phaseSince: '' }); // a final job is in no phase

    const operationEvents = events.filter((e) => e.type === 'operation').map((e) => e.operation);
    // One event per operation, in the order virt-sysprep performs them (customize last).
    expect([...operationEvents].sort()).toEqual(job.operations);
    expect(operationEvents.at(-1)).toBe('customize');
    expect(final.steps.map((s) => s.operation)).toEqual(operationEvents);
    expect(final.steps.every((s) => s.state === 'done')).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0].state).toBe('PENDING');
    expect(events.at(-1)!.state).toBe('SUCCEEDED');
    await manyDone;
    expect(manyEvents).toEqual(events);

    // A late watcher gets the whole history replayed, then the stream ends.
    const replay: JobEvent[] = [];
    for await (const e of client.watchJob(job.id)) replay.push(e);
    expect(replay).toEqual(events);
    const tail: JobEvent[] = [];
    for await (const e of client.watchJob(job.id, events.length - 2)) tail.push(e);
    expect(tail.map((e) => e.seq)).toEqual([events.length - 1, events.length]);
    // WatchJobs with cursors: the marker, the events after each cursor, "missing" for
    // a job the agent does not have; then it stays open for live events.
    const cursorAbort = new AbortController();
    const replayed: JobEvent[] = [];
    for await (const batch of client.watchJobs([{ jobId: job.id, afterSeq: events.length - 2 }, { jobId: 'no-such-job', afterSeq: 0 }], cursorAbort.signal)) {
      replayed.push(...batch.events);
      if (replayed.length === 4) cursorAbort.abort();
    }
    expect(replayed.map((e) => [e.type, e.jobId, e.seq])).toEqual([
      ['watching', '', 0], ...events.slice(-2).map((e) => [e.type, job.id, e.seq]), ['missing', 'no-such-job', 0],
    ]);

    // The disk changed, exactly as asked.
    expect(await sha256File(disk)).not.toBe(before);
    const files = await guestRead(disk, [
      '/etc/hostname',
      '/etc/machine-id',
      '/etc/shadow',
      ...IDENTITY_PATHS.sshHostKeys,
      ...IDENTITY_PATHS.bashHistory,
      ...IDENTITY_PATHS.logs,
      ...IDENTITY_PATHS.dhcpLeases,
      ...IDENTITY_PATHS.udevPersistentNet,
      '/etc/passwd',
    ]);
    expect(files['/etc/hostname']!.trim()).toBe('clone-one');
    const machineId = files['/etc/machine-id']!.trim();
    expect(machineId).toMatch(/^[0-9a-f]{32}$/);
    expect(machineId).not.toBe(GOLDEN_MACHINE_ID);
    const rootHash = files['/etc/shadow']!.split('\n').find((l) => l.startsWith('root:'))!.split(':')[1];
    expect(rootHash).toMatch(/^\$(1|5|6|y|gy|2b)\$/); // a crypt(3) hash (Debian 12 writes yescrypt, $y$)
    expect(rootHash).not.toBe(GOLDEN_ROOT_HASH);
    // The hash is of the password we sent (libcrypt through python3's crypt module).
    const rehash = execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.stdin.read(), sys.argv[1]))', rootHash], { input: PASSWORD, encoding: 'utf8' }).trim();
    expect(rehash).toBe(rootHash);
    for (const p of [...IDENTITY_PATHS.sshHostKeys, ...IDENTITY_PATHS.bashHistory, ...IDENTITY_PATHS.logs, ...IDENTITY_PATHS.dhcpLeases, ...IDENTITY_PATHS.udevPersistentNet]) {
      expect([p, files[p]]).toEqual([p, null]);
    }
    expect(files['/etc/passwd']).toContain('student:'); // not asked to remove users
  });

  it('never shows the password in the process list, the logs or the journal', () => {
    expect(psSnapshots.length).toBeGreaterThan(10);
    expect(psSnapshots.some((s) => s.includes('virt-sysprep') && s.includes('--root-password file:'))).toBe(true);
    for (const snap of psSnapshots) expect(snap).not.toContain(PASSWORD);
    expect(agentLog).toContain('reset-1');
    expect(agentLog).not.toContain(PASSWORD);
    const toolLog = readFileSync(path.join(dirs.logDir, 'reset-1.log'), 'utf8');
    expect(toolLog).toContain('Performing "ssh-hostkeys"');
    expect(toolLog).not.toContain(PASSWORD);
    for (const f of readdirSync(path.join(dirs.dataDir, 'jobs'))) {
      expect(readFileSync(path.join(dirs.dataDir, 'jobs', f), 'utf8')).not.toContain(PASSWORD);
    }
    // The job's private files are gone (only the agent's owner record stays in its
    // secrets_dir) and no overlay is left behind.
    expect(readdirSync(dirs.secretsDir).filter((f) => f !== '.owner')).toEqual([]);
    expect(readdirSync(path.join(dirs.dataDir, 'overlays'))).toEqual([]);
    expect(statSync(dirs.secretsDir).mode & 0o777).toBe(0o700);
  });

  it('a second run of the same job id after the end is still the same job', async () => {
    const job = await client.startSysprep({ jobId: 'reset-1', disks: [{ path: disk }], spec: { only: ['logfiles'] } });
    expect(job.state).toBe('SUCCEEDED');
    expect(job.operations).toContain('ssh-hostkeys');
    await until(async () => (await client.listJobs()).length === 1, 1000, 'one job');
  });
});
