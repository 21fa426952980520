// The dispatcher's backlog (issue 17, bounded memory): a bulk job's children are stored a
// page at a time and wait in the store; the host queues hold at most a window of them.
// Over real HTTP and real gRPC to a FAKE agent (fakeAgent.ts: timers instead of
// virt-sysprep); the store, the API and the clones' files are real.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { harness, Harness } from './harness';

jest.setTimeout(180_000);

const off = { enabled: false, profile: 'clone-reset' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the backlog', () => {
  let h: Harness;
  let pool: { id: string; vmIds: string[] };
  /** Children of `id` in `state`, from the API. */
  const childCount = async (id: string, state: string) => (await h.api('GET', `/jobs/${id}/children?state=${state}&limit=1`)).body.total as number;

  beforeAll(async () => {
    h = await harness({ agents: [{ maxJobs: 4, jobMs: 2 }], config: { maxJobsPerHost: 4, autoReset: { clone: off, import: off, pool: off } } });
    expect((await h.api('POST', '/templates', { name: 'big-tpl', disks: [{ path: h.image('big-tpl.qcow2') }] })).status).toBe(201);
    const p = await h.api('POST', '/pools', { name: 'big', template: 'big-tpl', size: 700 });
    expect(p.status).toBe(201);
    pool = p.body.pool;
  });
  afterAll(() => h.close());

  it('a pool of 700 VMs on one agent: its queue never holds more than its window (200), the rest waits in the store; every VM runs once', async () => {
    const host = h.agents[0].opts.hostId;
    const r = await h.api('POST', `/pools/${pool.id}/sysprep`, { operations: { only: ['machine-id'] }, params: { hostname: '${pool}-${index}' } });
    expect(r.status).toBe(202);
    let maxQueued = 0;
    let maxWaiting = 0;
    for (let state = 'pending'; state === 'pending' || state === 'running'; ) {
      const load = h.engine.deps.dispatcher.load(host);
      maxQueued = Math.max(maxQueued, load.queued);
      maxWaiting = Math.max(maxWaiting, (await childCount(r.body.job.id, 'pending')) - load.queued - load.running);
      await sleep(10);
      state = (await h.api('GET', `/jobs/${r.body.job.id}?children=0`)).body.state;
    }
    const job = (await h.api('GET', `/jobs/${r.body.job.id}?children=0`)).body;
    expect(job).toMatchObject({ state: 'succeeded', progress: { done: 700, total: 700 } });
    expect(maxQueued).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(200);
    expect(maxWaiting).toBeGreaterThanOrEqual(700 - 200 - 4); // the rest was in the store, not in memory
    const ran = [...h.agents[0].jobs.values()];
    expect(ran).toHaveLength(700);
    expect(new Set(ran.map((j) => j.labels.target)).size).toBe(700);
    // ${index} counts the pool's VMs across the pages it was read in.
    expect(new Set(ran.map((j) => j.params.hostname))).toEqual(new Set(Array.from({ length: 700 }, (_, i) => `big-${i + 1}`)));
  });

  it("a pool's clones after the first are copies of its overlay: byte for byte what qemu-img makes, each on the template", async () => {
    const disks = await Promise.all([0, 1, 699].map(async (i) => (await h.api('GET', `/vms/${pool.vmIds[i]}`)).body.disks[0].path as string));
    const template = (await h.api('GET', '/templates/big-tpl')).body.disks[0].path as string;
    const fresh = path.join(h.dir, 'fresh.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', template, '-F', 'qcow2', fresh]);
    for (const d of disks) {
      expect(readFileSync(d).equals(readFileSync(fresh))).toBe(true);
      expect(JSON.parse(execFileSync('qemu-img', ['info', '-U', '--output=json', d], { encoding: 'utf8' }))).toMatchObject({ format: 'qcow2', 'backing-filename': template, 'backing-filename-format': 'qcow2' });
    }
    expect(new Set(disks).size).toBe(3);
  });

  it('a bulk request refused by a VM of its last page (the OS guard) stores nothing and runs nothing, though its first page was stored', async () => {
    const win = await h.api('POST', '/vms', { name: 'win-last', disks: [{ path: h.image('win-last.qcow2') }], os: 'windows' });
    expect(win.status).toBe(201);
    const calls = h.agents[0].startCalls.length;
    const r = await h.api('POST', '/sysprep', { vms: [...pool.vmIds.slice(0, 600), win.body.vm.id], operations: { only: ['machine-id'] } });
    expect(r).toMatchObject({ status: 422, body: { error: { code: 'GUEST_OS_MISMATCH', details: { vm: 'win-last' } } } });
    expect(r.body.error.message).toMatch(/1 of the 601 VMs do not fit/);
    // No child of it is left: none of its VMs is busy (an orphan child would hold its VM).
    for (const id of pool.vmIds.slice(0, 600)) expect(h.engine.deps.store.activeJobFor(`vm:${id}`)).toBeUndefined();
    await sleep(300);
    expect(h.agents[0].startCalls).toHaveLength(calls);
  });

  it('a bulk job cancelled while most of it waits in the store: every child ends cancelled or succeeded, none runs after', async () => {
    h.agents[0].opts.jobMs = 50;
    const r = await h.api('POST', `/pools/${pool.id}/sysprep`, { operations: { only: ['machine-id'] } });
    expect(r.status).toBe(202);
    await sleep(200);
    const c = await h.api('POST', `/jobs/${r.body.job.id}/cancel`);
    expect(c.status).toBe(202);
    const job = await h.waitJob(r.body.job.id);
    expect(job.state).toMatch(/^(cancelled|partial)$/);
    const cancelled = await childCount(r.body.job.id, 'cancelled');
    expect(cancelled + (await childCount(r.body.job.id, 'succeeded'))).toBe(700);
    expect(cancelled).toBeGreaterThan(600);
    const started = h.agents[0].startCalls.length;
    await sleep(300);
    expect(h.agents[0].startCalls.length).toBe(started);
  });
});

