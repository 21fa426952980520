// The job record (design.md section 6). A leaf job runs on one agent under the same id
// (the agent's job id = the engine's job id, so a retried dispatch is idempotent); a
// bulk job (pool, list of VMs) has one leaf child per VM and ends succeeded, incomplete,
// failed or partial.
import type { ErrorInfo } from '../../shared/errors';
import { FINAL_JOB_STATES, JobState } from '../../shared/jobStates';
import type { StepState } from '../../shared/endSteps';
import type { JobPhase } from '../../shared/jobPhase';
import type { DiskRef, Vm, VmSnapshot } from '../inventory/Inventory';

export { JOB_STATES } from '../../shared/jobStates';
export type { JobState };
const FINAL: ReadonlySet<JobState> = new Set(FINAL_JOB_STATES);
export const isFinal = (s: JobState) => FINAL.has(s);

/** vm: one VM; pool, bulk, room: one child per VM; template: a seal; auto-reset: on clone or import; inspect: an OS inspection (run by the engine, inspection/InspectionService.ts); sparsify: virt-sparsify --in-place of one VM or template. */
export type JobKind = 'vm' | 'pool' | 'bulk' | 'template' | 'auto-reset' | 'room' | 'inspect' | 'sparsify';

/** What a leaf produced besides its state: a sparsify job's allocated bytes (all its disks). */
export interface JobResult {
  sparsify?: { allocatedBefore: number; allocatedAfter: number; bytesSaved: number };
  /** A member of a batch (issue 16): whether it ran in the batch's shared appliance, or alone and why. */
  batch?: { id: string; batched: boolean; aloneReason?: string };
}

export interface JobTarget {
  type: 'vm' | 'pool' | 'template' | 'vms' | 'room';
  id: string;
  name: string;
  /**
   * A VM's snapshots taken before the job (oVirt regular snapshots): the job resets the
   * active volume only, so these still hold the old identity (reverting to, previewing or
   * cloning from one brings it back). Absent when the VM has none.
   */
  snapshotsWithOldIdentity?: VmSnapshot[];
}

/** A leaf's target: the VM, with the snapshots the job leaves as they are. */
export function vmTarget(vm: Pick<Vm, 'id' | 'name' | 'snapshots'>): JobTarget {
  const target: JobTarget = { type: 'vm', id: vm.id, name: vm.name };
  if (vm.snapshots?.length) target.snapshotsWithOldIdentity = vm.snapshots;
  return target;
}

export type JobErrorInfo = ErrorInfo;

/** A `warning:` line of a leaf's run; `field` (`params.KEY`, `operations.NAME`): what it says was not applied. */
export interface JobWarning {
  message: string;
  field?: string;
}

export interface Progress {
  done: number;
  total: number;
  current: string;
  /** Where an active leaf is (shared/jobPhase.ts); absent on final jobs and bulk parents. */
  phase?: JobPhase;
  /** When that phase began (ISO time). */
  phaseSince?: string;
}

/** A final job's progress: it is in no phase any more. */
export const endedProgress = ({ phase: _phase, phaseSince: _since, ...rest }: Progress): Progress => rest;

export interface Step {
  operation: string;
  /** No final job has a running step (shared/endSteps.ts). */
  state: StepState;
  at: string;
  /** Why an engine step (a room's follow-up) failed; the agent's steps carry none. */
  message?: string;
}

/** What a leaf was asked to do, as stored: secrets replaced by {"redacted": true}. */
export interface JobRequest {
  profile?: string;
  params: Record<string, unknown>;
  mode: 'safe' | 'in_place';
  dryRun: boolean;
  /** Bulk only: the VMs asked for. */
  vms?: string[];
  /** A room's child: what the engine does once the leaf ended (engine-plugin/rooms/RoomFollowUp.ts). */
  followUp?: FollowUp;
}

/**
 * The steps after a room's leaf, recorded on the leaf's `steps` as they run: `release`
 * (the clone's hold, always), then on success `snapshot` (with this description) and
 * `start` when asked. A step not run is recorded `skipped`.
 */
export interface FollowUp {
  snapshotDescription: string;
  start: boolean;
}

export interface Job {
  id: string;
  parentId?: string;
  kind: JobKind;
  target: JobTarget;
  state: JobState;
  host?: string;
  requestedBy: string;
  profile?: string;
  request: JobRequest;
  operations: string[];
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  progress: Progress;
  steps: Step[];
  error?: JobErrorInfo;
  /** Leaves: the run's warnings, in order (absent: none). */
  warnings?: JobWarning[];
  /** Bulk jobs: how many warnings their children have in all (absent: none). */
  warningCount?: number;
  /** A succeeded sparsify job: the bytes it freed. */
  result?: JobResult;
  /** Bulk jobs: the first children (all of them up to the asked limit) ... */
  children?: ChildSummary[];
  /** ... and how many there are in all (page through GET /jobs/{id}/children). */
  childrenTotal?: number;
}

export interface ChildSummary {
  id: string;
  target: JobTarget;
  state: JobState;
  host?: string;
  progress: Progress;
  error?: JobErrorInfo;
  /** How many warnings it has (absent: none). */
  warningCount?: number;
  /** Whether it ran in a batch's shared appliance, or alone and why (absent: not a batch member). */
  batch?: JobResult['batch'];
  startedAt?: string;
  endedAt?: string;
}

/** A leaf as the dispatcher sees it. */
export interface LeafJob extends Job {
  disks: DiskRef[];
  /** Key of what it works on (`vm:ID` / `template:ID`): never two active jobs per key. */
  vmKey: string;
  hasSecrets: boolean;
  dispatched: boolean;
  cancelRequested: boolean;
  agentSeq: number;
}
