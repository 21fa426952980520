// Watches oVirt's audit log for new VMs and starts their automatic reset.
//
// Protocol of one tick:
//  1. GET /events?from=<last index>&max=N; events are taken in increasing index order,
//     those at or below the last index are dropped (oVirt's `from` is inclusive);
//  2. codes 53 (USER_ADD_VM_FINISHED_SUCCESS: created from a template, clone, pool VM)
//     and 1152 (IMPORTEXPORT_IMPORT_VM) name a VM: it is recorded as pending and the
//     new last index is stored IN THE SAME TRANSACTION, so a restart neither misses an
//     event nor sees it twice;
//  3. each pending VM is asked for: once it is Down and all its disks are OK (oVirt
//     locks the image while it copies), AutoReset.onVmAdded() starts its reset job
//     (trigger import / pool / clone, with the profile of [auto_reset]);
//  4. an unreachable engine backs off (interval doubling up to events_max_backoff_sec).
//
// On its first start (no index stored) the watcher begins at the newest event: VMs made
// before the plugin was installed are not reset.
import { inject, injectable } from 'tsyringe';
import { AutoReset } from '../autoreset/AutoReset';
import type { Trigger } from '../config';
import { Logger } from '../logger';
import { OvirtClient } from './OvirtClient';
import { OvirtConfig } from './OvirtConfig';
import { OvirtInventory } from './OvirtInventory';
import { asNum, attachedDisks, BLANK_TEMPLATE_ID, items, OvEvent } from './ovirtModel';
import { OvirtStateStore, PendingVm } from './OvirtStateStore';

export const EVENT_VM_ADDED = 53;
export const EVENT_VM_IMPORTED = 1152;
const BATCH = 200;
const LAST_INDEX = 'events.last_index';
const READY_CONCURRENCY = 8;

export type Readiness = 'ready' | 'waiting' | 'gone' | 'skip';

@injectable()
export class OvirtEventWatcher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  private failures = 0;
  /** For tests and the hosts page: the last poll's outcome. */
  readonly status = { lastPollAt: '', lastError: '', polls: 0, triggered: 0 };

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
    const v = this.store.get(LAST_INDEX);
    return v === undefined ? undefined : Number(v);
  }

  async pollEvents(): Promise<void> {
    let last = this.lastIndex();
    if (last === undefined) {
      // First start: begin after the newest event.
      const newest = items<OvEvent>(await this.client.get('/events', { query: { max: 1 } }), 'event');
      last = newest.length ? indexOf(newest[0]) : 0;
      this.store.advanceEvents(last, []);
      this.log.info('oVirt event watcher starts after the newest event', { index: last });
      return;
    }
    for (;;) {
      const events = items<OvEvent>(await this.client.get('/events', { query: { from: last, max: BATCH } }), 'event')
        .map((e) => ({ e, index: indexOf(e) }))
        .filter((x) => Number.isFinite(x.index) && x.index > last!)
        .sort((a, b) => a.index - b.index);
      if (events.length === 0) return;
      const pending: PendingVm[] = [];
      for (const { e, index } of events) {
        const code = asNum(e.code);
        if ((code === EVENT_VM_ADDED || code === EVENT_VM_IMPORTED) && e.vm?.id) {
          pending.push({ vmId: e.vm.id, trigger: code === EVENT_VM_IMPORTED ? 'import' : 'clone', eventIndex: index, seenAt: new Date().toISOString() });
          this.log.info('oVirt VM added', { vmId: e.vm.id, code, index });
        }
      }
      last = events[events.length - 1].index;
      this.store.advanceEvents(last, pending);
      if (pending.length) this.inventory.invalidate();
      if (events.length < BATCH) return;
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
    const { readiness, trigger } = await this.readiness(p);
    if (readiness === 'waiting') {
      if (Date.now() - Date.parse(p.seenAt) > this.config.readyTimeoutSec * 1000) {
        log.warn('new VM never became Down with its disks OK: no automatic reset', { readyTimeoutSec: this.config.readyTimeoutSec });
        this.store.donePending(p.vmId);
      }
      return;
    }
    this.store.donePending(p.vmId);
    if (readiness !== 'ready') {
      log.info(readiness === 'gone' ? 'new VM was removed before its reset' : 'new VM inherited nothing (Blank template, or no disk): no reset');
      return;
    }
    const vm = await this.inventory.getVm(p.vmId);
    if (!vm) return;
    const r = await this.autoReset.onVmAdded(vm, trigger, 'ovirt');
    if (r.job) {
      this.status.triggered++;
      log.info('automatic reset started', { jobId: r.job.id });
    } else if (r.error) {
      log.warn('automatic reset could not start', { error: r.error.message });
    }
  }

  /** Down + every disk OK -> ready; the trigger refined from the VM (pool member). */
  private async readiness(p: PendingVm): Promise<{ readiness: Readiness; trigger: Trigger }> {
    const vm = await this.inventory.rawVm(p.vmId);
    if (!vm) return { readiness: 'gone', trigger: p.trigger };
    const trigger: Trigger = p.trigger === 'import' ? 'import' : vm.vm_pool?.id ? 'pool' : 'clone';
    const disks = attachedDisks(vm);
    if (vm.status !== 'down' || disks.some((d) => d.status !== undefined && d.status !== 'ok')) return { readiness: 'waiting', trigger };
    // A VM made from the Blank template (code 53) got new empty disks: nothing to reset.
    const fromBlank = p.trigger !== 'import' && (!vm.template?.id || vm.template.id === BLANK_TEMPLATE_ID);
    if (disks.length === 0 || fromBlank) return { readiness: 'skip', trigger };
    return { readiness: 'ready', trigger };
  }
}

/** An event's index: `index` when oVirt gives it, else its id (both strictly increase). */
function indexOf(e: OvEvent): number {
  return asNum(e.index ?? e.id);
}
