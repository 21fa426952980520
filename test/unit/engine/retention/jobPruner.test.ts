// Job retention on a real SQLite JobStore: what goes (ended jobs past the cutoff, a bulk
// job with all its children), what stays (active jobs, children of a live bulk job, jobs
// ended at or after the cutoff), and that it goes in transactions of bounded size with
// the event loop free in between.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Db, openDb } from '../../../../engine-plugin/db';
import { testDatabase } from '../../../helpers/testDatabase';
import type { JobState } from '../../../../engine-plugin/jobs/Job';
import { JobStore, NewJob } from '../../../../engine-plugin/jobs/JobStore';
import { JobPruner } from '../../../../engine-plugin/retention/JobPruner';
import { createLogger } from '../../../../shared/logger';

const NOW = new Date('2026-12-06T12:00:00.000Z');
const daysAgo = (d: number, ms = 0) => new Date(NOW.getTime() - d * 86_400_000 - ms).toISOString();
const CUTOFF = daysAgo(30);
const ACTIVE: JobState[] = ['pending', 'running', 'cancelling'];

const base = {
  requestedBy: 't', request: { params: {}, mode: 'safe' as const, dryRun: false }, operations: ['machine-id'],
  createdAt: daysAgo(40), progress: { done: 0, total: 1, current: '' }, steps: [],
};
const leaf = (id: string, state: JobState, endedAt?: string, parentId?: string): NewJob => ({
  ...base, id, parentId, kind: 'vm', target: { type: 'vm', id: `v-${id}`, name: id }, state, vmKey: `vm:v-${id}`, disks: [], endedAt,
});
const bulk = (id: string, state: JobState, endedAt?: string): NewJob => ({ ...base, id, kind: 'pool', target: { type: 'pool', id: `p-${id}`, name: id }, state, endedAt });
const children = (parent: string, n: number, state: JobState, endedAt?: string) => Array.from({ length: n }, (_, i) => leaf(`${parent}-c${i}`, state, endedAt, parent));

