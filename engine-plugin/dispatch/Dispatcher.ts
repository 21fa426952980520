// The dispatcher runs leaf jobs on host agents: it queues them and talks to the agents.
// Every change of a job's record (host, dispatched, state, progress, ending) is asked of
// JobLifecycle, the one owner of the job store and the bus.
//
// Protocol of one leaf:
//  0. a new leaf waits in the store (the backlog: pending, no host) until the host queues
//     have room (window(): a few hundred leaves, whatever the size of the pool); pages of
//     the backlog are taken in creation order, so the engine's memory does not grow with
//     the number of VMs in flight;
//  1. choose a host (HostSelector: a healthy agent whose storage roots hold every disk
//     of the VM, the VM's own host first, then the least loaded), and RECORD it on the
//     job before any call, so a restarted engine asks the same agent again;
//  2. queue per host; at most `limit(host)` slots in flight per host, and never two
//     leaves of the same VM at once (the VM key stays busy until the leaf ends). A slot is
//     one appliance: one leaf, or a BATCH of up to batchLimit(host) queued leaves that
//     may share one (safe mode, sysprep, not a dry run), started together with one
//     BatchRef; the agent decides per VM whether it really shares (host-agent/batch/);
//  3. StartSysprep (on the agent's one start stream, AgentStarter) with the engine's
//     job id as the agent's job id: the agent answers a repeated start with the
//     existing job, so a retry never runs a VM twice;
//     an unreachable agent (UNAVAILABLE) is failed over: its queue moves to another
//     agent that sees the same storage;
//  4. the agent's one event stream (AgentEventStream: WatchJobs, replay after the last
//     seen seq, then live) mirrors the job's events into the job record and the bus
//     until the final state; the follower is registered before StartSysprep so no
//     event is missed, and after agent_lost_timeout_sec out of reach the leaf fails
//     AGENT_LOST.
//
// Secrets (passwords, scripts) are held only in memory until the agent has the job.
// After an engine restart, a leaf whose secrets were lost before the agent got it
// fails with SECRETS_LOST; every other leaf is reconciled and goes on (resume()).
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { Params } from '../../shared/catalog/customizations';
import type { OperationInfo } from '../../shared/catalog/operations';
import { UnavailableError, asSysprepError } from '../../shared/errors';
import { toWireParams } from '../../shared/wireParams';
import type { Job as AgentJob, BatchRef } from '../../shared/wireTypes';
import { EngineConfig } from '../config';
import type { DiskRef } from '../inventory/Inventory';
import type { LeafJob } from '../jobs/Job';
import { isFinal } from '../jobs/Job';
import { JobLifecycle } from '../jobs/JobLifecycle';
import type { JobRunner } from '../jobs/JobRunner';
import { JobStore } from '../jobs/JobStore';
import { Logger } from '../logger';
import { AgentPool, AgentState } from './AgentPool';
import { HostSelector } from './HostSelector';

