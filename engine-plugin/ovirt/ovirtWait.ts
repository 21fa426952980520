// oVirt answers an action when its command is accepted, not when it is done: a new VM
// stays image_locked while its disks are made, a snapshot locked while it is taken or
// merged, a VM powering_up or powering_down. The oVirt actions wait here for the state
// they need: polls with a growing pause (250 ms doubling to 2 s), bounded by a deadline;
// past it, 503 OVIRT_TIMEOUT saying what was awaited and what oVirt last showed (oVirt
// may still finish: nothing is undone).
import { UnavailableError } from '../../shared/errors';

const FIRST_PAUSE_MS = 250;
const MAX_PAUSE_MS = 2000;

export interface WaitSpec<T> {
  /** What is awaited, for the error: 'VM "x" to leave image_locked'. */
  what: string;
  timeoutMs: number;
  /** Reads the current state (undefined: the object is gone). */
  read(): Promise<T>;
  done(state: T): boolean;
  /** How the last state reads in the error. */
  describe?(state: T): string;
}

/** The first state `done` accepts; 503 OVIRT_TIMEOUT past the deadline. */
export async function waitFor<T>(spec: WaitSpec<T>): Promise<T> {
  const end = Date.now() + spec.timeoutMs;
  let pause = FIRST_PAUSE_MS;
  for (;;) {
    const state = await spec.read();
    if (spec.done(state)) return state;
    if (Date.now() >= end) {
      const last = spec.describe ? `: oVirt last showed ${spec.describe(state)}` : '';
      throw new UnavailableError('OVIRT_TIMEOUT', `waited ${Math.round(spec.timeoutMs / 1000)} s for ${spec.what}${last}; oVirt may still finish it`, { timeoutSec: Math.round(spec.timeoutMs / 1000) });
    }
    await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(0, end - Date.now()))));
    pause = Math.min(pause * 2, MAX_PAUSE_MS);
  }
}