describe('the backlog over two hosts with their own storage', () => {
  it("one host's long backlog does not hold up another host's leaves submitted after it", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'backlog-hosts-'));
    const [rootA, rootB] = ['a', 'b'].map((n) => path.join(dir, n));
    const h = await harness({
      agents: [{ maxJobs: 2, jobMs: 20, storageRoots: [rootA] }, { maxJobs: 2, jobMs: 20, storageRoots: [rootB] }],
      config: { maxJobsPerHost: 2, autoReset: { clone: off, import: off, pool: off } },
    });
    try {
      const pools: Record<string, string> = {};
      for (const [name, root, size] of [['x', rootA, 300], ['y', rootB, 5]] as const) {
        mkdirSync(root);
        const image = path.join(root, `${name}-tpl.qcow2`);
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '16M']);
        expect((await h.api('POST', '/templates', { name: `${name}-tpl`, disks: [{ path: image }] })).status).toBe(201);
        const p = await h.api('POST', '/pools', { name, template: `${name}-tpl`, size });
        expect(p.status).toBe(201);
        pools[name] = p.body.pool.id;
      }
      const x = await h.api('POST', `/pools/${pools.x}/sysprep`, { operations: { only: ['machine-id'] } });
      const y = await h.api('POST', `/pools/${pools.y}/sysprep`, { operations: { only: ['machine-id'] } });
      expect([x.status, y.status]).toEqual([202, 202]);
      expect((await h.waitJob(y.body.job.id)).state).toBe('succeeded');
      const xNow = (await h.api('GET', `/jobs/${x.body.job.id}?children=0`)).body;
      expect(xNow.progress.done).toBeLessThan(150); // x had far to go when y, behind it in the backlog, was done
      expect(h.agents[1].jobs.size).toBe(5);
      expect((await h.waitJob(x.body.job.id, 60_000)).state).toBe('succeeded');
      expect(h.agents[0].jobs.size).toBe(300);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
