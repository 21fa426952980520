// The steps the engine records on each VM's child job of a room rollout after its
// sysprep (engine-plugin/rooms/RoomFollowUp.ts runs them; the CLI waits for them and
// tells each VM's outcome from them): shared so both sides name them once.
import { isCommitted } from '../jobStates';

/** In order; each is recorded running, then done, failed or skipped. */
export const FOLLOW_UP_STEPS = ['release', 'snapshot', 'start'] as const;
export type FollowUpStep = (typeof FOLLOW_UP_STEPS)[number];

interface StepLike {
  operation: string;
  state: string;
  message?: string;
}

/** Whether every follow-up step of a child was recorded and none is running any more. */
export function followUpEnded(steps: readonly StepLike[] | undefined): boolean {
  return FOLLOW_UP_STEPS.every((name) => steps?.some((s) => s.operation === name && s.state !== 'running'));
}

/**
 * A VM of a rollout is done when its sysprep was committed (succeeded, or incomplete: a
 * second run would not apply what the first could not) and its snapshot was taken (the
 * start, when asked, also done): what `rollout --resume` skips.
 */
export function rolloutVmDone(childState: string, steps: readonly StepLike[] | undefined): boolean {
  const step = (name: FollowUpStep) => steps?.find((s) => s.operation === name);
  return isCommitted(childState) && step('snapshot')?.state === 'done' && step('start')?.state !== 'failed';
}

/** The first follow-up step that failed, if any. */
export const failedFollowUp = (steps: readonly StepLike[] | undefined): StepLike | undefined =>
  steps?.find((s) => (FOLLOW_UP_STEPS as readonly string[]).includes(s.operation) && s.state === 'failed');
