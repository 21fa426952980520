// The job store's write-behind on a real SQLite file: a read sees every write to the
// rows it reads, and a read of other rows does not write them (the job list does not
// write a pool's children).
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Db, openDb } from '../../../engine-plugin/db';
import { testDatabase } from '../../helpers/testDatabase';
import { JobStore, NewJob } from '../../../engine-plugin/jobs/JobStore';

const base = {
  requestedBy: 't', request: { params: {}, mode: 'safe' as const, dryRun: false }, operations: ['machine-id'],
  createdAt: new Date().toISOString(), progress: { done: 0, total: 1, current: '' }, steps: [],
};
const parent: NewJob = { ...base, id: 'P', kind: 'pool', target: { type: 'pool', id: 'p', name: 'p' }, state: 'running' };
const child = (n: number): NewJob => ({ ...base, id: `c${n}`, parentId: 'P', kind: 'vm', target: { type: 'vm', id: `v${n}`, name: `v${n}` }, state: 'pending', vmKey: `vm:v${n}`, disks: [] });

describe('JobStore write-behind', () => {
  let dir: string;
  let db: Db;
  let store: JobStore;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'jobstore-'));
    db = openDb(testDatabase(), dir);
    store = new JobStore(db);
    store.insert([parent, child(1), child(2)]);
  });
  afterEach(() => {
    store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const onDisk = (id: string) => db.prepare('SELECT state, progress, ended_at FROM jobs WHERE id = ?').get(id) as { state: string; progress: string; ended_at: string | null };
  const c1 = { id: 'c1', parentId: 'P' };

  it('writes behind: nothing reaches the database until a read of those rows or the timer', async () => {
    store.setState(c1, 'running', '2026-01-01T00:00:00Z');
    store.setProgress(c1, { done: 1, total: 1, current: 'machine-id' }, [], 3);
    expect(onDisk('c1').state).toBe('pending');
    await new Promise((r) => setTimeout(r, 1200)); // FLUSH_MS is 1000
    expect(onDisk('c1')).toMatchObject({ state: 'running', progress: JSON.stringify({ done: 1, total: 1, current: 'machine-id' }) });
  });

  it("a read of the job list writes the top-level rows only, not a bulk job's children", () => {
    store.updateParent('P', 'running', '2026-01-01T00:00:00Z', null, { done: 1, total: 2, current: '1 succeeded' });
    store.finish(c1, 'succeeded', '2026-01-01T00:00:01Z', undefined, { done: 1, total: 1, current: '' }, []);
    const listed = store.list();
    expect(listed.items.map((j) => [j.id, j.progress.done])).toEqual([['P', 1]]);
    expect(onDisk('c1').state).toBe('pending'); // not written by that read
    expect(store.hasEnded('c1')).toBe(true); // but known to have ended
  });

  it('a job whose ending still waits in the write-behind is not active: a VM may get its next job at once (one key or a page of them)', () => {
    expect([store.activeJobFor('vm:v1'), [...store.activeJobsFor(['vm:v1', 'vm:v2', 'vm:none'])]]).toEqual(['c1', [['vm:v1', 'c1'], ['vm:v2', 'c2']]]);
    store.finish(c1, 'succeeded', '2026-01-01T00:00:01Z', undefined, { done: 1, total: 1, current: '' }, []);
    expect(onDisk('c1').state).toBe('pending'); // still stored as active
    expect([store.activeJobFor('vm:v1'), [...store.activeJobsFor(['vm:v1', 'vm:v2'])]]).toEqual([undefined, [['vm:v2', 'c2']]]);
  });

  it("brings PostgreSQL's planner statistics of the jobs table up to date once 10,000 bulk rows came (not before); SQLite keeps none", async () => {
    const pg = db.dialect.name === 'postgresql';
    const stats = () => Number(pg ? db.prepare("SELECT reltuples FROM pg_class WHERE relname = 'jobs'").pluck().get() : db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").pluck().get());
    await store.insertChildren(Array.from({ length: 9_990 }, (_, i) => child(i + 10)));
    expect(stats()).toBeLessThan(1000); // never analysed yet (-1 or 0)
    await store.insertChildren(Array.from({ length: 10 }, (_, i) => child(i + 20_000)));
    expect(stats()).toBe(pg ? 10_003 : 0);
  });

  it('a read of a child, of a page of children or of a bulk job with its children sees their writes', () => {
    store.finish(c1, 'failed', '2026-01-01T00:00:01Z', { code: 'X', message: 'x', details: {} }, { done: 0, total: 1, current: '' }, []);
    expect(store.header('c1')).toMatchObject({ state: 'failed', error: { code: 'X' } });
    store.finish({ id: 'c2', parentId: 'P' }, 'succeeded', '2026-01-01T00:00:02Z', undefined, { done: 1, total: 1, current: '' }, []);
    expect(store.children('P').items.map((c) => c.state)).toEqual(['failed', 'succeeded']);
    store.setProgress({ id: 'c2', parentId: 'P' }, { done: 1, total: 1, current: 'later' }, [], 9);
    expect(store.get('P', 5)!.children!.map((c) => c.progress.current)).toEqual(['', 'later']);
    expect(store.childStateCounts('P')).toEqual(new Map([['failed', 1], ['succeeded', 1]]));
  });

  it('a page of children writes the children it shows; a page by state, every child first', () => {
    const c2 = { id: 'c2', parentId: 'P' };
    store.setState(c1, 'running', '2026-01-01T00:00:00Z');
    store.setState(c2, 'running', '2026-01-01T00:00:00Z');
    expect(store.children('P', { limit: 1 }).items.map((c) => [c.id, c.state])).toEqual([['c1', 'running']]);
    expect(onDisk('c2').state).toBe('pending'); // not on that page: still waiting
    expect(store.children('P', { state: 'running' }).items.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(onDisk('c2').state).toBe('running');
  });

  it('a final state replaces the waiting writes of its row and keeps the start time', () => {
    store.markDispatched(c1);
    store.setState(c1, 'running', '2026-01-01T00:00:00Z');
    store.setProgress(c1, { done: 0, total: 1, current: 'x' }, [], 2);
    store.finish(c1, 'succeeded', '2026-01-01T00:00:09Z', undefined, { done: 1, total: 1, current: '' }, [], 4);
    expect(store.header('c1')).toMatchObject({ state: 'succeeded', startedAt: '2026-01-01T00:00:00Z', endedAt: '2026-01-01T00:00:09Z', progress: { done: 1 } });
  });

  it('keeps the time of the first state change as the start time', () => {
    store.setState(c1, 'running', '2026-01-01T00:00:00Z');
    store.setState(c1, 'cancelling', '2026-01-01T00:00:05Z');
    expect(store.header('c1')).toMatchObject({ state: 'cancelling', startedAt: '2026-01-01T00:00:00Z' });
  });

  it('writes what waits at close', () => {
    store.setState(c1, 'running', '2026-01-01T00:00:00Z');
    store.close();
    expect(onDisk('c1').state).toBe('running');
  });
});
