// Progress bars on a terminal (cli-progress): one bar per VM with its current operation
// as payload, or, while no operation runs, its phase and how long it has lasted
// ("starting appliance 23 s", counted every second: under TCG the bar stays at 0 % for
// most of a job), or, for a bulk job with more VMs than fit (MAX_BARS), one bar for the
// whole job. Errors of failed VMs are printed under the bars at the end.
import { MultiBar, Presets, SingleBar } from 'cli-progress';
import { isCommitted } from '../../shared/jobStates';
import { describeError, jobSummary, warningText } from './format';
import { isFinalState, phaseText } from './JobProgress';
import type { Change, JobLike, JobProgress, Unit } from './JobProgress';
import type { JobView } from './JobView';

export const MAX_BARS = 20;

/** Phases shown with their age instead of an operation. */
const TIMED_PHASES = new Set(['queued', 'preparing', 'starting-appliance', 'committing']);

export class TtyView implements JobView {
  private readonly multi: MultiBar;
  private readonly bars = new Map<string, SingleBar>();
  private overall: SingleBar | undefined;
  private nameWidth = 8;
  private stopped = false;
  /** Redraws the phases' ages once a second while one is shown. */
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {
    this.multi = new MultiBar(
      {
        stream,
        format: '{name} {bar} {percentage}% {value}/{total} {status}',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        gracefulExit: false,
        emptyOnZero: true,
        autopadding: true,
      },
      Presets.shades_classic,
    );
  }

  update(changes: Change[], p: JobProgress): void {
    if (this.stopped) return;
    if (p.bulk && (p.job?.childrenTotal ?? p.units.size) > MAX_BARS) return this.updateOverall(p);
    this.nameWidth = Math.max(this.nameWidth, ...[...p.units.values()].map((u) => u.name.length));
    for (const c of changes) {
      if (c.kind === 'job') continue;
      const u = c.unit;
      let bar = this.bars.get(u.id);
      if (!bar) {
        bar = this.multi.create(u.total, u.done, this.payload(u));
        this.bars.set(u.id, bar);
      }
    }
    this.redraw(p);
    const timed = [...p.units.values()].some((u) => this.timed(u));
    if (timed && !this.ticker) {
      this.ticker = setInterval(() => this.redraw(p), 1000).unref();
    } else if (!timed && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private redraw(p: JobProgress): void {
    for (const u of p.units.values()) {
      const bar = this.bars.get(u.id);
      if (!bar) continue;
      const full = isCommitted(u.state);
      const total = full ? Math.max(u.total, u.done, 1) : u.total;
      bar.setTotal(total);
      bar.update(full ? total : u.done, this.payload(u));
    }
  }

  private timed(u: Unit): boolean {
    return u.state === 'running' && TIMED_PHASES.has(u.phase ?? '');
  }

  private updateOverall(p: JobProgress): void {
    const total = p.job?.childrenTotal ?? p.units.size;
    const units = [...p.units.values()];
    const ended = units.filter((u) => isFinalState(u.state));
    const status = ['running', 'succeeded', 'incomplete', 'failed', 'cancelled'].map((s) => `${units.filter((u) => u.state === s).length} ${s}`).filter((t) => t !== '0 incomplete').join(', ');
    this.overall ??= this.multi.create(total, 0, { name: `${p.job?.target.name ?? 'job'} VMs`, status });
    this.overall.update(ended.length, { status });
  }

  private payload(u: Unit): { name: string; status: string } {
    const running = () => (this.timed(u) ? phaseText(u) : undefined) ?? u.operations.at(-1) ?? (u.phase === 'operations' ? 'examining the guest' : `running on ${u.host ?? '?'}`);
    const status = u.state === 'running' ? running() : u.state === 'failed' ? `failed: ${u.error?.code ?? ''}` : u.state;
    return { name: u.name.padEnd(this.nameWidth), status };
  }

  finish(job: JobLike, p: JobProgress): void {
    this.stop();
    // The bars show "failed: CODE"; the messages and log paths come once they are gone.
    if (p.bulk) for (const u of p.units.values()) if (u.error && u.state !== 'succeeded') this.stream.write(`${u.name}: ${u.state}: ${describeError(u.error)}\n`);
    // Warnings after the bars (a line above a redrawn bar would be overwritten).
    for (const u of p.units.values()) for (const w of u.warnings) this.stream.write(`${p.bulk ? `${u.name}: ` : ''}${warningText(w)}\n`);
    this.stream.write(`${jobSummary(job)}\n`);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    this.multi.stop();
  }
}
