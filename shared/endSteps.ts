// A job's steps (one per virt-sysprep operation started) when it stops running: the step
// that was running ends as the job did, so no final job shows a step "running" (issue 11:
// `job show` listed `customize (running)` on a failed job). The agent and the engine
// both keep steps, and both end them here.
export type StepState = 'running' | 'done' | 'failed' | 'skipped';

/** How the running step ends: done (succeeded or incomplete, or the tool exited 0), failed, skipped (cancelled). */
export type StepEnd = Exclude<StepState, 'running'>;

const STEP_STATES: ReadonlySet<string> = new Set(['running', 'done', 'failed', 'skipped']);

/** A step state from the wire; an unknown one (a newer agent) counts as running. */
export const asStepState = (s: string): StepState => (STEP_STATES.has(s) ? (s as StepState) : 'running');

/** The step end of a final job state, either side's spelling (SUCCEEDED or succeeded...). */
export function stepEndOf(state: string): StepEnd {
  const s = state.toLowerCase();
  // incomplete: the tool exited 0 (a warning says what it did not apply).
  return s === 'succeeded' || s === 'incomplete' ? 'done' : s === 'cancelled' ? 'skipped' : 'failed';
}

/** The steps with every running one ended as `end` (a new array; the others as they were). */
export function endSteps<T extends { state: string }>(steps: readonly T[], end: StepEnd): T[] {
  return steps.map((s) => (s.state === 'running' ? { ...s, state: end } : s));
}
