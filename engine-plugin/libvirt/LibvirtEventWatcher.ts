// Watches libvirt's domain lifecycle events (one VirshEventStream per daemon) so that a
// domain defined OUTSIDE the product (qemu-img create -b + virsh define, virt-manager,
// Cockpit, virt-clone) is reset before its first start, as the product's own clones are.
// The oVirt adapter's OvirtEventWatcher is the model; libvirt pushes its events instead.
//
// Protocol, per "Defined Added" event of domain NAME on daemon URI:
//  1. Defined/Undefined events drop the daemon's cached XML (LibvirtInventory.forget), so
//     a new domain's metadata shows at the next listing;
//  2. the domain is pending: a "Started" event for it from now on is remembered;
//  3. after a settle delay (tools define, then set metadata or start at once), the domain
//     is read; it is left alone when it is gone, a template, one of ours (our clone or
//     hold metadata, or held in EngineDefinedDomains after the engine defined it), when the
//     [auto_reset] libvirt_defined trigger is off, when one of its disks IS a template's
//     own file (a reset would write the template), or, unless the trigger says `all:`,
//     when no template disk is in its disks' backing chains (TemplateBacking);
//  4. started meanwhile (a Started event, or not shut off now): the reset is skipped, a
//     warning is logged and an auto-reset job is recorded `failed` with VM_NOT_DOWN;
//     otherwise AutoReset.onVmAdded starts the reset job (its pre-check reads the state
//     once more; a domain started after that is the agent's lock probe's to refuse).
// libvirt keeps no event history: after a child's restart, the domains listed that were
// not known before are handled as new (resync); a domain defined while the ENGINE was
// down is not (docs/libvirt.md, limits).
import { inject, injectable } from 'tsyringe';
import { ConflictError } from '../../shared/errors';
import { AutoReset } from '../autoreset/AutoReset';
import { EngineConfig, triggerConfig } from '../config';
import { Logger } from '../logger';
import { EngineDefinedDomains } from './EngineDefinedDomains';
import { LibvirtDaemon, LibvirtDaemons } from './LibvirtDaemons';
import { LibvirtInventory, toVm } from './LibvirtInventory';
import { TemplateBacking } from './TemplateBacking';
import { VirshEventStream } from './VirshEventStream';
import type { LifecycleEvent } from './virshEvents';

/** Milliseconds between a domain's definition and the watcher's look at it. */
export const SETTLE_MS = 2000;

/** What the tests and logs see of the watcher. */
export interface LibvirtWatchStatus {
  events: number;
  /** Automatic resets started. */
  triggered: number;
  /** Resets skipped because the domain was started first. */
  skipped: number;
}

interface Pending {
  started: boolean;
}

@injectable()
export class LibvirtEventWatcher {
  private readonly streams: { daemon: LibvirtDaemon; stream: VirshEventStream }[];
  private readonly pending = new Map<string, Pending>();
  /** Domain names per daemon at the last look (resync) and since then from the events. */
  private readonly known = new Map<string, Set<string>>();
  private readonly work = new Set<Promise<void>>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private stopped = true;
  settleMs = SETTLE_MS;
  readonly status: LibvirtWatchStatus = { events: 0, triggered: 0, skipped: 0 };

  constructor(
    @inject(LibvirtDaemons) daemons: LibvirtDaemons,
    @inject(LibvirtInventory) private readonly inventory: LibvirtInventory,
    @inject(TemplateBacking) private readonly backing: TemplateBacking,
    @inject(EngineDefinedDomains) private readonly own: EngineDefinedDomains,
    @inject(AutoReset) private readonly autoReset: AutoReset,
    @inject(EngineConfig) private readonly config: EngineConfig,
    @inject(Logger) private readonly log: Logger,
  ) {
    this.streams = daemons.all.map((daemon) => ({
      daemon,
      stream: new VirshEventStream(daemon.virsh.uri, { onEvent: (e) => this.onEvent(daemon, e), onSpawn: () => this.track(this.resync(daemon)) }, log),
    }));
  }

  start(): void {
    this.stopped = false;
    for (const s of this.streams) s.stream.start();
  }

