// LastSysprep on a real SQLite file and the real JobStore: the newest leaf per VM (direct
// or as a bulk child), its end once final, a state still waiting in the write-behind, and
// the host from the inventory first, else from the job.
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Db, openDb } from '../../../engine-plugin/db';
import { testDatabase } from '../../helpers/testDatabase';
import type { Vm } from '../../../engine-plugin/inventory/Inventory';
import { JobStore, NewJob } from '../../../engine-plugin/jobs/JobStore';
import { LastSysprep } from '../../../engine-plugin/jobs/LastSysprep';

const base = {
  requestedBy: 't', request: { params: {}, mode: 'safe' as const, dryRun: false }, operations: ['machine-id'],
  createdAt: '2026-01-01T00:00:00Z', progress: { done: 0, total: 1, current: '' }, steps: [],
};
const leaf = (id: string, vm: string, extra: Partial<NewJob> = {}): NewJob => ({
  ...base, id, kind: 'vm', target: { type: 'vm', id: vm, name: vm }, state: 'pending', vmKey: `vm:${vm}`, disks: [], ...extra,
});
const vm = (id: string, hostId?: string): Vm => ({ id, name: id, status: 'down', disks: [], hostId });

describe('LastSysprep', () => {
  let dir: string;
  let db: Db;
  let store: JobStore;
  let last: LastSysprep;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lastsysprep-'));
    db = openDb(testDatabase(), dir);
    store = new JobStore(db);
    last = new LastSysprep(db, store);
  });
  afterEach(() => {
    store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each VM its newest leaf job, a bulk child included, and nothing to a VM never syspreped', () => {
    store.insert([leaf('old', 'a', { state: 'failed', endedAt: '2026-01-01T00:01:00Z', host: 'h1' })]);
    store.insert([{ ...base, id: 'P', kind: 'bulk', target: { type: 'vms', id: 'P', name: '2 VMs' }, state: 'running' }]);
    store.insert([leaf('new', 'a', { parentId: 'P', state: 'succeeded', endedAt: '2026-01-01T00:05:00Z', host: 'h2' }), leaf('b1', 'b', { parentId: 'P' })]);
    const out = last.addTo([vm('a'), vm('b'), vm('c')]);
    expect(out.map((v) => [v.id, v.lastSysprep, v.host])).toEqual([
      ['a', { jobId: 'new', state: 'succeeded', endedAt: '2026-01-01T00:05:00Z' }, 'h2'],
      ['b', { jobId: 'b1', state: 'pending' }, undefined],
      ['c', undefined, undefined],
    ]);
    expect('lastSysprep' in out[2]).toBe(false);
  });

  it('reads an active job through the store: a final state still waiting to be written is the one given', () => {
    store.insert([leaf('j', 'a', { host: 'h1' })]);
    store.setState({ id: 'j' }, 'running', '2026-01-01T00:00:01Z');
    store.finish({ id: 'j' }, 'failed', '2026-01-01T00:00:09Z', { code: 'X', message: 'x', details: {} }, base.progress, []);
    expect(last.addToOne(vm('a')).lastSysprep).toEqual({ jobId: 'j', state: 'failed', endedAt: '2026-01-01T00:00:09Z' });
  });

  it("prefers the inventory's host to the job's", () => {
    store.insert([leaf('j', 'a', { host: 'h1', state: 'succeeded', endedAt: '2026-01-01T00:00:09Z' })]);
    expect(last.addToOne(vm('a', 'pinned')).host).toBe('pinned');
    expect(last.addToOne(vm('a')).host).toBe('h1');
  });
});
