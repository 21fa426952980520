// Plain progress lines for pipes and log files: one line per operation started and
// per state change, with the time the engine recorded it, then a summary line.
//   12:00:03 web1 running on kvm1
//   12:00:14 web1 [2/12] ssh-hostkeys
//   12:00:20 web1 succeeded (12 operations)
//   job 3f0c... (vm web1): succeeded
import { clock, describeState, jobSummary } from './format';
import type { Change, JobLike } from './JobProgress';
import type { JobView } from './JobView';

export class LineView implements JobView {
  constructor(private readonly write: (text: string) => void) {}

  update(changes: Change[]): void {
    for (const c of changes) {
      if (c.kind === 'operation') this.write(`${clock(c.at)} ${c.unit.name} [${c.index}/${Math.max(c.unit.total, c.index)}] ${c.operation}\n`);
      else if (c.kind === 'state' && c.unit.state) this.write(`${clock(c.at)} ${c.unit.name} ${describeState(c.unit)}\n`);
    }
  }

  finish(job: JobLike): void {
    // A bulk job's own error (SOME_VMS_FAILED) says what the summary says: not repeated.
    this.write(`${jobSummary(job)}\n`);
  }

  stop(): void {}
}
