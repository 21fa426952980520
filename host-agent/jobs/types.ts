// The agent's job record and event, shaped like the wire messages (shared/wireTypes)
// so the gRPC layer returns them as they are.
import { FINAL_WIRE_STATES } from '../../shared/jobStates';
import type { Job, JobEvent, Warning } from '../../shared/wireTypes';

export type JobStateName = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'INCOMPLETE' | 'FAILED' | 'CANCELLING' | 'CANCELLED';
export type ModeName = 'SAFE' | 'IN_PLACE';

export interface JobRecord extends Omit<Job, 'state' | 'mode' | 'warnings'> {
  state: JobStateName;
  mode: ModeName;
  /** The run's warnings (absent in a journal written before there were any). */
  warnings?: Warning[];
  /** Customisation keys requested (never their values). */
  paramKeys: string[];
  timeoutSec: number;
  /** Process group of the running virt-sysprep (to stop an orphan after a crash). */
  toolPid?: number;
}

export interface JobEventRecord extends Omit<JobEvent, 'state' | 'warning'> {
  state: JobStateName;
  /** On a `warning` event. */
  warning?: Warning | null;
}

export const FINAL: ReadonlySet<JobStateName> = FINAL_WIRE_STATES;
