// The engine is KILLED (SIGKILL, its own process) in the middle of a bulk job and started
// again on the same data dir: the job completes and no VM is syspreped twice (REAL agent,
// REAL virt-sysprep).
import { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { AgentClient } from '../../../shared/agentClient';
import { copyGuestImage } from '../../helpers/guestImage';
import { ENGINE_MAIN as MAIN, engineConfFile, freePort, Stack, startEngineProcess, startStack } from './stack';

jest.setTimeout(25 * 60_000);

describe('engine killed during a bulk job (real virt-sysprep)', () => {
  let s: Stack;
  let engine: ChildProcess | undefined;
  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    s = await startStack({ engine: false, maxJobs: 1 });
  });
  afterAll(async () => {
    engine?.kill('SIGKILL');
    await s?.close();
  });

  it('reconciles with the agent after a restart and finishes without running any VM twice', async () => {
    const port = await freePort();
    s.url = `http://127.0.0.1:${port}`;
    const conf = engineConfFile(s, port);
    engine = await startEngineProcess(conf, s.url);

    const tplDisk = path.join(s.storage, 'gold.qcow2');
    await copyGuestImage(tplDisk);
    await s.api('POST', '/templates', { name: 'gold', disks: [{ path: tplDisk }] });
    const pool = (await s.api('POST', '/pools', { name: 'rs', template: 'gold', size: 3 })).body.pool;
    const r = await s.api('POST', `/pools/${pool.id}/sysprep`, { operations: { only: ['machine-id'] }, params: { hostname: 'rs-${index}' } });
    expect(r.status).toBe(202);

    // Kill while the first VM is being syspreped.
    const end = Date.now() + 120_000;
    while ((await s.api('GET', `/jobs/${r.body.job.id}`)).body.children.every((c: { state: string }) => c.state !== 'running')) {
      if (Date.now() > end) throw new Error('no child started');
      await new Promise((res) => setTimeout(res, 300));
    }
    engine.kill('SIGKILL');
    await new Promise((res) => engine!.once('exit', res));

    engine = await startEngineProcess(conf, s.url);
    const job = await s.waitJob(r.body.job.id);
    expect(job.state).toBe('succeeded');
    expect(job.progress).toMatchObject({ done: 3, total: 3 });

    // The agent ran exactly one job per VM, under the engine's child ids.
    const client = new AgentClient({ address: s.agent.address, tls: { caFile: s.pki.caCert, certFile: s.pki.clientCert, keyFile: s.pki.clientKey } });
    try {
      const agentJobs = await client.listJobs();
      expect(agentJobs.map((j) => j.id).sort()).toEqual(job.children.map((c: { id: string }) => c.id).sort());
      expect(new Set(agentJobs.map((j) => j.labels.target)).size).toBe(3);
      expect(agentJobs.every((j) => j.state === 'SUCCEEDED')).toBe(true);
    } finally {
      client.close();
    }
  });
});
