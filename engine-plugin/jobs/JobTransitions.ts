// The engine's job state machine, as data: state x event -> next state. A pair missing
// from a table is an illegal transition: JobLifecycle refuses it (the record keeps its
// state) and logs it. Final states have no way out: a job ends once.
//
// Leaf events come from the agent's reports (queued, started, cancel = CANCELLING, and
// the four endings) or from the engine (cancel requested, failed before or after the
// agent had it). A bulk parent's events come from its children: started when the first
// child runs, and one ending when the last child ends (incomplete: every child
// succeeded or ended incomplete, at least one incomplete).
import type { JobState } from './Job';

export type JobTransition = 'queued' | 'started' | 'cancel' | 'succeeded' | 'incomplete' | 'failed' | 'cancelled' | 'partial';

export type TransitionTable = Readonly<Record<JobState, Readonly<Partial<Record<JobTransition, JobState>>>>>;

const ENDINGS = { succeeded: 'succeeded', incomplete: 'incomplete', failed: 'failed', cancelled: 'cancelled' } as const;
const ENDED = {} as const;

export const LEAF_TRANSITIONS: TransitionTable = {
  pending: { queued: 'pending', started: 'running', cancel: 'cancelling', ...ENDINGS },
  running: { started: 'running', cancel: 'cancelling', ...ENDINGS },
  // Asked to stop: a late report of the agent (it had not seen the cancel yet) does not
  // undo the request; the agent's own ending decides.
  cancelling: { queued: 'cancelling', started: 'cancelling', cancel: 'cancelling', ...ENDINGS },
  succeeded: ENDED,
  incomplete: ENDED,
  failed: ENDED,
  cancelled: ENDED,
  partial: ENDED, // a leaf never is
};

export const PARENT_TRANSITIONS: TransitionTable = {
  pending: { started: 'running', cancel: 'cancelling', ...ENDINGS, partial: 'partial' },
  running: { started: 'running', cancel: 'cancelling', ...ENDINGS, partial: 'partial' },
  cancelling: { started: 'cancelling', cancel: 'cancelling', ...ENDINGS, partial: 'partial' },
  succeeded: ENDED,
  incomplete: ENDED,
  failed: ENDED,
  cancelled: ENDED,
  partial: ENDED,
};

/** The next state, or undefined when the table has no such transition. */
export function nextState(table: TransitionTable, from: JobState, event: JobTransition): JobState | undefined {
  return table[from][event];
}
