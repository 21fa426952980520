// The one owner of the engine's job records: the only module that writes the job store
// and publishes on the job bus. Every state change goes through the transition tables
// (JobTransitions.ts); an illegal one is refused and logged, never written.
//
// Steps of a leaf:
//  1. created (JobService plans it, this stores it);
//  2. its host recorded, then marked dispatched (the dispatcher tells us);
//  3. while the dispatcher follows it on its agent (follow()), each agent event moves
//     its live record (state, progress, steps, seq) and is published;
//     A `warning` event adds to its warnings (stored, published as `warning`);
//  4. it ends once (finishLeaf): succeeded, incomplete, failed or cancelled, with its error.
// A bulk parent is never run: its state is the aggregate of its children's (a tally
// kept in memory, read back from the store after a restart), started when the first
// child runs, ended when the last child ends.
//
// A cancel request is written at once (a restart must not lose it) and returns the
// leaves the dispatcher must stop; their ending comes back here like any other.
import { inject, injectable } from 'tsyringe';
import { asStepState, endSteps, stepEndOf } from '../../shared/endSteps';
import { parseDetails } from '../../shared/grpc';
import type { Job as AgentJob, JobEvent as AgentEvent } from '../../shared/wireTypes';
import { Logger } from '../logger';
import { Slicer } from '../slicer';
import type { Job, JobErrorInfo, JobResult, JobState, JobWarning, LeafJob, Progress, Step } from './Job';
import { endedProgress, isFinal } from './Job';
import { agentProgress } from './agentProgress';
import { JobBus, JobEventMessage } from './JobBus';
import { JobStore, NewJob } from './JobStore';
import { JobTransition, LEAF_TRANSITIONS, nextState, PARENT_TRANSITIONS, TransitionTable } from './JobTransitions';

/** What the agent reports of a leaf the dispatcher follows. */
export interface LiveLeaf {
  state: JobState;
  progress: Progress;
  steps: Step[];
  seq: number;
  warnings: JobWarning[];
}

/** The agent's state names as transitions of the leaf. */
const AGENT_TRANSITION: Record<string, JobTransition> = {
  JOB_STATE_UNSPECIFIED: 'queued',
  PENDING: 'queued',
  RUNNING: 'started',
  CANCELLING: 'cancel',
  SUCCEEDED: 'succeeded',
  INCOMPLETE: 'incomplete',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
};

function agentError(e: AgentJob['error'] | AgentEvent['error']): JobErrorInfo | undefined {
  if (!e || !e.code) return undefined;
  const details = parseDetails(e.detailsJson);
  if (e.logPath) details.logPath = e.logPath;
  return { code: e.code, message: e.message, details };
}

/** A wire Warning as the job records it (an empty field is none). */
const jobWarning = (w: { message: string; field: string }): JobWarning => (w.field ? { message: w.message, field: w.field } : { message: w.message });
/** What an ended leaf produced, from the agent's final record or event: a sparsify job's bytes (uint64 as decimal strings on the wire), a batch member's outcome. */
function agentResult({ sparsify: s, batch: b }: Pick<AgentJob, 'sparsify' | 'batch'> | Pick<AgentEvent, 'sparsify' | 'batch'>): JobResult | undefined {
  const result: JobResult = {
    ...(s ? { sparsify: { allocatedBefore: Number(s.allocatedBefore), allocatedAfter: Number(s.allocatedAfter), bytesSaved: Number(s.bytesSaved) } } : {}),
    ...(b?.id ? { batch: { id: b.id, batched: b.batched, ...(b.aloneReason ? { aloneReason: b.aloneReason } : {}) } } : {}),
  };
  return Object.keys(result).length ? result : undefined;
}

interface Tally {
  total: number;
  succeeded: number;
  incomplete: number;
  failed: number;
  cancelled: number;
  state: JobState;
  startedAt: string | null;
}

const progressOf = (t: Tally): Progress => ({
  done: t.succeeded + t.incomplete + t.failed + t.cancelled,
  total: t.total,
  current: `${t.succeeded} succeeded, ` + (t.incomplete ? `${t.incomplete} incomplete, ` : '') + `${t.failed} failed` + (t.cancelled ? `, ${t.cancelled} cancelled` : ''),
});

/** Children a bulk cancel reads at a time. */
const CANCEL_PAGE = 500;

