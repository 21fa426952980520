// The agents the engine knows (hosts of the inventory): one gRPC client each, their
// health, capabilities and operation lists, probed at start and every
// health_interval_sec, and at once when a call finds an agent unreachable.
import { inject, injectable } from 'tsyringe';
import { AgentClient } from '../../shared/agentClient';
import { AgentEventStream } from './AgentEventStream';
import { AgentStarter } from './AgentStarter';
import type { OperationInfo } from '../../shared/catalog/operations';
import { UnavailableError } from '../../shared/errors';
import type { Capabilities } from '../../shared/wireTypes';
import { EngineConfig } from '../config';
import type { DiskRef, Host } from '../inventory/Inventory';
import { Inventory } from '../inventory/Inventory';
import { underRoot } from '../inventory/storageRoots';
import { Logger } from '../logger';

export interface AgentState {
  host: Host;
  client: AgentClient;
  /** The one event stream of this agent's jobs. */
  events: AgentEventStream;
  /** The one stream that starts this agent's jobs. */
  starter: AgentStarter;
  healthy: boolean;
  lastError?: string;
  checkedAt?: string;
  capabilities?: Capabilities;
  operations?: OperationInfo[];
}

const CALL_DEADLINE_MS = 15_000;

@injectable()
export class AgentPool {
  private readonly agents = new Map<string, AgentState>();
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;
  private stopped = false;

  constructor(
    @inject(Inventory) private readonly inventory: Inventory,
    @inject(EngineConfig) private readonly config: EngineConfig,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.healthIntervalSec * 1000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    for (const a of this.agents.values()) this.close(a);
    this.agents.clear();
  }

  /** Reloads the hosts and probes every agent (concurrent callers share one probe). */
  refresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.probing ??= this.doRefresh().finally(() => { this.probing = undefined; });
    return this.probing;
  }

  private async doRefresh(): Promise<void> {
    const hosts = await this.inventory.listHosts();
    for (const h of hosts) {
      const known = this.agents.get(h.id);
      if (known && known.host.agentAddress === h.agentAddress) {
        known.host = h;
        continue;
      }
      if (known) this.close(known);
      const client = new AgentClient({ address: h.agentAddress, tls: this.config.agentTls, deadlineMs: CALL_DEADLINE_MS });
      const events = new AgentEventStream(client, {
        hostId: h.id,
        lostTimeoutMs: this.config.agentLostTimeoutSec * 1000,
        onUnreachable: (err) => this.markUnreachable(h.id, err),
      });
      const starter = new AgentStarter(client, { hostId: h.id, deadlineMs: CALL_DEADLINE_MS });
      this.agents.set(h.id, { host: h, client, events, starter, healthy: false });
    }
    await Promise.all([...this.agents.values()].map((a) => this.probe(a)));
  }

  private close(a: AgentState): void {
    a.events.close();
    a.starter.close();
    a.client.close();
  }

  private async probe(a: AgentState): Promise<void> {
    try {
      a.capabilities = await a.client.getCapabilities();
      if (!a.operations || !a.healthy) {
        const list = await a.client.listOperations();
        a.operations = list.operations.map((o) => ({ name: o.name, description: o.description, defaultEnabled: o.defaultEnabled }));
      }
      if (!a.healthy) this.log.info('agent reachable', { hostId: a.host.id, address: a.host.agentAddress });
      a.healthy = true;
      a.lastError = undefined;
    } catch (err) {
      if (a.healthy || a.lastError === undefined) this.log.warn('agent unreachable', { hostId: a.host.id, address: a.host.agentAddress, error: (err as Error).message });
      a.healthy = false;
      a.lastError = (err as Error).message;
    }
    a.checkedAt = new Date().toISOString();
  }

  /** An agent call failed as unreachable: stop choosing it until a probe succeeds. */
  markUnreachable(hostId: string, err: Error): void {
    const a = this.agents.get(hostId);
    if (!a) return;
    a.healthy = false;
    a.lastError = err.message;
    setTimeout(() => void this.refresh(), 1000).unref();
  }

  all(): AgentState[] {
    return [...this.agents.values()];
  }

  get(hostId: string): AgentState | undefined {
    return this.agents.get(hostId);
  }

  /** Jobs in flight the engine allows on this host. */
  limit(hostId: string): number {
    return this.config.maxJobsPerHost || this.agents.get(hostId)?.capabilities?.maxConcurrentJobs || 1;
  }

  /** VMs the engine sends to this host as one batch (one appliance): 1 when batch mode is off there. */
  batchLimit(hostId: string): number {
    return Math.max(1, Math.min(this.config.batchSize, this.agents.get(hostId)?.capabilities?.maxBatchSize ?? 0));
  }

  /** Agents that see every disk (healthy or not), the preferred host first. */
  servingAgents(disks: Pick<DiskRef, 'path'>[], preferHost?: string): AgentState[] {
    const serving = this.all().filter((a) => disks.every((d) => a.host.storageRoots.some((r) => underRoot(d.path, r))));
    return serving.sort((x, y) => Number(y.host.id === preferHost) - Number(x.host.id === preferHost));
  }

  /** The operations every healthy agent's installed virt-sysprep knows, in the tool's order. */
  operations(): OperationInfo[] {
    const lists = this.all().filter((a) => a.healthy && a.operations).map((a) => a.operations!);
    if (lists.length === 0) throw new UnavailableError('NO_AGENT', 'no host agent is reachable: the installed operations are unknown');
    const common = lists.slice(1).reduce((acc, l) => acc.filter((o) => l.some((x) => x.name === o.name)), lists[0]);
    return common;
  }
}
