// The Slicer: long loops give way to I/O every few milliseconds, take every item once
// and in order, and wrap each slice (a transaction in the job store).
import { Slicer } from '../../../engine-plugin/slicer';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('Slicer', () => {
  it('runs every item once, in order, in wrapped slices of about the budget, giving way in between', async () => {
    const seen: number[] = [];
    const slices: number[][] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    await new Slicer(5).forEach(Array.from({ length: 100 }, (_, i) => i), (i) => { busy(0.5); seen.push(i); slices.at(-1)!.push(i); }, (slice) => { slices.push([]); slice(); });
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(slices.length).toBeGreaterThanOrEqual(8); // 50 ms of work in 5 ms slices
    expect(Math.max(...slices.map((s) => s.length))).toBeLessThanOrEqual(12);
    expect(ticks).toBeGreaterThan(0); // timers ran while the loop went on
    expect(elapsed).toBeGreaterThanOrEqual(50);
  });

  it('pause() gives way only once the slice has had its time', async () => {
    const slicer = new Slicer(20);
    let ran = false;
    setImmediate(() => (ran = true));
    await slicer.pause();
    expect(ran).toBe(false);
    busy(25);
    await slicer.pause();
    expect(ran).toBe(true);
  });
});
