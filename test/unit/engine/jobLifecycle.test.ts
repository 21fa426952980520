// The engine's job state machine: the transition tables as data (table tests), and
// JobLifecycle applying them to real records (real SQLite job store, real bus; the
// agent's events are built here as the wire types say).
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Transport from 'winston-transport';
import type { JobEvent as AgentEvent } from '../../../shared/wireTypes';
import { FINAL_JOB_STATES } from '../../../shared/jobStates';
import { createLogger } from '../../../shared/logger';
import { Db, openDb } from '../../../engine-plugin/db';
import { testDatabase } from '../../helpers/testDatabase';
import { JOB_STATES, JobState } from '../../../engine-plugin/jobs/Job';
import { JobBus, JobEventMessage } from '../../../engine-plugin/jobs/JobBus';
import { JobLifecycle } from '../../../engine-plugin/jobs/JobLifecycle';
import { JobStore, NewJob } from '../../../engine-plugin/jobs/JobStore';
import { JobTransition, LEAF_TRANSITIONS, nextState, PARENT_TRANSITIONS } from '../../../engine-plugin/jobs/JobTransitions';

const EVENTS: JobTransition[] = ['queued', 'started', 'cancel', 'succeeded', 'incomplete', 'failed', 'cancelled', 'partial'];

describe('job transition tables', () => {
  it.each<[JobState, JobTransition, JobState | undefined]>([
    ['pending', 'queued', 'pending'],
    ['pending', 'started', 'running'],
    ['pending', 'cancel', 'cancelling'],
    ['pending', 'failed', 'failed'],
    ['pending', 'cancelled', 'cancelled'],
    ['running', 'started', 'running'],
    ['running', 'queued', undefined], // the agent never goes back to pending
    ['running', 'cancel', 'cancelling'],
    ['running', 'succeeded', 'succeeded'],
    ['running', 'partial', undefined], // only a bulk job ends partial
    ['cancelling', 'started', 'cancelling'], // a late report does not undo the cancel
    ['cancelling', 'queued', 'cancelling'],
    ['cancelling', 'cancelled', 'cancelled'],
    ['cancelling', 'succeeded', 'succeeded'], // the agent finished before it saw the cancel
    ['running', 'incomplete', 'incomplete'],
    ['cancelling', 'incomplete', 'incomplete'], // committed before the cancel came
  ])('leaf: %s --%s--> %s', (from, event, to) => {
    expect(nextState(LEAF_TRANSITIONS, from, event)).toBe(to);
  });

  it.each<[JobState, JobTransition, JobState | undefined]>([
    ['pending', 'started', 'running'],
    ['pending', 'partial', 'partial'],
    ['running', 'partial', 'partial'],
    ['running', 'queued', undefined],
    ['cancelling', 'started', 'cancelling'],
    ['cancelling', 'cancelled', 'cancelled'],
    ['cancelling', 'partial', 'partial'],
    ['running', 'incomplete', 'incomplete'],
  ])('bulk parent: %s --%s--> %s', (from, event, to) => {
    expect(nextState(PARENT_TRANSITIONS, from, event)).toBe(to);
  });

  it('has a row for every state, and no way out of a final one', () => {
    for (const table of [LEAF_TRANSITIONS, PARENT_TRANSITIONS]) {
      expect(Object.keys(table).sort()).toEqual([...JOB_STATES].sort());
      for (const s of FINAL_JOB_STATES) for (const e of EVENTS) expect(nextState(table, s, e)).toBeUndefined();
    }
  });
});

/** Keeps the lines logged, to see a refused transition reported. */
class Recorder extends Transport {
  readonly lines: Record<string, unknown>[] = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.lines.push(info);
    next();
  }
}

