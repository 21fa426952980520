// AgentStarter over real gRPC to a FAKE agent: starts multiplexed on one stream, typed
// refusals, a stream that breaks with starts in flight, a new stream after an agent
// restart, and unary calls for an agent that predates the stream.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AgentClient } from '../../../shared/agentClient';
import { SysprepError } from '../../../shared/errors';
import { AgentStarter } from '../../../engine-plugin/dispatch/AgentStarter';
import { FakeAgent, FakeAgentOptions } from './fakeAgent';

describe('AgentStarter (one start stream per agent)', () => {
  let dir: string;
  let disk: string;
  const open: { agent: FakeAgent; client: AgentClient; starter: AgentStarter }[] = [];
  const reborns: FakeAgent[] = [];
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'starter-'));
    disk = path.join(dir, 'a.qcow2');
    writeFileSync(disk, '');
  });
  afterEach(async () => {
    for (const o of open.splice(0)) {
      o.starter.close();
      o.client.close();
      await o.agent.stop();
    }
    for (const a of reborns.splice(0)) await a.stop();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function setup(opts: Partial<FakeAgentOptions> = {}, deadlineMs = 5000) {
    const agent = new FakeAgent({ hostId: 'h1', storageRoots: [dir], jobMs: 20, ...opts });
    await agent.start();
    const client = new AgentClient({ address: agent.address, tls: null });
    const starter = new AgentStarter(client, { hostId: 'h1', deadlineMs });
    open.push({ agent, client, starter });
    return { agent, client, starter };
  }
  const request = (jobId: string, p = disk) => ({ jobId, disks: [{ path: p, format: 'qcow2' }], spec: { only: ['machine-id'] } });
  const refusal = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: SysprepError) => e);

  it('starts many jobs over one stream, each answered with its own job', async () => {
    const { agent, starter } = await setup({ maxJobs: 10 });
    const jobs = await Promise.all(Array.from({ length: 20 }, (_, i) => starter.start(request(`j${i}`))));
    expect(jobs.map((j) => j.id)).toEqual(Array.from({ length: 20 }, (_, i) => `j${i}`));
    expect(agent.startVia).toEqual(Array(20).fill('stream'));
    // Idempotent like StartSysprep: the same id answers the existing job.
    expect((await starter.start(request('j3'))).id).toBe('j3');
    expect(agent.jobs.size).toBe(20);
  });

  it("rejects a refused start with the agent's typed error", async () => {
    const { starter } = await setup({ refuseMissingDisks: true });
    const e = await refusal(starter.start(request('gone', path.join(dir, 'missing.qcow2'))));
    expect(e).toBeInstanceOf(SysprepError);
    expect(e).toMatchObject({ kind: 'not-found', code: 'DISK_NOT_FOUND' });
  });

  it('fails starts in flight as unavailable when the agent goes away, and opens a new stream after it is back', async () => {
    const { agent, starter } = await setup({ startReplyDelayMs: 2000 });
    const inFlight = starter.start(request('lost'));
    await new Promise((r) => setTimeout(r, 100));
    const port = Number(agent.address.split(':')[1]);
    agent.kill();
    expect(await refusal(inFlight)).toMatchObject({ kind: 'unavailable', code: 'AGENT_UNAVAILABLE' });
    const reborn = new FakeAgent({ hostId: 'h1', storageRoots: [dir], jobMs: 20 });
    await reborn.start(port);
    reborns.push(reborn);
    // The channel may still be in its reconnect back-off (CI: ECONNRESET from the last try):
    // such a start fails AGENT_UNAVAILABLE, as the dispatcher expects, until it is back.
    let started: { id: string } | undefined;
    for (const end = Date.now() + 10_000; !started; ) {
      started = await starter.start(request('after')).catch((err) => {
        if (err?.code !== 'AGENT_UNAVAILABLE' || Date.now() > end) throw err;
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 200));
      });
    }
    expect(started.id).toBe('after');
    expect(reborn.startVia).toEqual(['stream']);
  });

  it('fails a start the agent does not answer within the deadline as unavailable', async () => {
    const { starter } = await setup({ startReplyDelayMs: 5000 }, 300);
    const t0 = Date.now();
    expect(await refusal(starter.start(request('slow')))).toMatchObject({ kind: 'unavailable', code: 'AGENT_UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('uses unary StartSysprep calls with an agent that predates the stream', async () => {
    const { agent, starter } = await setup({ noStartStream: true });
    expect((await starter.start(request('old-1'))).id).toBe('old-1');
    expect((await starter.start(request('old-2'))).id).toBe('old-2');
    expect(agent.startVia).toEqual(['unary', 'unary']);
  });
});
