// What a watcher knows about a job: one unit per VM (the job itself for a single VM or
// a template, each child for a pool or a list), built from the `snapshot` event and kept
// up to date by `operation`, `state` and `warning` events. Every call returns the changes it made,
// so a view prints only what is new (a reconnect's snapshot does not repeat anything).
// A unit's phase (queued, preparing, starting-appliance, operations, committing: the
// engine's progress.phase) is what a view shows while no operation runs, with its age.
import { FINAL_JOB_STATES } from '../../shared/jobStates';

export interface JobLike {
  id: string;
  kind: string;
  state: string;
  target: { type: string; id: string; name: string; snapshotsWithOldIdentity?: { description: string; date?: string }[] };
  host?: string;
  progress?: { done: number; total: number; current: string; phase?: string; phaseSince?: string };
  steps?: { operation: string; state: string; at: string }[];
  error?: { code: string; message: string; details?: Record<string, unknown> };
  /** A leaf's warnings (`warning:` lines of its run; `field`: what was not applied). */
  warnings?: JobWarningLike[];
  /** A bulk job's children's warnings, counted. */
  warningCount?: number;
  children?: JobLike[];
  childrenTotal?: number;
  /** A bulk job's child: whether it ran in a batch's shared appliance, or alone and why. */
  batch?: { id: string; batched: boolean; aloneReason?: string };
  createdAt?: string;
  startedAt?: string;
  endedAt?: string;
}

export interface JobWarningLike {
  message: string;
  field?: string;
}

export interface JobEventData {
  jobId: string;
  type?: string;
  state: string;
  operation?: string;
  progress?: { done: number; total: number; current: string; phase?: string; phaseSince?: string };
  error?: { code: string; message: string; details?: Record<string, unknown> };
  host?: string;
  warning?: JobWarningLike;
  at?: string;
}

export interface Unit {
  id: string;
  name: string;
  state: string;
  host?: string;
  done: number;
  total: number;
  /** Operations started, in order. */
  operations: string[];
  error?: JobLike['error'];
  /** Warnings seen so far. */
  warnings: JobWarningLike[];
  /** Where the unit is while active (none once it ended), and since when (ISO time). */
  phase?: string;
  phaseSince?: string;
}

export type Change =
  | { kind: 'operation'; unit: Unit; operation: string; /** 1-based position among the unit's operations. */ index: number; at?: string }
  | { kind: 'state'; unit: Unit; at?: string }
  | { kind: 'phase'; unit: Unit; at?: string; /** The phase it left, and since when it was in it. */ previous?: { phase: string; since?: string } }
  | { kind: 'warning'; unit: Unit; warning: JobWarningLike; at?: string }
  | { kind: 'job'; state: string; at?: string };

const FINAL: ReadonlySet<string> = new Set(FINAL_JOB_STATES);
export const isFinalState = (s: string) => FINAL.has(s);
const BULK_KINDS = new Set(['pool', 'bulk', 'room']);

export class JobProgress {
  readonly units = new Map<string, Unit>();
  state = 'pending';
  job: JobLike | undefined;

  constructor(readonly jobId: string) {}

  get bulk(): boolean {
    return this.job ? BULK_KINDS.has(this.job.kind) : false;
  }

  get final(): boolean {
    return isFinalState(this.state);
  }

  snapshot(job: JobLike): Change[] {
    this.job = job;
    const changes: Change[] = [];
    if (BULK_KINDS.has(job.kind)) {
      for (const c of job.children ?? []) changes.push(...this.merge(c, c.steps?.map((s) => s.operation) ?? []));
    } else {
      changes.push(...this.merge(job, job.steps?.map((s) => s.operation) ?? []));
    }
    if (job.state !== this.state) {
      this.state = job.state;
      changes.push({ kind: 'job', state: job.state, at: job.endedAt ?? job.startedAt });
    }
    return changes;
  }

