// The agent's job record and event, shaped like the wire messages (shared/wireTypes)
// so the gRPC layer returns them as they are.
import { FINAL_WIRE_STATES } from '../../shared/jobStates';
import type { BatchOutcome, Job, JobEvent, Warning } from '../../shared/wireTypes';

export type JobStateName = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'INCOMPLETE' | 'FAILED' | 'CANCELLING' | 'CANCELLED';
export type ModeName = 'SAFE' | 'IN_PLACE';

export type JobAction = 'sysprep' | 'sparsify';

export interface JobRecord extends Omit<Job, 'state' | 'mode' | 'warnings' | 'action' | 'sparsify' | 'batch'> {
  state: JobStateName;
  mode: ModeName;
  /** The run's warnings (absent in a journal written before there were any). */
  warnings?: Warning[];
  /** Absent in journals written before sparsify existed: sysprep. */
  action?: JobAction;
  /** A succeeded sparsify job: what it freed (bytes as decimal strings, like the wire's uint64). */
  sparsify?: { allocatedBefore: string; allocatedAfter: string; bytesSaved: string } | null;
  /** A member of a batch (issue 16): how it was run (absent: not a batch member). */
  batch?: BatchOutcome | null;
  /** Customisation keys requested (never their values). */
  paramKeys: string[];
  timeoutSec: number;
  /** Process group of the running virt-sysprep (to stop an orphan after a crash). */
  toolPid?: number;
}

export interface JobEventRecord extends Omit<JobEvent, 'state' | 'warning' | 'sparsify' | 'batch'> {
  state: JobStateName;
  /** On a `warning` event. */
  warning?: Warning | null;
  /** Only on a succeeded sparsify job's final event. */
  sparsify?: JobRecord['sparsify'];
  /** Only on a batch member's final event (JobRecord.batch). */
  batch?: JobRecord['batch'];
}

export const FINAL: ReadonlySet<JobStateName> = FINAL_WIRE_STATES;
