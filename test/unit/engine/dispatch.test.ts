// Dispatch, bulk jobs, automatic reset and restart over real HTTP and real gRPC to FAKE
// agents (timers instead of virt-sysprep): the orchestration rules of design.md section 6.
import { FakeAgent } from './fakeAgent';
import { harness, Harness } from './harness';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

async function pool(h: Harness, name: string, size: number): Promise<{ id: string; vmIds: string[] }> {
  const tpl = await h.api('POST', '/templates', { name: `${name}-tpl`, disks: [{ path: h.image(`${name}-tpl.qcow2`) }] });
  expect(tpl.status).toBe(201);
  const p = await h.api('POST', '/pools', { name, template: `${name}-tpl`, size });
  expect(p.status).toBe(201);
  return p.body.pool;
}

describe('dispatcher and bulk jobs', () => {
  describe('a pool over two agents that share its storage', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await harness({ agents: [{ maxJobs: 2, jobMs: 80 }, { maxJobs: 2, jobMs: 80 }] });
    });
    afterAll(() => h.close());

    it('gives every VM its own hostname from the pattern and uses both agents within their limits', async () => {
      const p = await pool(h, 'lab', 12);
      const r = await h.api('POST', `/pools/${p.id}/sysprep`, { operations: { only: ['machine-id'] }, params: { hostname: '${pool}-${index}' } }, 'operator');
      expect(r.status).toBe(202);
      expect(r.body.job.children).toHaveLength(12);
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('succeeded');
      expect(job.progress).toMatchObject({ done: 12, total: 12 });
      const all = h.agents.flatMap((a) => [...a.jobs.values()]);
      expect(all.map((j) => j.params.hostname).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `lab-${i + 1}`).sort());
      expect(new Set(all.map((j) => j.labels.target)).size).toBe(12);
      for (const a of h.agents) {
        expect(a.jobs.size).toBeGreaterThan(0);
        expect(a.maxRunning).toBeLessThanOrEqual(2);
      }
      // The agent's job id is the engine's child id.
      expect(all.map((j) => j.id).sort()).toEqual(job.children.map((c: { id: string }) => c.id).sort());
      // Every start came over the agent's one start stream, none as a call of its own.
      expect(h.agents.flatMap((a) => a.startVia)).toEqual(Array(12).fill('stream'));
    });

    it('ends partial when one VM fails, with that child error and the others done', async () => {
      const p = await pool(h, 'part', 4);
      const bad = (await h.api('GET', `/vms/${p.vmIds[2]}`)).body;
      for (const a of h.agents) a.opts.failDisks = new Map([[bad.disks[0].path, 'DISK_NOT_FOUND']]);
      const r = await h.api('POST', `/pools/${p.id}/sysprep`, { profile: 'full-defaults' });
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('partial');
      expect(job.error.code).toBe('SOME_VMS_FAILED');
      const failed = job.children.filter((c: { state: string }) => c.state === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ target: { id: bad.id }, error: { code: 'DISK_NOT_FOUND' } });
      expect(job.children.filter((c: { state: string }) => c.state === 'succeeded')).toHaveLength(3);
    });

    it('fails a VM that is not down at once, as a child, and runs the rest', async () => {
      const p = await pool(h, 'mixed', 3);
      await h.api('POST', `/vms/${p.vmIds[0]}/start`);
      const r = await h.api('POST', '/sysprep', { vms: p.vmIds, profile: 'full-defaults' });
      expect(r.status).toBe(202);
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('partial');
      expect(job.children[0]).toMatchObject({ state: 'failed', error: { code: 'VM_NOT_DOWN' } });
    });

    it('never runs one VM twice at once: a second request is refused with 409 VM_BUSY', async () => {
      const vm = (await h.api('POST', '/vms', { name: 'solo', disks: [{ path: h.image('solo.qcow2') }] })).body.vm;
      await h.waitJob((await h.api('GET', `/jobs?vm=${vm.id}`)).body.items[0].id);
      const first = await h.api('POST', `/vms/${vm.id}/sysprep`, { profile: 'full-defaults' });
      const second = await h.api('POST', `/vms/${vm.id}/sysprep`, { profile: 'full-defaults' });
      expect(first.status).toBe(202);
      expect(second.status).toBe(409);
      expect(second.body.error).toMatchObject({ code: 'VM_BUSY', details: { jobId: first.body.job.id } });
      await h.waitJob(first.body.job.id);
    });

    it('cancels a bulk job: queued children are dropped, running ones cancelled on their agent', async () => {
      for (const a of h.agents) { a.opts.jobMs = 2000; a.opts.failDisks = undefined; }
      const p = await pool(h, 'stop', 8);
      const r = await h.api('POST', `/pools/${p.id}/sysprep`, { profile: 'full-defaults' });
      await sleep(300);
      const c = await h.api('POST', `/jobs/${r.body.job.id}/cancel`, undefined, 'operator');
      expect(c.status).toBe(202);
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('cancelled');
      expect(job.children.every((ch: { state: string }) => ch.state === 'cancelled')).toBe(true);
      const onAgents = h.agents.flatMap((a) => [...a.jobs.values()]).filter((j) => p.vmIds.includes(j.labels.target.slice(3)));
      expect(onAgents.length).toBeGreaterThan(0);
      expect(onAgents.every((j) => j.state === 'CANCELLED')).toBe(true);
      expect((await h.api('POST', `/jobs/${r.body.job.id}/cancel`)).body.error.code).toBe('JOB_FINISHED');
      for (const a of h.agents) a.opts.jobMs = 80;
    });
  });

  it('fails over to another agent that sees the same storage when one is unreachable', async () => {
    const h = await harness({ agents: [{ jobMs: 30 }, { jobMs: 30 }] });
    try {
      const p = await pool(h, 'fo', 6);
      h.agents[0].kill();
      const r = await h.api('POST', `/pools/${p.id}/sysprep`, { profile: 'full-defaults' });
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('succeeded');
      expect(h.agents[1].jobs.size).toBe(6);
      expect(job.children.every((c: { host: string }) => c.host === 'host2')).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('starts jobs with unary StartSysprep calls on an agent too old for the start stream', async () => {
    const h = await harness({ agents: [{ jobMs: 20, noStartStream: true }] });
    try {
      const p = await pool(h, 'old', 4);
      const r = await h.api('POST', `/pools/${p.id}/sysprep`, { profile: 'full-defaults' });
      const job = await h.waitJob(r.body.job.id);
      expect(job.state).toBe('succeeded');
      expect(h.agents[0].jobs.size).toBe(4);
      expect(h.agents[0].startVia).toEqual(Array(4).fill('unary'));
    } finally {
      await h.close();
    }
  });

  describe('batch mode (issue 16): queued VMs of one host sent as batches, a batch one slot', () => {
    it('a pool of 10 on an agent with 2 slots and max_batch_size 4: batches of 4, 4, 2, each a BatchRef, at most 2 slots at once', async () => {
      const h = await harness({ agents: [{ maxJobs: 2, jobMs: 120, maxBatchSize: 4 }], config: { batchSize: 8 } });
      try {
        const p = await pool(h, 'bat', 10);
        const r = await h.api('POST', `/pools/${p.id}/sysprep`, { operations: { only: ['machine-id'] }, params: { hostname: '${pool}-${index}' } }, 'operator');
        const job = await h.waitJob(r.body.job.id);
        expect(job.state).toBe('succeeded');
        const jobs = [...h.agents[0].jobs.values()];
        const sizes = new Map<string, number>();
        for (const j of jobs) {
          expect(j.batch).toBeDefined();
          sizes.set(j.batch!.id, (sizes.get(j.batch!.id) ?? 0) + 1);
        }
        // Each batch's size is the number of VMs that carry its id; engine batch_size 8 capped by the agent's 4.
        for (const j of jobs) expect(j.batch!.size).toBe(sizes.get(j.batch!.id));
        expect([...sizes.values()].sort()).toEqual([2, 4, 4]);
        expect(h.agents[0].maxSlots).toBeLessThanOrEqual(2);
        // Per-VM values stay per VM.
        expect(jobs.map((j) => j.params.hostname).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `bat-${i + 1}`).sort());
      } finally {
        await h.close();
      }
    });

    it('no batch: batch_size 1 in the engine, an agent without batch mode, an in-place or dry-run request', async () => {
      const off = await harness({ agents: [{ maxJobs: 2, jobMs: 20, maxBatchSize: 4 }], config: { batchSize: 1 } });
      const old = await harness({ agents: [{ maxJobs: 2, jobMs: 20 }] }); // the default batch_size 8
      try {
        for (const h of [off, old]) {
          const p = await pool(h, 'one', 3);
          const job = await h.waitJob((await h.api('POST', `/pools/${p.id}/sysprep`, { profile: 'full-defaults' })).body.job.id);
          expect(job.state).toBe('succeeded');
          expect([...h.agents[0].jobs.values()].map((j) => j.batch)).toEqual([undefined, undefined, undefined]);
        }
        const p = await pool(old, 'two', 2);
        old.agents[0].opts.maxBatchSize = 4; // seen at the next probe only: the flags below decide
        for (const body of [{ profile: 'full-defaults', mode: 'in_place' }, { profile: 'full-defaults', dryRun: true }]) {
          const job = await old.waitJob((await old.api('POST', `/pools/${p.id}/sysprep`, body)).body.job.id);
          expect(job.state).toBe('succeeded');
        }
        expect([...old.agents[0].jobs.values()].every((j) => j.batch === undefined)).toBe(true);
      } finally {
        await off.close();
        await old.close();
      }
    });
  });

  describe('one event stream per agent (WatchJobs)', () => {
    const off = { enabled: false, profile: 'clone-reset' };
    const manual = { autoReset: { clone: off, import: off, pool: off } };
    it('has a gap in the stream replayed: every operation is recorded', async () => {
      const h = await harness({ agents: [{ jobMs: 120 }], config: manual });
      try {
        await h.api('POST', '/vms', { name: 'gap', disks: [{ path: h.image('gap.qcow2') }] });
        let dropped = 0;
        h.agents[0].dropLive = (e) => e.type === 'operation' && dropped++ === 0;
        const r = await h.api('POST', '/vms/gap/sysprep', { operations: { only: ['bash-history', 'logfiles', 'machine-id'] } });
        const job = await h.waitJob(r.body.job.id);
        expect(dropped).toBeGreaterThan(1);
        expect(job.state).toBe('succeeded');
        expect(job.steps.map((s: { operation: string }) => s.operation)).toEqual(['bash-history', 'logfiles', 'machine-id']);
      } finally {
        await h.close();
      }
    });

    it('dispatches again, under the same id, a job its agent lost (journal gone)', async () => {
      const h = await harness({ agents: [{ jobMs: 400 }], config: manual });
      try {
        await h.api('POST', '/vms', { name: 'lost', disks: [{ path: h.image('lost.qcow2') }] });
        const r = await h.api('POST', '/vms/lost/sysprep', { operations: { only: ['machine-id'] } });
        const id = r.body.job.id;
        await until(async () => (await h.api('GET', `/jobs/${id}`)).body.state === 'running');
        const port = Number(h.agents[0].address.split(':')[1]);
        h.agents[0].kill();
        const reborn = new FakeAgent({ ...h.agents[0].opts, jobMs: 50 });
        h.agents[0] = reborn;
        await reborn.start(port);
        const job = await h.waitJob(id);
        expect(job.state).toBe('succeeded');
        expect(reborn.startCalls).toEqual([id]);
      } finally {
        await h.close();
      }
    });

    it("fails once, with the agent's error, a job whose StartSysprep is refused (its disk is gone)", async () => {
      const h = await harness({ agents: [{ refuseMissingDisks: true }], config: manual });
      try {
        const disk = h.image('vanished.qcow2');
        await h.api('POST', '/vms', { name: 'vanished', disks: [{ path: disk }] });
        require('node:fs').rmSync(disk);
        const r = await h.api('POST', '/vms/vanished/sysprep', { operations: { only: ['machine-id'] } });
        const job = await h.waitJob(r.body.job.id, 5000);
        expect(job.state).toBe('failed');
        expect(job.error.code).toBe('DISK_NOT_FOUND');
        expect(h.agents[0].startCalls).toEqual([r.body.job.id]);
      } finally {
        await h.close();
      }
    });

    it('fails a running job AGENT_LOST when its agent stays out of reach', async () => {
      const h = await harness({ agents: [{ jobMs: 5000 }], config: { ...manual, agentLostTimeoutSec: 1 } });
      try {
        await h.api('POST', '/vms', { name: 'gone', disks: [{ path: h.image('gone.qcow2') }] });
        const r = await h.api('POST', '/vms/gone/sysprep', { operations: { only: ['machine-id'] } });
        await until(async () => (await h.api('GET', `/jobs/${r.body.job.id}`)).body.state === 'running');
        h.agents[0].kill();
        const job = await h.waitJob(r.body.job.id);
        expect(job.state).toBe('failed');
        expect(job.error.code).toBe('AGENT_LOST');
      } finally {
        await h.close();
      }
    });
  });

  it('answers 503 when no agent serves the disks', async () => {
    const off = { enabled: false, profile: 'clone-reset' };
    const h = await harness({ config: { autoReset: { clone: off, import: off, pool: off } } });
    try {
      // Registered while its storage was served; then the host's roots were configured elsewhere.
      expect((await h.api('POST', '/vms', { name: 'stray', disks: [{ path: h.image('stray.qcow2') }] })).status).toBe(201);
      await h.restart({ hosts: h.agents.map((a) => ({ id: a.opts.hostId, address: a.address, storageRoots: [require('node:path').join(h.dir, 'elsewhere')] })) });
      const r = await h.api('POST', '/vms/stray/sysprep', {});
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('NO_AGENT');
    } finally {
      await h.close();
    }
  });

  describe('engine restart in the middle of a bulk job', () => {
    it('reconciles with the agents and finishes, running no VM twice', async () => {
      const h = await harness({ agents: [{ maxJobs: 1, jobMs: 150 }], config: { maxJobsPerHost: 1 } });
      try {
        const p = await pool(h, 'rs', 5);
        const r = await h.api('POST', `/pools/${p.id}/sysprep`, { params: { hostname: 'rs-${index}' } });
        await sleep(220); // one done, one running, three queued
        await h.restart();
        const job = await h.waitJob(r.body.job.id);
        expect(job.state).toBe('succeeded');
        const jobs = [...h.agents[0].jobs.values()];
        expect(jobs).toHaveLength(5);
        expect(new Set(jobs.map((j) => j.labels.target)).size).toBe(5);
        // Each ran once: one start, one end.
        expect(jobs.every((j) => j.startedAt && j.endedAt)).toBe(true);
        expect(h.agents[0].maxRunning).toBe(1);
      } finally {
        await h.close();
      }
    });

    it('fails with SECRETS_LOST the children whose secrets the restart lost, and runs the rest', async () => {
      const h = await harness({ agents: [{ maxJobs: 1, jobMs: 200 }], config: { maxJobsPerHost: 1 } });
      try {
        const p = await pool(h, 'sec', 3);
        const r = await h.api('POST', `/pools/${p.id}/sysprep`, { profile: 'full-defaults', params: { rootPassword: { value: 'pw-123456' } } });
        await sleep(100);
        await h.restart();
        const job = await h.waitJob(r.body.job.id);
        expect(job.state).toBe('partial');
        const codes = job.children.map((c: { state: string; error?: { code: string } }) => c.error?.code ?? c.state);
        expect(codes).toEqual(['succeeded', 'SECRETS_LOST', 'SECRETS_LOST']);
      } finally {
        await h.close();
      }
    });
  });

  describe('automatic reset', () => {
    it('resets a clone with clone-reset and its name as hostname before marking it ready', async () => {
      const h = await harness({ agents: [{ jobMs: 200 }] });
      try {
        await h.api('POST', '/templates', { name: 'gold', disks: [{ path: h.image('gold.qcow2') }] });
        const r = await h.api('POST', '/vms', { name: 'Desk_7', template: 'gold' });
        expect(r.status).toBe(201);
        expect(r.body.vm.status).toBe('image_locked');
        expect(r.body.job).toMatchObject({ kind: 'auto-reset', profile: 'clone-reset', request: { params: { hostname: 'desk-7' } } });
        expect((await h.api('POST', `/vms/${r.body.vm.id}/start`)).body.error.code).toBe('VM_BUSY');
        const job = await h.waitJob(r.body.job.id);
        expect(job.state).toBe('succeeded');
        await sleep(50);
        expect((await h.api('GET', `/vms/${r.body.vm.id}`)).body.status).toBe('down');
        expect(h.agents[0].jobs.get(job.id)!.operations).toEqual(expect.arrayContaining(['machine-id', 'ssh-hostkeys', 'customize']));
      } finally {
        await h.close();
      }
    });

    it("batches a new pool's clone resets, which arrive one request at a time (they gather for 250 ms)", async () => {
      const on = { enabled: true, profile: 'clone-reset' };
      const h = await harness({ agents: [{ maxJobs: 2, jobMs: 150, maxBatchSize: 8 }], config: { batchSize: 8, autoReset: { clone: on, import: on, pool: on } } });
      try {
        await h.api('POST', '/templates', { name: 'gold6', disks: [{ path: h.image('gold6.qcow2') }] });
        const r = await h.api('POST', '/pools', { name: 'p6', template: 'gold6', size: 6 });
        expect(r.status).toBe(201);
        await until(async () => [...h.agents[0].jobs.values()].filter((j) => j.state === 'SUCCEEDED').length === 6);
        const batches = new Set([...h.agents[0].jobs.values()].map((j) => j.batch?.id));
        // 6 resets in fewer appliances than VMs (how many depends on when each request lands).
        expect(batches.size).toBeLessThan(6);
        expect(batches.has(undefined) && batches.size === 1).toBe(false);
      } finally {
        await h.close();
      }
    });

    it('does nothing when the trigger is turned off', async () => {
      const off = { enabled: false, profile: 'clone-reset' };
      const h = await harness({ config: { autoReset: { clone: off, import: off, pool: off } } });
      try {
        const r = await h.api('POST', '/vms', { name: 'imported', disks: [{ path: h.image('imp.qcow2') }] });
        expect(r.body.job).toBeUndefined();
        expect(r.body.vm.status).toBe('down');
      } finally {
        await h.close();
      }
    });
  });

  it('streams a job over SSE: a snapshot, each operation, and the final state', async () => {
    const h = await harness({ agents: [{ jobMs: 300 }] });
    try {
      await h.api('POST', '/vms', { name: 'sse', disks: [{ path: h.image('sse.qcow2') }] });
      await sleep(600);
      const r = await h.api('POST', '/vms/sse/sysprep', { operations: { only: ['machine-id', 'ssh-hostkeys'] } });
      const res = await fetch(`${h.engine.url}/api/v1/jobs/${r.body.job.id}/events?access_token=viewer-token-0123456789`);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const text = await res.text(); // ends after the final state
      const events = [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({ type: m[1], data: JSON.parse(m[2]) }));
      expect(events[0].type).toBe('snapshot');
      expect(events.filter((e) => e.type === 'operation').map((e) => e.data.operation)).toEqual(['machine-id', 'ssh-hostkeys']);
      expect(events.at(-1)).toMatchObject({ type: 'state', data: { state: 'succeeded' } });
    } finally {
      await h.close();
    }
  });
});

describe('bulk job storage', () => {
  it('drops at start the children of a bulk job whose storing never completed', async () => {
    const h = await harness();
    try {
      const store = h.engine.deps.store;
      const base = { kind: 'vm' as const, requestedBy: 't', request: { params: {}, mode: 'safe' as const, dryRun: false }, operations: [], createdAt: new Date().toISOString(), progress: { done: 0, total: 0, current: '' }, steps: [] };
      // The children of a bulk job are stored before it: a crash in between leaves them orphans.
      store.insert([{ ...base, id: 'orphan-child', parentId: 'never-stored', target: { type: 'vm', id: 'x', name: 'x' }, state: 'pending', vmKey: 'vm:x', disks: [] }]);
      const agentCalls = h.agents[0].startCalls.length;
      await h.restart();
      expect(h.engine.deps.store.header('orphan-child')).toBeUndefined();
      expect(h.agents[0].startCalls.length).toBe(agentCalls); // and nothing ran for it
    } finally {
      await h.close();
    }
  });
});