  event(e: JobEventData): Change[] {
    const changes: Change[] = [];
    if (e.jobId === this.jobId && this.bulk) {
      if (e.state !== this.state) {
        this.state = e.state;
        changes.push({ kind: 'job', state: e.state, at: e.at });
      }
      return changes;
    }
    const unit = this.unit(e.jobId, e.jobId);
    // A phase entered is told before the operation that came with it, else after the state.
    let phase: Change[] = [];
    if (e.progress) {
      unit.done = e.progress.done;
      unit.total = Math.max(e.progress.total, unit.total);
      phase = this.phase(unit, e.progress, e.at);
    }
    if (e.host) unit.host = e.host;
    if (e.error) unit.error = e.error;
    if (e.type === 'operation' && e.operation) {
      unit.operations.push(e.operation);
      changes.push(...phase.splice(0), { kind: 'operation', unit, operation: e.operation, index: unit.operations.length, at: e.at });
    }
    if (e.type === 'warning' && e.warning) {
      unit.warnings.push(e.warning);
      changes.push({ kind: 'warning', unit, warning: e.warning, at: e.at });
    }
    if (e.state !== unit.state) {
      unit.state = e.state;
      changes.push({ kind: 'state', unit, at: e.at });
    }
    changes.push(...phase);
    if (e.jobId === this.jobId && e.state !== this.state) {
      this.state = e.state;
      changes.push({ kind: 'job', state: e.state, at: e.at });
    }
    return changes;
  }

  /** The unit's phase from a progress; a change when it entered a new one (not when it left its last). */
  private phase(u: Unit, p: NonNullable<JobLike['progress']>, at?: string): Change[] {
    const phase = p.phase || undefined;
    if (phase === u.phase) return [];
    const previous = u.phase ? { phase: u.phase, since: u.phaseSince } : undefined;
    u.phase = phase;
    u.phaseSince = phase ? p.phaseSince || at : undefined;
    return phase ? [{ kind: 'phase', unit: u, at: u.phaseSince, previous }] : [];
  }

  private unit(id: string, name: string): Unit {
    let u = this.units.get(id);
    if (!u) {
      u = { id, name, state: '', done: 0, total: 0, operations: [], warnings: [] };
      this.units.set(id, u);
    }
    return u;
  }

  private merge(j: JobLike, operations: string[]): Change[] {
    const u = this.unit(j.id, j.target.name);
    u.name = j.target.name;
    const changes: Change[] = [];
    if (j.host) u.host = j.host;
    let phase: Change[] = [];
    if (j.progress) {
      u.done = j.progress.done;
      u.total = Math.max(j.progress.total, u.total);
      phase = this.phase(u, j.progress, j.startedAt ?? j.createdAt);
    }
    if (j.error) u.error = j.error;
    for (const [i, op] of operations.entries()) {
      if (i < u.operations.length) continue;
      u.operations.push(op);
      changes.push(...phase.splice(0), { kind: 'operation', unit: u, operation: op, index: i + 1, at: j.steps?.[i]?.at });
    }
    for (const w of (j.warnings ?? []).slice(u.warnings.length)) {
      u.warnings.push(w);
      changes.push({ kind: 'warning', unit: u, warning: w });
    }
    if (j.state !== u.state) {
      u.state = j.state;
      changes.push({ kind: 'state', unit: u, at: j.endedAt ?? j.startedAt ?? j.createdAt });
    }
    changes.push(...phase);
    return changes;
  }
}

const PHASE_LABELS: Record<string, string> = {
  queued: 'queued',
  preparing: 'preparing disks',
  'starting-appliance': 'starting appliance',
  operations: 'running operations',
  committing: 'committing',
};

/** How a phase reads ("starting-appliance" -> "starting appliance"); an unknown one as it comes. */
export const phaseLabel = (phase: string): string => PHASE_LABELS[phase] ?? phase.replace(/-/g, ' ');

/** Whole seconds from `since` to `until` (ISO times or ms), never negative; undefined when unknown. */
export function secondsBetween(since: string | undefined, until: string | number | undefined = Date.now()): number | undefined {
  const from = since ? Date.parse(since) : NaN;
  const to = typeof until === 'number' ? until : until ? Date.parse(until) : NaN;
  return Number.isNaN(from) || Number.isNaN(to) ? undefined : Math.max(0, Math.round((to - from) / 1000));
}

/** The unit's phase and how long it has been in it: "starting appliance 23 s". */
export function phaseText(u: Unit, now: number = Date.now()): string | undefined {
  if (!u.phase) return undefined;
  const s = secondsBetween(u.phaseSince, now);
  return s === undefined ? phaseLabel(u.phase) : `${phaseLabel(u.phase)} ${s} s`;
}
