// The event log: contiguous seq per job, watch = replay after a cursor then live events
// until the final state, watchAll = one stream for many jobs with no event lost or
// repeated between the replay and the live part.
import { EventFields, EventLog } from '../../../host-agent/jobs/EventLog';
import type { JobEventRecord, JobStateName } from '../../../host-agent/jobs/types';

const ev = (state: JobStateName, type = 'state', operation = ''): EventFields =>
  ({ type, state, operation, progress: { done: 0, total: 1, current: operation, phase: '', phaseSince: '' }, error: null, message: '' });

async function take(it: AsyncGenerator<JobEventRecord>, n: number): Promise<JobEventRecord[]> {
  const out: JobEventRecord[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('EventLog', () => {
  it('numbers each job from 1 without gaps', () => {
    const log = new EventLog();
    expect([log.append('a', ev('PENDING')), log.append('b', ev('PENDING')), log.append('a', ev('RUNNING'))].map((e) => [e.jobId, e.seq]))
      .toEqual([['a', 1], ['b', 1], ['a', 2]]);
    expect(log.count('a')).toBe(2);
  });

  it('watch replays after the cursor, follows live events and ends at the final state', async () => {
    const log = new EventLog();
    log.append('j', ev('PENDING'));
    log.append('j', ev('RUNNING'));
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of log.watch('j', 1)) seen.push(`${e.seq}:${e.state}:${e.operation}`);
    })();
    await new Promise((r) => setImmediate(r));
    log.append('j', ev('RUNNING', 'operation', 'machine-id'));
    log.append('j', ev('SUCCEEDED'));
    log.append('j', ev('SUCCEEDED', 'note')); // after the end: not delivered
    await done;
    expect(seen).toEqual(['2:RUNNING:', '3:RUNNING:machine-id', '4:SUCCEEDED:']);
  });

  it('watch of a job restored as final ends even if its final event was never stored', async () => {
    const log = new EventLog();
    log.restore('j', [{ jobId: 'j', seq: 1, at: '', ...ev('PENDING') }], 'FAILED');
    const seen = [];
    for await (const e of log.watch('j')) seen.push(e.seq);
    expect(seen).toEqual([1]);
  });

  it('watchAll: marker, replay per cursor, "missing", then live events of every job, each once', async () => {
    const log = new EventLog();
    log.append('a', ev('PENDING'));
    log.append('a', ev('RUNNING'));
    const controller = new AbortController();
    const stream = log.watchAll([{ jobId: 'a', afterSeq: 1 }, { jobId: 'gone' }], controller.signal);
    const first = await take(stream, 3);
    expect(first.map((e) => [e.type, e.jobId, e.seq])).toEqual([['watching', '', 0], ['state', 'a', 2], ['missing', 'gone', 0]]);
    log.append('b', ev('PENDING'));
    log.append('a', ev('SUCCEEDED'));
    const live = await take(stream, 2);
    expect(live.map((e) => [e.jobId, e.seq])).toEqual([['b', 1], ['a', 3]]);
    controller.abort();
    expect((await stream.next()).done).toBe(true);
  });
});
