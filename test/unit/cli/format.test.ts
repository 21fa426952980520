import { jobSummary } from '../../../engine-plugin/cli/format';
import type { JobLike } from '../../../engine-plugin/cli/JobProgress';

const child = (id: string, state: string, batch?: JobLike['batch']): JobLike => ({ id, kind: 'vm', state, target: { type: 'vm', id, name: id }, ...(batch ? { batch } : {}) });
const pool = (children: JobLike[], childrenTotal?: number): JobLike => ({ id: 'p1', kind: 'pool', state: 'succeeded', target: { type: 'pool', id: 'lab', name: 'lab' }, children, ...(childrenTotal ? { childrenTotal } : {}) });

describe('jobSummary', () => {
  it('tallies batch members: batched and alone, before the paging note', () => {
    const b = { id: 'bt1', batched: true };
    const alone = { id: 'bt1', batched: false, aloneReason: 'its disks hold md devices' };
    expect(jobSummary(pool([child('a', 'succeeded', b), child('b', 'succeeded', b), child('c', 'succeeded', alone)], 5)))
      .toBe('job p1 (pool lab): succeeded: 3 succeeded; 2 batched, 1 alone (first 3 of 5 VMs)');
  });

  it('says nothing about batches when no child went through batch mode', () => {
    expect(jobSummary(pool([child('a', 'succeeded'), child('b', 'failed')]))).toBe('job p1 (pool lab): succeeded: 1 succeeded, 1 failed');
  });
});
