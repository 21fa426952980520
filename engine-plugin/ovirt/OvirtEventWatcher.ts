// Watches oVirt's audit log for new VMs and starts their automatic reset.
//
// How oVirt answers GET /events (ovirt-engine 0111fc63036, read in
// restapi AbstractBackendCollectionResource.getSearchParameters, searchbackend
// SyntaxChecker.generateSqlFromSyntaxContainer / getPagePhrase, SearchObjectAutoCompleter):
// the rows are sorted `audit_log_id DESC` (newest first), `from=N` adds
// `audit_log_id > N` (exclusive), `max` is the LIMIT and `search=page P` the OFFSET
// (P-1)*max; events marked deleted are left out. `sortby time asc` sorts by log_time with
// audit_log_id DESC as the tie-break and there is no sortable id: it is not the index
// order, so the watcher reads newest-first pages and orders by index itself.
//
// Protocol of one tick:
//  1. read every event above the cursor, the cursor's own event included (from=<index-1>),
//     page by page (page 1, 2, ... of max=BATCH) until a short page: new events arriving
//     meanwhile shift rows to later pages, which only repeats rows (deduplicated by index);
//  2. check the cursor's event is still the one seen (its fingerprint): a different event at
//     that index, or an engine whose newest index is below the cursor, means the index went
//     BACKWARDS (database restored, engine reinstalled): reported (log line, status.gaps,
//     an oVirt external event for the admins) and the watcher goes on from there. A jump
//     in the index is normal (audit_log_seq values of rolled-back inserts, events deleted by
//     AuditLogCleanupManager or by a user) and not reported;
//  3. the codes of vmCreationEvents.ts name a new VM: it is recorded as pending and the new
//     cursor is stored IN THE SAME TRANSACTION, so a restart neither misses an event nor
//     sees it twice;
//  4. each pending VM is asked for: once it is Down and all its disks are OK (oVirt locks
//     the image while it copies), AutoReset.onVmAdded() starts its reset job (trigger
//     import / pool / clone, with the profile of [auto_reset]);
//     A VM the engine cloned itself (OvirtCloning: our marker in its comment, written in
//     the same request that made it) is skipped: whoever cloned it (POST /vms, a room)
//     runs its own sysprep, with its own values;
//  5. an unreachable engine backs off (interval doubling up to events_max_backoff_sec).
//
// On its first start (no cursor stored) the watcher begins at the newest event: VMs made
// before the plugin was installed are not reset.
import { inject, injectable } from 'tsyringe';
import { NotFoundError } from '../../shared/errors';
import { AutoReset } from '../autoreset/AutoReset';
import type { Trigger } from '../config';
import { Logger } from '../logger';
import { OvirtClient } from './OvirtClient';
import { OvirtConfig } from './OvirtConfig';
import { OvirtInventory } from './OvirtInventory';
import { marksOf } from './ovirtMarks';
import { asNum, attachedDisks, items, OvEvent } from './ovirtModel';
import { EventCursor, OvirtStateStore, PendingVm } from './OvirtStateStore';
import { creationTrigger, Inheritance, inheritance, refineTrigger } from './vmCreationEvents';

const BATCH = 200;
const READY_CONCURRENCY = 8;
/** Origin of the external events the watcher adds (oVirt refuses "oVirt": AddExternalEventCommand.validate). */
export const EVENT_ORIGIN = 'ovirt-sysprep';

/** A reported discontinuity of the audit log. */
export interface EventGap {
  at: string;
  kind: 'index_reused' | 'newest_below_cursor' | 'cursor_event_gone';
  /** Our cursor before the gap, and where the watcher goes on from. */
  fromIndex: number;
  toIndex: number;
  message: string;
}

export type Readiness = 'ready' | 'waiting' | 'gone' | 'skip' | 'ours';

/** What GET /hosts shows of the watcher (ovirtEvents). */
export interface EventWatchStatus {
  lastPollAt: string;
  lastError: string;
  polls: number;
  /** Automatic resets started. */
  triggered: number;
  /** Discontinuities of oVirt's audit log reported, and the last one. */
  gaps: number;
  lastGap?: EventGap;
}