describe('JobPruner', () => {
  let dir: string;
  let db: Db;
  let store: JobStore;
  const log = createLogger({ service: 'test', silent: true });
  const pruner = (days = 30) => new JobPruner(store, { jobRetentionDays: days }, log);
  const ids = () => (db.prepare('SELECT id FROM jobs ORDER BY seq').pluck().all() as string[]);

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pruner-'));
    db = openDb(testDatabase(), dir);
    store = new JobStore(db);
  });
  afterEach(() => {
    store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deletes ended jobs older than the cutoff, a bulk job with all its children; keeps active ones and those at or after the cutoff', async () => {
    store.insert([
      leaf('old-ok', 'succeeded', daysAgo(31)),
      leaf('old-failed', 'failed', daysAgo(90)),
      leaf('edge', 'succeeded', CUTOFF), // exactly 30 days: kept (older than, strictly)
      leaf('just-past', 'cancelled', daysAgo(30, 1)),
      leaf('young', 'succeeded', daysAgo(29)),
      ...ACTIVE.map((s) => leaf(`live-${s}`, s)),
      // An active job with an old end time (cannot happen, but never pruned whatever it says).
      leaf('odd-running', 'running', daysAgo(60)),
    ]);
    await store.insertBulk(bulk('P-old', 'partial', daysAgo(45)), children('P-old', 5, 'succeeded', daysAgo(45)));
    // A live bulk job whose first children ended long ago: none of them goes.
    await store.insertBulk(bulk('P-live', 'running'), [...children('P-live', 3, 'succeeded', daysAgo(50)), leaf('P-live-c3', 'running', undefined, 'P-live')]);
    // An ended bulk job with a child still cancelling (its parent's end was written first): kept whole.
    await store.insertBulk(bulk('P-straggler', 'failed', daysAgo(45)), [leaf('P-straggler-c0', 'failed', daysAgo(45), 'P-straggler'), leaf('P-straggler-c1', 'cancelling', undefined, 'P-straggler')]);

    const r = await pruner().prune(NOW);

    expect(r).toEqual({ jobs: 4, rows: 3 + 6 });
    const left = ids();
    for (const gone of ['old-ok', 'old-failed', 'just-past', 'P-old', ...children('P-old', 5, 'succeeded').map((c) => c.id)]) expect(left).not.toContain(gone);
    expect(left).toEqual(expect.arrayContaining([
      'edge', 'young', 'live-pending', 'live-running', 'live-cancelling', 'odd-running',
      'P-live', 'P-live-c0', 'P-live-c1', 'P-live-c2', 'P-live-c3', 'P-straggler', 'P-straggler-c0', 'P-straggler-c1',
    ]));
    expect(store.get('P-live')!.children).toHaveLength(4);
    // A second pass finds nothing more.
    expect(await pruner().prune(NOW)).toEqual({ jobs: 0, rows: 0 });
  });

  it('job_retention_days = 0 keeps everything', async () => {
    store.insert([leaf('ancient', 'succeeded', daysAgo(3650))]);
    expect(await pruner(0).prune(NOW)).toEqual({ jobs: 0, rows: 0 });
    expect(ids()).toEqual(['ancient']);
  });

  it('sees an end still waiting in the write-behind (a bulk job ended a moment ago in memory)', async () => {
    await store.insertBulk(bulk('P', 'running'), children('P', 2, 'succeeded', daysAgo(40)));
    store.updateParent('P', 'succeeded', daysAgo(41), daysAgo(40), { done: 2, total: 2, current: '' });
    expect((await pruner().prune(NOW)).rows).toBe(3);
    expect(ids()).toEqual([]);
  });

  it('deletes in transactions of at most the batch size, children before their parent, with the event loop free in between', async () => {
    await store.insertBulk(bulk('BIG', 'succeeded', daysAgo(40)), children('BIG', 1203, 'succeeded', daysAgo(40)));
    store.insert(Array.from({ length: 7 }, (_, i) => leaf(`single-${i}`, 'failed', daysAgo(35))));
    const calls: { rows: number; parentThere: boolean }[] = [];
    const real = store.deleteEnded.bind(store);
    jest.spyOn(store, 'deleteEnded').mockImplementation((jobIds, cutoff, maxRows) => {
      const r = real(jobIds, cutoff, maxRows);
      calls.push({ rows: r.rows, parentThere: store.header('BIG') !== undefined });
      return r;
    });
    // Something else that wants the event loop while the pruner works (an API request).
    let ticks = 0;
    let ticking = true;
    const tick = () => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);

    const r = await pruner().prune(NOW, 500);
    ticking = false;

    expect(r).toEqual({ jobs: 8, rows: 1204 + 7 });
    expect(calls.map((c) => c.rows)).toEqual([500, 500, 211]);
    expect(calls.map((c) => c.parentThere)).toEqual([true, true, false]); // the parent's row goes last
    expect(ticks).toBeGreaterThanOrEqual(calls.length);
    expect(ids()).toEqual([]);
  });

  it('start() prunes at once and again every interval; stop() ends it', async () => {
    store.insert([leaf('a', 'succeeded', daysAgo(31))]);
    const p = pruner();
    p.start(40);
    await new Promise((r) => setTimeout(r, 20));
    expect(ids()).toEqual([]);
    store.insert([leaf('b', 'succeeded', daysAgo(31))]);
    await new Promise((r) => setTimeout(r, 100));
    expect(ids()).toEqual([]);
    await p.stop();
    store.insert([leaf('c', 'succeeded', daysAgo(31))]);
    await new Promise((r) => setTimeout(r, 100));
    expect(ids()).toEqual(['c']);
  });
});

describe('JobPruner in the engine', () => {
  it('prunes at start (a real engine restarted on its data dir); job_retention_days = 0 keeps', async () => {
    const { harness } = await import('../harness');
    const h = await harness();
    try {
      const old = (id: string) => leaf(id, 'succeeded', new Date(Date.now() - 31 * 86_400_000).toISOString());
      h.engine.deps.store.insert([old('kept-while-off')]);
      await h.restart({ jobRetentionDays: 0 });
      expect((await h.api('GET', '/jobs/kept-while-off')).status).toBe(200);
      h.engine.deps.store.insert([old('old-at-start')]);
      await h.restart();
      for (let i = 0; i < 100 && (await h.api('GET', '/jobs/old-at-start')).status !== 404; i++) await new Promise((r) => setTimeout(r, 20));
      expect((await h.api('GET', '/jobs/old-at-start')).status).toBe(404);
      expect((await h.api('GET', '/jobs/kept-while-off')).status).toBe(404);
    } finally {
      await h.close();
    }
  });
});
