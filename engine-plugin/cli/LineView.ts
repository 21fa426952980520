// Plain progress lines for pipes and log files: one line per operation started, per
// phase entered (but queued: the pending line says it) with how long the one before took,
// and per state change, with the time the engine recorded it, then a summary line.
//   12:00:03 web1 running on kvm1
//   12:00:03 web1 preparing disks
//   12:00:04 web1 starting appliance
//   12:00:27 web1 running operations (starting appliance took 23 s)
//   12:00:36 web1 [2/12] ssh-hostkeys
//   12:00:38 web1 warning: hostname could not be set for this type of guest (params.hostname not applied)
//   12:00:40 web1 committing (running operations took 13 s)
//   12:00:41 web1 succeeded (12 operations)
//   job 3f0c... (vm web1): succeeded
import { clock, describeState, jobSummary, warningText } from './format';
import { phaseLabel, secondsBetween } from './JobProgress';
import type { Change, JobLike } from './JobProgress';
import type { JobView } from './JobView';

export class LineView implements JobView {
  constructor(private readonly write: (text: string) => void) {}

  update(changes: Change[]): void {
    for (const c of changes) {
      if (c.kind === 'operation') this.write(`${clock(c.at)} ${c.unit.name} [${c.index}/${Math.max(c.unit.total, c.index)}] ${c.operation}\n`);
      else if (c.kind === 'phase' && c.unit.phase !== 'queued') this.write(`${clock(c.at)} ${c.unit.name} ${phaseLabel(c.unit.phase!)}${took(c.previous, c.at)}\n`);
      else if (c.kind === 'warning') this.write(`${clock(c.at)} ${c.unit.name} ${warningText(c.warning)}\n`);
      else if (c.kind === 'state' && c.unit.state) this.write(`${clock(c.at)} ${c.unit.name} ${describeState(c.unit)}\n`);
    }
  }

  finish(job: JobLike): void {
    // A bulk job's own error (SOME_VMS_FAILED) says what the summary says: not repeated.
    this.write(`${jobSummary(job)}\n`);
  }

  stop(): void {}
}

/** " (starting appliance took 23 s)": how long the phase before lasted, when known. */
function took(previous: { phase: string; since?: string } | undefined, at: string | undefined): string {
  const s = previous && previous.phase !== 'queued' ? secondsBetween(previous.since, at) : undefined;
  return s === undefined ? '' : ` (${phaseLabel(previous!.phase)} took ${s} s)`;
}