@injectable()
export class OvirtEventWatcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  private failures = 0;
  /** The last poll's outcome: GET /hosts (ovirtEvents) and the tests. */
  readonly status: EventWatchStatus = {
    lastPollAt: '',
    lastError: '',
    polls: 0,
    triggered: 0,
    gaps: 0,
  };

  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtInventory) private readonly inventory: OvirtInventory,
    @inject(OvirtStateStore) private readonly store: OvirtStateStore,
    @inject(AutoReset) private readonly autoReset: AutoReset,
    @inject(OvirtConfig) private readonly config: OvirtConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One poll of events plus one look at the pending VMs (tests call it directly). */
  tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.pollEvents();
        await this.checkPending();
        this.status.lastError = '';
        if (this.failures) this.log.info('oVirt events reachable again');
        this.failures = 0;
      } catch (err) {
        this.failures++;
        const message = (err as Error).message;
        if (this.status.lastError !== message) this.log.warn('oVirt event poll failed: backing off', { error: message, failures: this.failures });
        this.status.lastError = message;
      } finally {
        this.status.polls++;
        this.status.lastPollAt = new Date().toISOString();
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Seconds to the next tick: the interval, doubled per failure up to the cap. */
  nextDelaySec(): number {
    return Math.min(this.config.eventsIntervalSec * 2 ** Math.min(this.failures, 16), Math.max(this.config.eventsMaxBackoffSec, this.config.eventsIntervalSec));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.schedule(this.nextDelaySec() * 1000));
    }, ms);
    this.timer.unref();
  }

  lastIndex(): number | undefined {
    return this.store.eventCursor()?.index;
  }

  async pollEvents(): Promise<void> {
    const cursor = this.store.eventCursor();
    if (cursor === undefined) {
      // First start: begin after the newest event.
      const newest = await this.newest();
      this.store.advanceEvents(newest, []);
      this.log.info('oVirt event watcher starts after the newest event', { index: newest.index });
      return;
    }
    const { events, anchor } = await this.readAbove(cursor.index);
    let from = cursor;
    let fresh = events.filter((x) => x.index > cursor.index);
    if (anchor && cursor.fingerprint && fingerprint(anchor.e) !== cursor.fingerprint) {
      // Another event now holds our index: the audit log was restored or recreated. The
      // event at the cursor is new, the ones between the restored newest and it are lost.
      await this.reportGap('index_reused', cursor.index, cursor.index, `oVirt event ${cursor.index} is not the event seen before: the engine database was restored or recreated; VMs created between the restore and now may not have been reset automatically`);
      fresh = [anchor, ...fresh];
    } else if (!anchor && cursor.index > 0) {
      const gone = await this.cursorGone(cursor, fresh.length > 0);
      if (gone) from = gone;
    }
    if (fresh.length === 0) {
      if (from !== cursor) this.store.advanceEvents(from, []);
      return;
    }
    const pending: PendingVm[] = [];
    for (const { e, index } of fresh) {
      const code = asNum(e.code);
      const trigger = creationTrigger(code);
      if (trigger && e.vm?.id) {
        pending.push({ vmId: e.vm.id, trigger, eventIndex: index, seenAt: new Date().toISOString() });
        this.log.info('oVirt VM added', { vmId: e.vm.id, code, index });
      }
    }
    const last = fresh[fresh.length - 1];
    this.store.advanceEvents({ index: last.index, fingerprint: fingerprint(last.e) }, pending);
    if (pending.length) this.inventory.invalidate();
  }

  /**
   * Every event above `index - 1`, ascending by index, read as newest-first pages of BATCH
   * rows. Only the events the watcher needs are kept (creation codes, the cursor's event and
   * the newest), so a long outage does not hold every row in memory.
   */
  private async readAbove(index: number): Promise<{ events: Indexed[]; anchor?: Indexed }> {
    const kept = new Map<number, Indexed>();
    let newest: Indexed | undefined;
    for (let page = 1; ; page++) {
      const rows = items<OvEvent>(await this.client.get('/events', { query: { from: Math.max(index - 1, 0), max: BATCH, search: `page ${page}` } }), 'event');
      for (const e of rows) {
        const x = { e, index: indexOf(e) };
        if (!Number.isFinite(x.index) || x.index < index) continue;
        if (!newest || x.index > newest.index) newest = x;
        if (x.index === index || creationTrigger(asNum(e.code)) !== undefined) kept.set(x.index, x);
      }
      if (rows.length < BATCH) break;
    }
    if (newest) kept.set(newest.index, newest);
    const anchor = kept.get(index);
    return { events: [...kept.values()].sort((a, b) => a.index - b.index), anchor };
  }

  /**
   * The cursor's event is not in the list: a user marked it deleted (still readable by id,
   * GetAuditLogByAuditLogId does not filter deleted rows: normal), or it is gone. Gone with
   * nothing newer: the engine's newest index is below ours (restored database), the
   * watcher moves its cursor down to it. Gone with newer events: reported, the newer ones are read.
   */
  private async cursorGone(cursor: EventCursor, newer: boolean): Promise<EventCursor | undefined> {
    let same: OvEvent | undefined;
    try {
      same = await this.client.get<OvEvent>(`/events/${cursor.index}`);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    if (same && (!cursor.fingerprint || fingerprint(same) === cursor.fingerprint)) return undefined;
    if (newer) {
      await this.reportGap('cursor_event_gone', cursor.index, cursor.index, `oVirt event ${cursor.index}, the last one seen, is gone from the engine: VMs created before the newer events may not have been reset automatically`);
      return undefined;
    }
    const newest = await this.newest();
    await this.reportGap('newest_below_cursor', cursor.index, newest.index, `oVirt's newest event index ${newest.index} is below the last one seen (${cursor.index}): the engine database was restored or recreated; new VMs are watched from ${newest.index} on`);
    return newest;
  }

  /** The newest event as a cursor (index 0 when the log is empty). */
  private async newest(): Promise<EventCursor> {
    const [e] = items<OvEvent>(await this.client.get('/events', { query: { max: 1 } }), 'event');
    return e ? { index: indexOf(e), fingerprint: fingerprint(e) } : { index: 0, fingerprint: '' };
  }

  /** A gap: a warning line, the status, and an external event in oVirt's Events view. */
  private async reportGap(kind: EventGap['kind'], fromIndex: number, toIndex: number, message: string): Promise<void> {
    const gap: EventGap = { at: new Date().toISOString(), kind, fromIndex, toIndex, message };
    this.status.gaps++;
    this.status.lastGap = gap;
    this.log.warn('oVirt event log discontinuity', { kind, fromIndex, toIndex, message });
    try {
      // custom_id must be unique per origin (AddExternalEventCommand.validate): seconds since 2020.
      const customId = Math.floor((Date.now() - Date.UTC(2020, 0, 1)) / 1000) % 2_147_483_647;
      await this.client.post('/events', { origin: EVENT_ORIGIN, severity: 'warning', custom_id: customId, description: `ovirt-sysprep: ${message}` });
    } catch (err) {
      this.log.warn('could not add the discontinuity to oVirt\'s events', { error: (err as Error).message });
    }
  }

  async checkPending(): Promise<void> {
    const pending = this.store.pending();
    for (let i = 0; i < pending.length; i += READY_CONCURRENCY) {
      await Promise.all(pending.slice(i, i + READY_CONCURRENCY).map((p) => this.checkOne(p)));
    }
  }

  private async checkOne(p: PendingVm): Promise<void> {
    const log = this.log.child({ vmId: p.vmId, trigger: p.trigger });
    const { readiness, trigger, why } = await this.readiness(p);
    if (readiness === 'waiting') {
      if (Date.now() - Date.parse(p.seenAt) > this.config.readyTimeoutSec * 1000) {
        log.warn('new VM never became Down with its disks OK: no automatic reset', { readyTimeoutSec: this.config.readyTimeoutSec });
        this.store.donePending(p.vmId);
      }
      return;
    }
    this.store.donePending(p.vmId);
    if (readiness !== 'ready') {
      const why = { gone: 'new VM was removed before its reset', skip: 'new VM has no active disk: no reset', ours: 'new VM was cloned by this engine: its cloner runs its sysprep' }[readiness];
      log.info(why);
      return;
    }
    const vm = await this.inventory.getVm(p.vmId);
    if (!vm) return;
    const r = await this.autoReset.onVmAdded(vm, trigger, 'ovirt');
    if (r.job) {
      this.status.triggered++;
      log.info('automatic reset started', { jobId: r.job.id, inherited: why });
    } else if (r.error) {
      log.warn('automatic reset could not start', { error: r.error.message });
    }
  }

  /** Down + every disk OK -> ready, when the VM inherited a guest (vmCreationEvents.ts); the trigger refined from the VM. */
  private async readiness(p: PendingVm): Promise<{ readiness: Readiness; trigger: Trigger; why?: Inheritance }> {
    const vm = await this.inventory.rawVm(p.vmId);
    if (!vm) return { readiness: 'gone', trigger: p.trigger };
    const trigger = refineTrigger(vm, p.trigger);
    if (marksOf(vm)) return { readiness: 'ours', trigger };
    if (vm.status !== 'down' || attachedDisks(vm).some((d) => d.status !== undefined && d.status !== 'ok')) return { readiness: 'waiting', trigger };
    const why = inheritance(vm, p.trigger);
    return { readiness: why === 'no_disk' ? 'skip' : 'ready', trigger, why };
  }
}

interface Indexed {
  e: OvEvent;
  index: number;
}

/** What identifies an event beyond its index: a restored database reuses indexes. */
function fingerprint(e: OvEvent): string {
  return `${e.time ?? ''}|${e.code ?? ''}|${e.vm?.id ?? ''}`;
}

/** An event's index: `index` when oVirt gives it, else its id (both strictly increase). */
function indexOf(e: OvEvent): number {
  return asNum(e.index ?? e.id);
}
