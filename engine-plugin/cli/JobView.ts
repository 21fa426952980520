// How a watch shows a job: bars on a terminal (TtyView), plain lines elsewhere
// (LineView), nothing with --json (QuietView: the final job is printed instead).
import type { Change, JobLike, JobProgress } from './JobProgress';

export interface JobView {
  update(changes: Change[], progress: JobProgress): void;
  /** The job reached its final state; `job` is the full record. */
  finish(job: JobLike, progress: JobProgress): void;
  /** The watch stops before the end (Ctrl-C): leave the terminal clean. */
  stop(): void;
}

export class QuietView implements JobView {
  update(): void {}
  finish(): void {}
  stop(): void {}
}