const base = {
  requestedBy: 't', request: { params: {}, mode: 'safe' as const, dryRun: false }, operations: ['machine-id', 'ssh-hostkeys'],
  createdAt: new Date().toISOString(), progress: { done: 0, total: 2, current: '' }, steps: [],
};
const leafJob = (id: string, parentId?: string): NewJob => ({ ...base, id, parentId, kind: 'vm', target: { type: 'vm', id: `vm-${id}`, name: id }, state: 'pending', vmKey: `vm:vm-${id}`, disks: [] });
const agentEvent = (seq: number, state: string, type = 'state', operation = ''): AgentEvent =>
  ({ jobId: 'x', seq, type, state, operation, at: new Date().toISOString(), progress: null, error: null }) as unknown as AgentEvent;

describe('JobLifecycle', () => {
  let dir: string;
  let db: Db;
  let store: JobStore;
  let bus: JobBus;
  let lifecycle: JobLifecycle;
  let recorder: Recorder;
  let events: JobEventMessage[];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lifecycle-'));
    db = openDb(testDatabase(), dir);
    store = new JobStore(db);
    bus = new JobBus();
    recorder = new Recorder();
    const log = createLogger({ service: 'test', level: 'info' });
    log.clear();
    log.add(recorder);
    lifecycle = new JobLifecycle(store, bus, log);
    events = [];
    bus.onAny((e) => events.push(e));
  });
  afterEach(() => {
    store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("follows a leaf through the agent's events to its ending, then refuses a second ending", () => {
    lifecycle.created(leafJob('a'));
    const leaf = store.leaf('a')!;
    lifecycle.follow(leaf);
    expect(lifecycle.agentEvent(leaf, agentEvent(1, 'RUNNING'))).toBe(false);
    expect(lifecycle.agentEvent(leaf, agentEvent(2, 'RUNNING', 'operation', 'machine-id'))).toBe(false);
    expect(store.header('a')).toMatchObject({ state: 'running', steps: [{ operation: 'machine-id', state: 'running' }] });
    expect(lifecycle.agentEvent(leaf, agentEvent(3, 'SUCCEEDED'))).toBe(true);
    expect(store.header('a')).toMatchObject({ state: 'succeeded', steps: [{ operation: 'machine-id', state: 'done' }] });
    lifecycle.finishLeaf(store.leaf('a')!, 'failed', { code: 'LATE', message: 'late', details: {} });
    expect(store.header('a')).toMatchObject({ state: 'succeeded' });
    expect(store.header('a')!.error).toBeUndefined();
    expect(events.map((e) => e.state)).toEqual(['running', 'running', 'succeeded']);
  });

  it('refuses and logs an illegal transition: the record keeps its state', () => {
    lifecycle.created(leafJob('b'));
    const leaf = store.leaf('b')!;
    lifecycle.follow(leaf);
    lifecycle.agentEvent(leaf, agentEvent(1, 'RUNNING'));
    lifecycle.agentEvent(leaf, agentEvent(2, 'PENDING'));
    expect(store.header('b')!.state).toBe('running');
    expect(recorder.lines).toContainEqual(expect.objectContaining({ message: 'illegal job transition refused', jobId: 'b', from: 'running', event: 'queued' }));
  });

  it('keeps a leaf cancelling once asked, whatever the agent reports before its ending', async () => {
    lifecycle.created(leafJob('c'));
    const leaf = store.leaf('c')!;
    lifecycle.follow(leaf);
    lifecycle.agentEvent(leaf, agentEvent(1, 'RUNNING'));
    const stopped: string[] = [];
    await lifecycle.requestCancel(store.header('c')!, async (leaves) => stopped.push(...leaves.map((l) => l.id)));
    expect(stopped).toEqual(['c']);
    lifecycle.agentEvent(leaf, agentEvent(2, 'RUNNING', 'operation', 'machine-id'));
    expect(events.at(-1)).toMatchObject({ type: 'operation', state: 'cancelling' });
    expect(store.header('c')!.state).toBe('cancelling');
    lifecycle.agentEvent(leaf, agentEvent(3, 'CANCELLED'));
    expect(store.header('c')!.state).toBe('cancelled');
  });

  it("aggregates a bulk job's children: running with the first, partial when one of two fails", async () => {
    const parent: NewJob = { ...base, id: 'P', kind: 'pool', target: { type: 'pool', id: 'p', name: 'p' }, state: 'pending', progress: { done: 0, total: 2, current: '' } };
    await lifecycle.createdBulk(parent, [leafJob('p1', 'P'), leafJob('p2', 'P')]);
    const [p1, p2] = [store.leaf('p1')!, store.leaf('p2')!];
    lifecycle.follow(p1);
    lifecycle.agentEvent(p1, agentEvent(1, 'RUNNING'));
    expect(store.header('P')!.state).toBe('running');
    lifecycle.agentEvent(p1, agentEvent(2, 'SUCCEEDED'));
    expect(store.header('P')).toMatchObject({ state: 'running', progress: { done: 1, total: 2 } });
    lifecycle.finishLeaf(p2, 'failed', { code: 'NO_AGENT', message: 'x', details: {} });
    expect(store.header('P')).toMatchObject({ state: 'partial', error: { code: 'SOME_VMS_FAILED' }, progress: { done: 2, total: 2 } });
    // The parent's stream sees the last child's ending before its own.
    expect(events.filter((e) => e.jobId === 'p2' || e.jobId === 'P').map((e) => `${e.jobId}:${e.state}`).slice(-2)).toEqual(['p2:failed', 'P:partial']);
  });

  it('records a leaf\'s warnings and publishes each; INCOMPLETE ends it incomplete with them', () => {
    lifecycle.created(leafJob('w'));
    const leaf = store.leaf('w')!;
    lifecycle.follow(leaf);
    lifecycle.agentEvent(leaf, agentEvent(1, 'RUNNING'));
    const warning = { ...agentEvent(2, 'RUNNING', 'warning'), warning: { message: 'hostname could not be set for this type of guest', field: 'params.hostname' } } as AgentEvent;
    expect(lifecycle.agentEvent(leaf, warning)).toBe(false);
    expect(lifecycle.agentEvent(leaf, { ...agentEvent(3, 'RUNNING', 'warning'), warning: { message: 'just saying', field: '' } } as AgentEvent)).toBe(false);
    expect(events.filter((e) => e.type === 'warning').map((e) => e.warning)).toEqual([{ message: 'hostname could not be set for this type of guest', field: 'params.hostname' }, { message: 'just saying' }]);
    expect(lifecycle.agentEvent(leaf, agentEvent(4, 'INCOMPLETE'))).toBe(true);
    expect(store.header('w')).toMatchObject({ state: 'incomplete', warnings: [{ message: 'hostname could not be set for this type of guest', field: 'params.hostname' }, { message: 'just saying' }] });
    expect(store.header('w')!.error).toBeUndefined();
  });

  it.each<[string, ('succeeded' | 'incomplete' | 'failed')[], string]>([
    ['all succeeded', ['succeeded', 'succeeded'], 'succeeded'],
    ['some incomplete, none failed', ['succeeded', 'incomplete'], 'incomplete'],
    ['all incomplete', ['incomplete', 'incomplete'], 'incomplete'],
    ['incomplete and failed', ['incomplete', 'failed'], 'partial'],
    ['all failed', ['failed', 'failed'], 'failed'],
  ])('a bulk job whose children ended %s ends %s', async (_what, endings, expected) => {
    const parent: NewJob = { ...base, id: 'R', kind: 'pool', target: { type: 'pool', id: 'p', name: 'p' }, state: 'pending', progress: { done: 0, total: 2, current: '' } };
    await lifecycle.createdBulk(parent, [leafJob('r1', 'R'), leafJob('r2', 'R')]);
    endings.forEach((e, i) => lifecycle.finishLeaf(store.leaf(`r${i + 1}`)!, e, e === 'failed' ? { code: 'X', message: 'x', details: {} } : undefined));
    expect(store.header('R')!.state).toBe(expected);
  });

  it('counts its children\'s warnings on a bulk job', async () => {
    const parent: NewJob = { ...base, id: 'S', kind: 'pool', target: { type: 'pool', id: 'p', name: 'p' }, state: 'pending', progress: { done: 0, total: 2, current: '' } };
    await lifecycle.createdBulk(parent, [leafJob('s1', 'S'), leafJob('s2', 'S')]);
    const s1 = store.leaf('s1')!;
    lifecycle.follow(s1);
    for (const seq of [1, 2]) lifecycle.agentEvent(s1, { ...agentEvent(seq, 'RUNNING', 'warning'), warning: { message: `w${seq}`, field: '' } } as AgentEvent);
    const job = store.get('S')!;
    expect(job.warningCount).toBe(2);
    expect(job.children!.map((c) => c.warningCount)).toEqual([2, undefined]);
  });

  it('records a batch member\'s outcome from its final agent event: the leaf\'s result and its parent\'s child summary say batched, or alone and why', async () => {
    const parent: NewJob = { ...base, id: 'B', kind: 'bulk', target: { type: 'vms', id: '', name: '3 VMs' }, state: 'pending', progress: { done: 0, total: 3, current: '' } };
    await lifecycle.createdBulk(parent, [leafJob('b1', 'B'), leafJob('b2', 'B'), leafJob('b3', 'B')]);
    const end = (id: string, batch: unknown) => {
      const leaf = store.leaf(id)!;
      lifecycle.follow(leaf);
      lifecycle.agentEvent(leaf, { ...agentEvent(1, 'RUNNING'), jobId: id } as AgentEvent);
      lifecycle.agentEvent(leaf, { ...agentEvent(2, 'SUCCEEDED'), jobId: id, batch } as AgentEvent);
    };
    end('b1', { id: 'bt-1', batched: true, aloneReason: '' });
    end('b2', { id: 'bt-1', batched: false, aloneReason: 'fstab line 2: UUID=1234 is on no disk of this VM' });
    end('b3', null);
    expect(store.get('b1')!.result).toEqual({ batch: { id: 'bt-1', batched: true } });
    expect(store.get('b3')!.result).toBeUndefined();
    expect(store.get('B')!.children!.map((c) => c.batch)).toEqual([
      { id: 'bt-1', batched: true },
      { id: 'bt-1', batched: false, aloneReason: 'fstab line 2: UUID=1234 is on no disk of this VM' },
      undefined,
    ]);
  });

  it('cancels a bulk job: the parent and every child not ended are recorded cancelling, and handed to stop a page at a time', async () => {
    const n = 1203; // 3 pages of 500
    const parent: NewJob = { ...base, id: 'Q', kind: 'bulk', target: { type: 'vms', id: '', name: `${n} VMs` }, state: 'pending', progress: { done: 0, total: n, current: '' } };
    await lifecycle.createdBulk(parent, Array.from({ length: n }, (_, i) => leafJob(`q${i}`, 'Q')));
    lifecycle.finishLeaf(store.leaf('q0')!, 'succeeded', undefined);
    const pages: string[][] = [];
    await lifecycle.requestCancel(store.header('Q')!, async (leaves) => {
      pages.push(leaves.map((l) => l.id));
      for (const l of leaves) expect(store.header(l.id)!.state).toBe('cancelling');
    });
    expect(pages.map((p) => p.length)).toEqual([500, 500, 202]);
    expect(pages.flat()).toEqual(Array.from({ length: n - 1 }, (_, i) => `q${i + 1}`));
    expect(store.header('Q')!.state).toBe('cancelling');
    lifecycle.batch(() => pages.flat().forEach((id) => lifecycle.finishLeaf(store.leaf(id)!, 'cancelled', undefined)));
    expect(store.header('Q')).toMatchObject({ state: 'partial' });
  });
});
