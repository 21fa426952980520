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

const GAUGES: { name: string; help: string; value(h: HostState): number }[] = [
  { name: 'queue_depth', help: 'Leaf jobs queued by the engine for a host, not yet sent to its agent.', value: (h) => h.queued },
  { name: 'jobs_in_flight', help: "Leaf jobs the engine has sent to a host's agent and not seen end.", value: (h) => h.running },
  { name: 'agent_up', help: "Whether a host's agent answered the engine's last probe (1) or not (0).", value: (h) => (h.healthy ? 1 : 0) },
];

/** Registers the host gauges; `hosts` is read at each scrape. */
export function registerHostMetrics(registry: Registry, prefix: string, hosts: () => HostState[]): void {
  for (const g of GAUGES) {
    new Gauge({
      name: `${prefix}${g.name}`,
      help: g.help,
      labelNames: ['host'],
      registers: [registry],
      collect() {
        this.reset(); // a host removed from the inventory disappears
        for (const h of hosts()) this.set({ host: h.id }, g.value(h));
      },
    });
  }
}
