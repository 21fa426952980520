// What a watch prints of phases: JobProgress (the changes) and LineView (the lines), fed
// the snapshot and events the engine sends (shapes of docs/api.md; times fixed here).
import { JobProgress, phaseText, secondsBetween } from '../../../engine-plugin/cli/JobProgress';
import { LineView } from '../../../engine-plugin/cli/LineView';

const T0 = Date.parse('2026-01-01T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const progress = (phase: string, since: number, done = 0) => ({ done, total: 2, current: '', phase, phaseSince: at(since) });
const job = { id: 'j1', kind: 'vm', state: 'pending', target: { type: 'vm', id: 'v1', name: 'web1' }, createdAt: at(0), progress: progress('queued', 0), steps: [] };

function watch() {
  const p = new JobProgress('j1');
  const lines: string[] = [];
  const view = new LineView((t) => lines.push(t.replace(/^\d\d:\d\d:\d\d /, '').trimEnd()));
  return { p, lines, feed: (changes: ReturnType<JobProgress['event']>) => view.update(changes) };
}

describe('phases in a watch', () => {
  it('prints each phase entered (queued aside) with how long the one before took, and nothing once the job ended', () => {
    const { p, lines, feed } = watch();
    feed(p.snapshot(job));
    feed(p.event({ jobId: 'j1', type: 'state', state: 'running', host: 'kvm1', progress: progress('preparing', 1), at: at(1) }));
    feed(p.event({ jobId: 'j1', type: 'state', state: 'running', progress: progress('starting-appliance', 2), at: at(2) }));
    expect(phaseText(p.units.get('j1')!, T0 + 25_400)).toBe('starting appliance 23 s');
    feed(p.event({ jobId: 'j1', type: 'state', state: 'running', progress: progress('operations', 25), at: at(25) }));
    feed(p.event({ jobId: 'j1', type: 'operation', state: 'running', operation: 'machine-id', progress: progress('operations', 25), at: at(34) }));
    feed(p.event({ jobId: 'j1', type: 'operation', state: 'running', operation: 'customize', progress: progress('operations', 25, 1), at: at(35) }));
    feed(p.event({ jobId: 'j1', type: 'state', state: 'running', progress: progress('committing', 40, 1), at: at(40) }));
    feed(p.event({ jobId: 'j1', type: 'state', state: 'succeeded', progress: { done: 2, total: 2, current: '' }, at: at(41) }));
    expect(lines).toEqual([
      'web1 pending',
      'web1 running on kvm1',
      'web1 preparing disks',
      'web1 starting appliance (preparing disks took 1 s)',
      'web1 running operations (starting appliance took 23 s)',
      'web1 [1/2] machine-id',
      'web1 [2/2] customize',
      'web1 committing (running operations took 15 s)',
      'web1 succeeded (2 operations)',
    ]);
    expect(p.units.get('j1')).toMatchObject({ phase: undefined, phaseSince: undefined });
  });

  it("an operation event that ends the appliance's start gives the phase line before the operation line", () => {
    const { p, lines, feed } = watch();
    feed(p.snapshot({ ...job, state: 'running', progress: progress('starting-appliance', 2) }));
    feed(p.event({ jobId: 'j1', type: 'operation', state: 'running', operation: 'machine-id', progress: progress('operations', 30), at: at(30) }));
    expect(lines).toEqual(['web1 running', 'web1 starting appliance', 'web1 running operations (starting appliance took 28 s)', 'web1 [1/2] machine-id']);
  });

  it('a reconnect (the same snapshot again) repeats nothing', () => {
    const { p, lines, feed } = watch();
    const running = { ...job, state: 'running', progress: progress('starting-appliance', 2) };
    feed(p.snapshot(running));
    const before = lines.length;
    feed(p.snapshot(running));
    expect(lines.length).toBe(before);
  });

  it.each([
    [at(0), at(23), 23],
    [at(10), at(5), 0],
    [undefined, at(5), undefined],
    ['not a time', at(5), undefined],
  ])('secondsBetween(%s, %s) = %s', (since, until, expected) => {
    expect(secondsBetween(since, until)).toBe(expected);
  });
});