@injectable()
export class Dispatcher implements JobRunner {
  private readonly queues = new Map<string, LeafJob[]>();
  /** Leaves in flight per host (the hosts listing), and slots (appliances) in use. */
  private readonly inFlight = new Map<string, number>();
  private readonly slots = new Map<string, number>();
  /** Hosts whose pump waits for more leaves to batch (pumpSoon). */
  private readonly gathering = new Set<string>();
  private readonly busy = new Set<string>();
  private readonly running = new Map<string, { leaf: LeafJob; hostId: string; abort: AbortController }>();
  private readonly secrets = new Map<string, Params>();
  /** The backlog's read (admit()): where it goes on, the hosts it found dry, what the current pass saw. */
  private readonly backlog: { after: number; dry: Set<string>; pass?: { room: Set<string>; skipped: Set<string> } } = { after: 0, dry: new Set() };
  private admitting = false;
  private ticker?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobLifecycle) private readonly lifecycle: JobLifecycle,
    @inject(AgentPool) private readonly agents: AgentPool,
    @inject(HostSelector) private readonly hosts: HostSelector,
    @inject(EngineConfig) private readonly config: EngineConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  /**
   * New leaves are stored (pending, no host): take them from the backlog. `secrets` maps
   * a leaf id to its secret params, held in memory until the agent has the leaf.
   */
  submit(secrets?: Map<string, Params>): void {
    for (const [id, s] of secrets ?? []) if (Object.keys(s).length) this.secrets.set(id, s);
    // From the start: a bulk job's children were stored before the leaves taken since.
    this.backlog.after = 0;
    this.backlog.dry.clear();
    this.admitSoon();
  }

  operations(): OperationInfo[] {
    return this.agents.operations();
  }

  checkCanRun(disks: DiskRef[], preferHost: string | undefined, needsSpace: boolean): void {
    this.hosts.checkCanRun(disks, preferHost, needsSpace);
  }

  /** After a restart: reconcile every leaf the dispatcher had taken with its agent and go on, then take the backlog. */
  resume(): void {
    for (let page = { after: 0, more: true }; page.more; ) {
      const taken = this.store.taken(page.after, ADMIT_PAGE);
      for (const leaf of taken.leaves) {
        const hostId = leaf.host;
        if (leaf.cancelRequested && !leaf.dispatched) {
          this.lifecycle.finishLeaf(leaf, 'cancelled', undefined);
        } else if (hostId && leaf.dispatched) {
          this.log.info('resuming a dispatched job', { jobId: leaf.id, hostId });
          void this.execute(leaf, hostId);
        } else {
          this.enqueue(leaf);
        }
      }
      page = taken;
    }
    this.submit();
    // Also read when nothing ends: an agent back in service takes the backlog's leaves.
    this.ticker ??= setInterval(() => this.admitSoon(), ADMIT_TICK_MS).unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.ticker);
    for (const r of this.running.values()) r.abort.abort();
  }

  /** Stops a leaf whose cancel is recorded (JobLifecycle.requestCancel): dropped from its queue, or cancelled on its agent. */
  async cancel(leaf: LeafJob): Promise<void> {
    const running = this.running.get(leaf.id);
    if (!running) {
      for (const q of this.queues.values()) {
        const i = q.findIndex((l) => l.id === leaf.id);
        if (i >= 0) q.splice(i, 1);
      }
      this.lifecycle.finishLeaf(this.store.leaf(leaf.id)!, 'cancelled', undefined);
      return;
    }
    running.leaf.cancelRequested = true;
    const agent = this.agents.get(running.hostId);
    try {
      await agent?.client.cancelJob(leaf.id);
    } catch (err) {
      // Not there yet (StartSysprep in flight): execute() cancels right after it lands.
      if (asSysprepError(err).kind !== 'not-found') this.log.warn('cancel on agent failed', { jobId: leaf.id, error: (err as Error).message });
    }
  }

  /** Jobs queued or in flight per host (the hosts listing shows it). */
  load(hostId: string): { queued: number; running: number } {
    return { queued: this.queues.get(hostId)?.length ?? 0, running: this.inFlight.get(hostId) ?? 0 };
  }

  // ---------------------------------------------------------------------------------

  /**
   * Each host's queue holds at most window(host) leaves: twice what its agent can start at
   * once (every slot a full batch), at least MIN_WINDOW. Per-VM state stays in the store,
   * and a 100,000-VM pool costs the engine the memory of a few hundred leaves per host.
   * When a healthy host's queue is below half its window, the backlog is read a page of
   * ADMIT_PAGE leaves per turn of the event loop, in creation order: a leaf goes to the
   * host HostSelector chooses among those with room, or, when every host that serves it
   * is full, stays in the backlog for a later read, so one host's long backlog never
   * holds up another's leaves. A read that went from the first leaf to the last while a
   * host had room throughout placed every leaf it serves: that host is `dry` (not read
   * for) until new leaves are submitted.
   */
  private window(hostId: string): number {
    return Math.max(MIN_WINDOW, 2 * this.agents.limit(hostId) * Math.max(1, this.agents.batchLimit(hostId)));
  }

  private queued(hostId: string): number {
    return this.queues.get(hostId)?.length ?? 0;
  }

  /** A host's leaves queued and in flight: what HostSelector balances. */
  private readonly hostLoad = (hostId: string): number => this.queued(hostId) + (this.inFlight.get(hostId) ?? 0);

  private admitSoon(): void {
    if (this.admitting || this.stopped) return;
    this.admitting = true;
    setImmediate(() => {
      this.admitting = false;
      this.admit();
    });
  }

  private admit(): void {
    if (this.stopped) return;
    const read = this.backlog;
    const hosts = this.agents.all().filter((a) => a.healthy).map((a) => a.host.id);
    if (!hosts.some((h) => !read.dry.has(h) && this.queued(h) < this.window(h) / 2)) return; // an ending leaf asks again
    const full = new Set(hosts.filter((h) => this.queued(h) >= this.window(h)));
    if (read.after === 0) read.pass = { room: new Set(hosts.filter((h) => !full.has(h))), skipped: new Set() };
    let room = 0;
    for (const h of hosts) room += Math.max(0, this.window(h) - this.queued(h));
    const page = this.store.backlog(read.after, Math.min(ADMIT_PAGE, room));
    const pumped = new Map<string, LeafJob[]>(); // host -> the leaves placed on it now
    this.lifecycle.batch(() => {
      for (const leaf of page.leaves) {
        // A host with room, else the leaf waits in the backlog while a full host serves it.
        const agent = this.hosts.choose(leaf.disks, leaf.host, this.hostLoad, full);
        if (!agent && full.size && this.hosts.choose(leaf.disks, leaf.host, this.hostLoad)) {
          for (const h of full) read.pass?.skipped.add(h);
          continue;
        }
        const host = this.place(leaf, agent, false, pumped);
        if (!host) continue;
        if (this.queued(host) >= this.window(host)) full.add(host);
      }
      // Their hosts recorded in one write per host, before any agent is called.
      for (const [host, leaves] of pumped) this.lifecycle.assignHosts(leaves, host);
    });
    // A page is queued whole before its hosts are pumped, so its VMs can be batched.
    for (const host of pumped.keys()) this.pump(host);
    if (page.more) {
      read.after = page.after;
    } else {
      // The end of the backlog: a host that had room from the start of this read to its
      // end, and no leaf skipped for it, took every leaf it serves.
      for (const h of read.pass?.room ?? []) if (!read.pass!.skipped.has(h) && this.queued(h) < this.window(h)) read.dry.add(h);
      read.after = 0;
    }
    this.admitSoon();
  }

  /** Queues a leaf on its host (pumped unless `pump` is false) and returns the host; undefined when no agent serves it (the leaf failed). */
  private enqueue(leaf: LeafJob, exclude?: Set<string>, pump = true): string | undefined {
    // A leaf with a recorded host may already be known to that agent: keep it there.
    const agent = leaf.host && !exclude?.has(leaf.host) ? this.agents.get(leaf.host) : this.hosts.choose(leaf.disks, leaf.host, this.hostLoad, exclude);
    return this.place(leaf, agent, pump);
  }

  /** The leaf on `agent`'s queue, its host recorded (or left to the caller, who collects the
   *  leaves per host in `deferred`); without an agent the leaf fails NO_AGENT. */
  private place(leaf: LeafJob, agent: AgentState | undefined, pump: boolean, deferred?: Map<string, LeafJob[]>): string | undefined {
    if (!agent) {
      this.lifecycle.finishLeaf(leaf, 'failed', new UnavailableError('NO_AGENT', `no reachable host agent sees the disks of ${leaf.target.type} "${leaf.target.name}"`, { disks: leaf.disks.map((d) => d.path) }).toJSON());
      return undefined;
    }
    if (!deferred) this.lifecycle.assignHosts([leaf], agent.host.id);
    else if (deferred.has(agent.host.id)) deferred.get(agent.host.id)!.push(leaf);
    else deferred.set(agent.host.id, [leaf]);
    const q = this.queues.get(agent.host.id) ?? [];
    this.queues.set(agent.host.id, q);
    q.push(leaf);
    if (pump) this.pumpSoon(agent.host.id);
    return agent.host.id;
  }

  /**
   * Pumps at once, or, on a host that takes batches, after BATCH_GATHER_MS: leaves that
   * arrive one request at a time (the automatic resets of a new pool's clones) then share
   * an appliance too. A bulk request's leaves are queued together (submit) and need no wait.
   */
  private pumpSoon(hostId: string): void {
    if (this.agents.batchLimit(hostId) <= 1) return this.pump(hostId);
    if (this.gathering.has(hostId)) return;
    this.gathering.add(hostId);
    setTimeout(() => {
      this.gathering.delete(hostId);
      this.pump(hostId);
    }, BATCH_GATHER_MS).unref();
  }

  private pump(hostId: string): void {
    if (this.stopped) return;
    const q = this.queues.get(hostId);
    if (!q) return;
    while ((this.slots.get(hostId) ?? 0) < this.agents.limit(hostId)) {
      const group = this.takeGroup(q, this.agents.batchLimit(hostId));
      if (group.length === 0) return;
      const slot = { members: group.length };
      this.slots.set(hostId, (this.slots.get(hostId) ?? 0) + 1);
      const batch: BatchRef | undefined = group.length > 1 ? { id: randomUUID(), size: group.length } : undefined;
      for (const leaf of group) void this.execute(leaf, hostId, slot, batch);
    }
  }

  /**
   * The next leaves to start in one slot, taken off the queue: the first startable leaf,
   * and when it may share an appliance, the next startable leaves that may too (up to
   * `max`). Ended leaves are dropped; a leaf whose VM is busy waits its turn.
   */
  private takeGroup(q: LeafJob[], max: number): LeafJob[] {
    const group: LeafJob[] = [];
    for (let i = 0; i < q.length && group.length < max; ) {
      const leaf = q[i];
      if (isFinal(leaf.state)) {
        q.splice(i, 1);
        continue;
      }
      const fits = group.length === 0 || (batchable(group[0]) && batchable(leaf) && !group.some((g) => g.vmKey === leaf.vmKey));
      if (this.busy.has(leaf.vmKey) || !fits) {
        i++;
        continue;
      }
      q.splice(i, 1);
      group.push(leaf);
      if (!batchable(leaf)) break;
    }
    return group;
  }

  /** Runs one leaf in `slot` (pump counted it; a resumed leaf takes a slot of its own), the slot freed by its last member. */
  private async execute(leaf: LeafJob, hostId: string, slot?: { members: number }, batch?: BatchRef): Promise<void> {
    if (!slot) {
      slot = { members: 1 };
      this.slots.set(hostId, (this.slots.get(hostId) ?? 0) + 1);
    }
    const abort = new AbortController();
    this.running.set(leaf.id, { leaf, hostId, abort });
    this.busy.add(leaf.vmKey);
    this.inFlight.set(hostId, (this.inFlight.get(hostId) ?? 0) + 1);
    try {
      await this.runOn(leaf, hostId, abort.signal, batch);
    } catch (err) {
      if (!this.stopped) {
        const e = asSysprepError(err);
        this.log.error('job failed in the dispatcher', { jobId: leaf.id, hostId, error: e.message });
        this.lifecycle.finishLeaf(this.store.leaf(leaf.id) ?? leaf, 'failed', e.toJSON());
      }
    } finally {
      this.running.delete(leaf.id);
      this.busy.delete(leaf.vmKey);
      this.inFlight.set(hostId, (this.inFlight.get(hostId) ?? 1) - 1);
      if (--slot.members === 0) this.slots.set(hostId, (this.slots.get(hostId) ?? 1) - 1);
      this.secrets.delete(leaf.id);
      this.pump(hostId);
      // A waiting leaf of the same VM may sit on another host's queue.
      for (const other of this.queues.keys()) if (other !== hostId) this.pump(other);
      this.admitSoon();
    }
  }

  private async runOn(leaf: LeafJob, hostId: string, signal: AbortSignal, batch?: BatchRef): Promise<void> {
    const agent = this.agents.get(hostId);
    if (!agent) throw new UnavailableError('NO_AGENT', `host ${hostId} is no longer in the inventory`);

    if (!leaf.dispatched && leaf.hasSecrets && !this.secrets.has(leaf.id)) {
      // Restarted before we knew whether the agent got it: only the agent can tell.
      const known = await agent.client.getJob(leaf.id).then(() => true, (err) => {
        if (asSysprepError(err).kind === 'not-found') return false;
        throw err;
      });
      if (!known) return this.failSecretsLost(leaf);
      this.lifecycle.dispatched(leaf);
    }
    // Followed before StartSysprep: none of the job's events can pass unseen.
    const watch = this.watch(leaf, agent, signal);
    let lost = false;
    try {
      if (!leaf.dispatched) {
        const job = await this.dispatch(leaf, agent, signal, batch);
        if (!job) return; // failed over
        watch.confirm();
        if (this.lifecycle.agentRecord(leaf, job)) return; // it had ended already
      }
      // Only the event stream's "missing" means the agent lost the job: a StartSysprep
      // error (a disk that is gone, say) is the job's own failure.
      lost = await watch.done.then(() => false, (err) => {
        if (asSysprepError(err).code === 'JOB_NOT_FOUND' && !signal.aborted) return true;
        throw err;
      });
    } finally {
      watch.stop();
    }
    if (!lost) return;
    if (leaf.hasSecrets && !this.secrets.has(leaf.id)) return this.failSecretsLost(leaf);
    // Recorded as dispatched but the agent has no such job (its journal was lost):
    // dispatch it again under the same id.
    this.log.warn('agent does not know a dispatched job: dispatching again', { jobId: leaf.id, hostId });
    leaf.dispatched = false;
    return this.runOn(leaf, hostId, signal);
  }

  /** StartSysprep; undefined when the agent was unreachable and the leaf failed over. */
  private async dispatch(leaf: LeafJob, agent: AgentState, signal: AbortSignal, batch?: BatchRef): Promise<AgentJob | undefined> {
    const hostId = agent.host.id;
    const params = { ...leaf.request.params, ...this.secrets.get(leaf.id) };
    let job: AgentJob;
    try {
      await agent.events.ready();
      job = await agent.starter.start({
        jobId: leaf.id,
        disks: leaf.disks.map((d) => ({ path: d.path, format: d.format })),
        spec: { only: leaf.operations, enable: [], disable: [], ...toWireParams(params) },
        mode: leaf.request.mode === 'in_place' ? 'IN_PLACE' : 'SAFE',
        dryRun: leaf.request.dryRun,
        timeoutSeconds: this.config.jobTimeoutSec,
        requestedBy: leaf.requestedBy,
        labels: { engineJob: leaf.parentId ?? leaf.id, target: leaf.vmKey, name: leaf.target.name },
        action: leaf.kind === 'sparsify' ? 'sparsify' : '',
        batch: batch ?? null,
      });
    } catch (err) {
      const e = asSysprepError(err);
      if (e.kind === 'unavailable' && !signal.aborted) {
        this.log.warn('agent unreachable at dispatch: failing over', { jobId: leaf.id, hostId, error: e.message });
        this.agents.markUnreachable(hostId, e);
        this.failover(leaf, hostId);
        return undefined;
      }
      throw e;
    }
    this.lifecycle.dispatched(leaf);
    this.log.info('dispatched', { jobId: leaf.id, vmId: leaf.target.id, hostId, vm: leaf.target.name });
    if (leaf.cancelRequested) await agent.client.cancelJob(leaf.id).catch(() => undefined);
    return job;
  }

  /** Follows the leaf on the agent's event stream; `done` settles at its final state. */
  private watch(leaf: LeafJob, agent: AgentState, signal: AbortSignal): { done: Promise<void>; confirm(): void; stop(): void } {
    const live = this.lifecycle.follow(leaf);
    let unfollow = () => {};
    const done = new Promise<void>((resolve, reject) => {
      const end = (err?: Error) => {
        unfollow();
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => end();
      signal.addEventListener('abort', onAbort);
      unfollow = agent.events.follow(leaf.id, live.seq, {
        event: (ev) => {
          try {
            if (this.lifecycle.agentEvent(leaf, ev)) end();
          } catch (err) {
            end(err as Error);
          }
        },
        failed: (err) => end(err),
      }, leaf.dispatched);
    });
    done.catch(() => undefined); // awaited by runOn, unless StartSysprep failed first
    const stop = () => {
      unfollow();
      this.lifecycle.unfollow(leaf);
    };
    return { done, confirm: () => agent.events.confirm(leaf.id), stop };
  }

  /** Moves a leaf (and the rest of the unreachable host's queue) to other agents. */
  private failover(leaf: LeafJob, deadHost: string): void {
    const moved = [leaf, ...(this.queues.get(deadHost) ?? [])];
    this.queues.set(deadHost, []);
    for (const l of moved) {
      if (isFinal(l.state) || l.dispatched) continue;
      l.host = undefined;
      this.enqueue(l, new Set([deadHost]));
    }
  }

  private failSecretsLost(leaf: LeafJob): void {
    this.lifecycle.finishLeaf(leaf, 'failed', {
      code: 'SECRETS_LOST',
      message: 'the engine restarted before this VM was dispatched; its secret parameters are never stored, so it was not run: submit it again',
      details: {},
    });
  }
}

/** The fewest leaves a host's queue may hold (window()), and how many one read of the backlog takes. */
const MIN_WINDOW = 200;
const ADMIT_PAGE = 100;
const ADMIT_TICK_MS = 1000;

/** How long a host that takes batches waits for more leaves before it starts a lone one. */
const BATCH_GATHER_MS = 250;

/** A leaf that may share an appliance with others (the agent still checks each VM). */
const batchable = (leaf: LeafJob): boolean => leaf.kind !== 'sparsify' && leaf.kind !== 'inspect' && leaf.request.mode !== 'in_place' && !leaf.request.dryRun;
