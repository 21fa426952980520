// Per-host gauges, read when Prometheus scrapes (nothing is kept between scrapes): the
// dispatcher's queue and in-flight leaves per host, and whether the host's agent answered
// its last probe (AgentPool). The host label is the host id of the inventory.
import { Gauge, Registry } from 'prom-client';

export interface HostState {
  id: string;
  healthy: boolean;
  queued: number;
  running: number;
}

/** Registers the host gauges; `hosts` is read at each scrape. */
export function registerHostMetrics(registry: Registry, prefix: string, hosts: () => HostState[]): void {
  new Gauge({
    name: `${prefix}queue_depth`,
    help: 'Leaf jobs queued by the engine for a host, not yet sent to its agent.',
    labelNames: ['host'],
    registers: [registry],
    collect() {
      this.reset(); // a host removed from the inventory disappears
      for (const h of hosts()) this.set({ host: h.id }, h.queued);
    },
  });
  new Gauge({
    name: `${prefix}jobs_in_flight`,
    help: 'Leaf jobs the engine has sent to a host\'s agent and not seen end.',
    labelNames: ['host'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of hosts()) this.set({ host: h.id }, h.running);
    },
  });
  new Gauge({
    name: `${prefix}agent_up`,
    help: 'Whether a host\'s agent answered the engine\'s last probe (1) or not (0).',
    labelNames: ['host'],
    registers: [registry],
    collect() {
      this.reset();
      for (const h of hosts()) this.set({ host: h.id }, h.healthy ? 1 : 0);
    },
  });
}