  /** Stops the children and waits for the domains being looked at. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const [t, resolve] of this.timers) {
      clearTimeout(t);
      resolve();
    }
    this.timers.clear();
    await Promise.all(this.streams.map((s) => s.stream.stop()));
    await Promise.allSettled([...this.work]);
  }

  /** One event of one daemon (VirshEventStream's listener; tests call it directly). */
  onEvent(daemon: LibvirtDaemon, e: LifecycleEvent): void {
    this.status.events++;
    const uri = daemon.virsh.uri;
    const key = `${uri}|${e.domain}`;
    if (e.event === 'Defined' || e.event === 'Undefined') this.inventory.forget(uri);
    if (e.event === 'Defined') this.known.get(uri)?.add(e.domain);
    if (e.event === 'Undefined') this.known.get(uri)?.delete(e.domain);
    if (e.event === 'Started') {
      const p = this.pending.get(key);
      if (p) p.started = true;
    }
    if (e.event !== 'Defined' || e.detail !== 'Added' || this.pending.has(key) || this.stopped) return;
    const p: Pending = { started: false };
    this.pending.set(key, p);
    this.track(
      this.settle()
        .then(() => (this.stopped ? undefined : this.onDefined(daemon, e.domain, p)))
        .catch((err) => void this.log.warn('a domain defined outside the product could not be looked at: no automatic reset', { uri, domain: e.domain, error: (err as Error).message }))
        .finally(() => this.pending.delete(key)),
    );
  }

  /**
   * After each spawn of a daemon's event child: the domains it lists that were not there
   * at the previous look were defined while no child ran (engine start excepted: the first
   * look is the baseline), and are handled as if their "Defined Added" had been seen.
   */
  private async resync(daemon: LibvirtDaemon): Promise<void> {
    const uri = daemon.virsh.uri;
    let names: string[];
    try {
      names = (await daemon.virsh.list()).map((d) => d.name);
    } catch {
      return; // the daemon is still away: the next spawn looks again
    }
    const before = this.known.get(uri);
    this.known.set(uri, new Set(names));
    for (const name of before ? names.filter((n) => !before.has(n)) : []) {
      this.log.info('domain defined while the libvirt event stream was down', { uri, domain: name });
      this.onEvent(daemon, { domain: name, event: 'Defined', detail: 'Added' });
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.work.delete(tracked));
    this.work.add(tracked);
  }

  /** The settle delay; stop() ends it at once (the domain is then left alone). */
  private settle(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, this.settleMs);
      this.timers.set(t, resolve);
    });
  }

  private async onDefined(daemon: LibvirtDaemon, name: string, p: Pending): Promise<void> {
    const uri = daemon.virsh.uri;
    const log = this.log.child({ uri, domain: name, trigger: 'libvirt_defined' });
    const t = triggerConfig(this.config, 'libvirt_defined');
    if (!t.enabled) return;
    if (this.own.has(uri, name)) return;
    const d = await this.inventory.findDomainOn(daemon, name);
    if (!d) {
      log.info('domain undefined before its automatic reset');
      return;
    }
    if (d.info.template || d.info.cloneOf || d.info.held || this.own.has(uri, name)) return;
    const backing = await this.backing.of(d);
    if (backing.sharesDisk.length) {
      log.warn('new domain runs on a template\'s own disk: never reset automatically (a reset would write the template)', { templates: backing.sharesDisk.map((x) => x.info.name) });
      return;
    }
    if (!t.everyDomain && backing.backedBy.length === 0) {
      log.debug('new domain has no template disk in its backing chains: not reset');
      return;
    }
    const vm = toVm(d);
    const templates = backing.backedBy.map((x) => x.info.name);
    const by = daemon.hostId ?? uri;
    if (p.started || vm.status !== 'down') {
      const error = new ConflictError('VM_NOT_DOWN', `VM "${vm.name}" was started before its automatic reset: the reset was skipped (a running domain's disks are never worked on); reset it with a sysprep once it is shut off`, {
        vm: vm.name,
        status: vm.status,
      });
      const job = await this.autoReset.skipped(vm, 'libvirt_defined', by, error);
      this.status.skipped++;
      log.warn('automatic reset skipped: the domain was started first', { vmId: vm.id, jobId: job.id, templates });
      return;
    }
    const r = await this.autoReset.onVmAdded(vm, 'libvirt_defined', by);
    if (r.job?.state === 'failed') this.status.skipped++;
    else if (r.job) this.status.triggered++;
    log.info(r.job ? 'automatic reset of a domain defined outside the product' : 'automatic reset could not start', { vmId: vm.id, jobId: r.job?.id, state: r.job?.state, templates, error: r.error?.message });
  }
}