type Ending = 'succeeded' | 'incomplete' | 'failed' | 'cancelled';
const isEnding = (e: JobTransition | undefined): e is Ending => e === 'succeeded' || e === 'incomplete' || e === 'failed' || e === 'cancelled';

@injectable()
export class JobLifecycle {
  /** Bulk jobs' aggregates, loaded from the store once per parent, then kept here. */
  private readonly tallies = new Map<string, Tally>();
  /** Leaves the dispatcher follows on their agent. */
  private readonly live = new Map<string, LiveLeaf>();

  constructor(
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobBus) private readonly bus: JobBus,
    @inject(Logger) private readonly log: Logger,
  ) {}

  // ---- creation ------------------------------------------------------------------

  created(job: NewJob): void {
    this.store.insert([job]);
  }

  /** A bulk job: its children first, a page at a time, the parent last (JobStore.insertChildren). */
  createdChildren(children: readonly NewJob[]): Promise<void> {
    return this.store.insertChildren(children);
  }

  createdParent(parent: NewJob): void {
    this.store.insert([parent]);
  }

  /** A bulk job refused before its parent was stored: its children go. */
  abandonedChildren(parentId: string): void {
    this.store.removeChildren(parentId);
  }

  /** A whole bulk job at once (createdChildren, then createdParent). */
  async createdBulk(parent: NewJob, children: NewJob[]): Promise<void> {
    await this.createdChildren(children);
    this.createdParent(parent);
  }

  /** Runs `fn` (many small writes of this module) in one transaction. */
  batch<T>(fn: () => T): T {
    return this.store.batch(fn);
  }

  /** On start: bring bulk jobs whose children ended while the engine was down up to date. */
  reconcileParents(): void {
    for (const p of this.store.activeParents()) this.childEnded(p.id);
  }

  // ---- leaves --------------------------------------------------------------------

  /** The host chosen for the leaves, recorded before any call so a restart asks the same agent. */
  assignHosts(leaves: readonly LeafJob[], hostId: string): void {
    const moved = leaves.filter((l) => l.host !== hostId);
    if (!moved.length) return;
    this.store.setHost(moved.map((l) => l.id), hostId);
    for (const l of moved) l.host = hostId;
  }

  /** The agent has the job (StartSysprep answered, or GetJob found it). */
  dispatched(leaf: LeafJob): void {
    this.store.markDispatched(leaf);
    leaf.dispatched = true;
  }

  /** Starts following the leaf on its agent: a fresh live record from what is stored. */
  follow(leaf: LeafJob): LiveLeaf {
    const live: LiveLeaf = { state: leaf.state, progress: leaf.progress, steps: leaf.steps, seq: leaf.agentSeq, warnings: leaf.warnings ?? [] };
    this.live.set(leaf.id, live);
    return live;
  }

  unfollow(leaf: LeafJob): void {
    this.live.delete(leaf.id);
  }

  /** Applies one agent event to a followed leaf; true when the leaf is final. */
  agentEvent(leaf: LeafJob, ev: AgentEvent): boolean {
    const live = this.live.get(leaf.id) ?? this.follow(leaf);
    live.seq = Math.max(live.seq, ev.seq);
    if (ev.progress) live.progress = agentProgress(ev.progress, live.progress);
    if (ev.type === 'operation' && ev.operation) {
      for (const s of live.steps) if (s.state === 'running') s.state = 'done';
      if (!live.steps.some((s) => s.operation === ev.operation)) live.steps.push({ operation: ev.operation, state: 'running', at: ev.at });
    }
    // The tool exited 0: its last operation is done even if the commit then fails.
    if (live.progress.phase === 'committing') live.steps = endSteps(live.steps, 'done');
    if (ev.type === 'warning' && ev.warning) {
      // Stored with its seq: a reconnect asks only for the events after it, so none comes twice.
      const warning = jobWarning(ev.warning);
      live.warnings = [...live.warnings, warning];
      this.store.setWarnings(leaf, live.warnings);
      this.store.setProgress(leaf, live.progress, live.steps, live.seq);
      this.publish(leaf, { type: 'warning', state: live.state, warning, progress: live.progress, at: ev.at });
      return false;
    }
    const event = AGENT_TRANSITION[ev.state];
    const next = (event && this.next(LEAF_TRANSITIONS, leaf.id, live.state, event)) || live.state;
    if (isFinal(next)) {
      const result = agentResult(ev);
      if (result) this.store.setResult(leaf, result);
      this.finishLeaf(leaf, next as Ending, agentError(ev.error));
      return true;
    }
    if (next !== live.state) this.store.setState(leaf, next, ev.at);
    live.state = next;
    this.store.setProgress(leaf, live.progress, live.steps, live.seq);
    if (next === 'running' && leaf.parentId) this.parentStarted(leaf.parentId);
    this.publish(leaf, { type: ev.type === 'operation' ? 'operation' : 'state', state: live.state, operation: ev.operation || undefined, progress: live.progress, at: ev.at });
    return false;
  }

  /** The agent's record of a leaf it already had (a repeated start); true when it had ended. */
  agentRecord(leaf: LeafJob, job: AgentJob): boolean {
    const event = AGENT_TRANSITION[job.state];
    if (!isEnding(event)) return false;
    const live = this.live.get(leaf.id) ?? this.follow(leaf);
    live.steps = job.steps.map((s) => ({ operation: s.operation, state: asStepState(s.state), at: s.at }));
    // The agent's record has every warning (the engine may have missed events).
    if (job.warnings?.length) {
      live.warnings = job.warnings.map(jobWarning);
      this.store.setWarnings(leaf, live.warnings);
    }
    if (job.progress) live.progress = agentProgress(job.progress, live.progress);
    const result = agentResult(job);
    if (result) this.store.setResult(leaf, result);
    this.finishLeaf(leaf, event, agentError(job.error));
    return true;
  }

  /** Ends a leaf once: a second ending (a late cancel, an agent's replay) is ignored. */
  finishLeaf(leaf: LeafJob, state: Ending, error: JobErrorInfo | undefined): void {
    if (this.store.hasEnded(leaf.id)) return;
    const live = this.live.get(leaf.id);
    if (!this.next(LEAF_TRANSITIONS, leaf.id, live?.state ?? leaf.state, state)) return;
    this.live.delete(leaf.id);
    const at = new Date().toISOString();
    const steps = endSteps(live?.steps ?? leaf.steps, stepEndOf(state));
    const progress = endedProgress(live?.progress ?? leaf.progress);
    if (state === 'succeeded' || state === 'incomplete') progress.done = progress.total = Math.max(progress.total, steps.length);
    this.store.finish(leaf, state, at, error, progress, steps, live?.seq ?? 0);
    leaf.state = state;
    // The child's own subscribers (and its parent's stream) see its ending before the
    // parent's: a parent's stream closes at the parent's final state.
    this.publish(leaf, { type: 'state', state, progress, error, at }, true);
    if (leaf.parentId) this.childEnded(leaf.parentId, state);
  }

  /**
   * A step the engine runs after an ended leaf (a room's release, snapshot, start:
   * rooms/RoomFollowUp.ts): added to or updated in the leaf's steps; a new one is
   * published as an operation event on the leaf (and its parent's stream), as the
   * agent's operations are. The leaf's state stays.
   */
  followUpStep(leafId: string, step: Step): void {
    const leaf = this.store.leaf(leafId);
    if (!leaf) return;
    const known = leaf.steps.some((s) => s.operation === step.operation);
    this.store.setSteps(leaf, [...leaf.steps.filter((s) => s.operation !== step.operation), step]);
    if (!known) this.publish(leaf, { type: 'operation', state: leaf.state, operation: step.operation, at: step.at });
  }

  // ---- cancel --------------------------------------------------------------------

  /**
   * Records a cancel request of a job that has not ended and hands `stop` the leaves to
   * stop: the leaf itself, or the parent's children that have not ended, a page at a time
   * (a 100,000-VM pool is never read whole), giving way to the API between pages.
   */
  async requestCancel(job: Job, stop: (leaves: LeafJob[]) => Promise<unknown>): Promise<void> {
    const leaf = this.store.leaf(job.id);
    if (leaf) {
      this.cancelLeaf(leaf);
      await stop([leaf]);
      return;
    }
    this.store.requestCancel(job.id);
    const t = this.tallies.get(job.id);
    if (t) t.state = this.next(PARENT_TRANSITIONS, job.id, t.state, 'cancel') ?? t.state;
    this.bus.publish({ jobId: job.id, type: 'state', state: 'cancelling', at: new Date().toISOString() });
    const slicer = new Slicer();
    for (let page = { after: 0, more: true }; page.more; ) {
      const children = this.store.activeChildren(job.id, page.after, CANCEL_PAGE);
      this.batch(() => children.leaves.forEach((c) => this.cancelLeaf(c)));
      await stop(children.leaves);
      await slicer.pause();
      page = children;
    }
  }

  private cancelLeaf(leaf: LeafJob): void {
    if (isFinal(leaf.state)) return;
    this.store.requestCancel(leaf.id);
    const live = this.live.get(leaf.id);
    if (live) live.state = this.next(LEAF_TRANSITIONS, leaf.id, live.state, 'cancel') ?? live.state;
    this.publish(leaf, { type: 'state', state: 'cancelling' });
  }

  // ---- bulk aggregation ----------------------------------------------------------

  /** The parent's aggregate; `fresh` when just read from the store (it counts every ended child). */
  private tally(parentId: string): { t?: Tally; fresh: boolean } {
    const known = this.tallies.get(parentId);
    if (known) return { t: known, fresh: false };
    const parent = this.store.header(parentId);
    if (!parent || isFinal(parent.state)) return { fresh: true };
    const counts = this.store.childStateCounts(parentId);
    const n = (s: JobState) => counts.get(s) ?? 0;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const t: Tally = { total, succeeded: n('succeeded'), incomplete: n('incomplete'), failed: n('failed'), cancelled: n('cancelled'), state: parent.state, startedAt: parent.startedAt ?? null };
    this.tallies.set(parentId, t);
    return { t, fresh: true };
  }

  private parentStarted(parentId: string): void {
    const { t } = this.tally(parentId);
    if (t?.state !== 'pending') return;
    const now = new Date().toISOString();
    t.state = this.next(PARENT_TRANSITIONS, parentId, t.state, 'started') ?? t.state;
    t.startedAt ??= now;
    this.store.updateParent(parentId, t.state, t.startedAt, null, progressOf(t));
    this.bus.publish({ jobId: parentId, type: 'state', state: t.state, at: now });
  }

  private childEnded(parentId: string, state?: Ending): void {
    const { t, fresh } = this.tally(parentId);
    if (!t) return;
    // A fresh tally was read from the store and already counts this child.
    if (!fresh && state) t[state]++;
    const now = new Date().toISOString();
    const progress = progressOf(t);
    if (progress.done < t.total) {
      t.state = this.next(PARENT_TRANSITIONS, parentId, t.state, 'started') ?? t.state;
      t.startedAt ??= now;
      this.store.updateParent(parentId, t.state, t.startedAt, null, progress);
      return;
    }
    // Incomplete children were committed: with the succeeded ones they make the parent
    // incomplete; next to failures they count as done for `partial`.
    const committed = t.succeeded + t.incomplete;
    let ending: JobTransition;
    if (t.succeeded === t.total) ending = 'succeeded';
    else if (committed === t.total) ending = 'incomplete';
    else if (committed > 0) ending = 'partial';
    else if (t.state === 'cancelling') ending = 'cancelled';
    else ending = 'failed';
    const final = this.next(PARENT_TRANSITIONS, parentId, t.state, ending);
    this.tallies.delete(parentId);
    if (!final) return;
    const error: JobErrorInfo | undefined =
      final === 'succeeded' || final === 'incomplete' ? undefined : { code: final === 'partial' ? 'SOME_VMS_FAILED' : final === 'cancelled' ? 'CANCELLED' : 'ALL_VMS_FAILED', message: `${t.total - committed} of ${t.total} VMs did not succeed`, details: { failed: t.failed, cancelled: t.cancelled, ...(t.incomplete ? { incomplete: t.incomplete } : {}) } };
    this.store.updateParent(parentId, final, t.startedAt ?? now, now, progress, error);
    this.log.info('bulk job ended', { jobId: parentId, state: final, ...progress });
    this.bus.publish({ jobId: parentId, type: 'state', state: final, progress, error, at: now });
  }

  // ---------------------------------------------------------------------------------

  /** The table's next state; an illegal transition is logged and answered undefined. */
  private next(table: TransitionTable, jobId: string, from: JobState, event: JobTransition): JobState | undefined {
    const to = nextState(table, from, event);
    if (to === undefined) this.log.warn('illegal job transition refused', { jobId, from, event });
    return to;
  }

  private publish(leaf: LeafJob, e: Omit<JobEventMessage, 'jobId' | 'at'> & { at?: string }, final = false): void {
    this.bus.publish({ ...e, jobId: leaf.id, host: leaf.host, kind: leaf.kind, at: e.at ?? new Date().toISOString() }, leaf.parentId, final);
  }
}
