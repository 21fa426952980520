// Prometheus metrics (prom-client) shared by the engine and the agent: each process part
// gets its OWN registry, never prom-client's global one, because the tests and the
// engine's --local mode run an engine and an agent (and several engines) in one process
// and a metric name may be registered once per registry only.
import { collectDefaultMetrics, Registry } from 'prom-client';

/** A registry with the default process metrics (CPU, memory, event loop lag, GC). */
export function newRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The registry in the Prometheus text format, with its content type. */
export async function exposition(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** Seconds between two ISO times (or epoch milliseconds); undefined when either is unknown or time went back. */
export function secondsBetween(from: string | number | undefined, to: string | number | undefined): number | undefined {
  const a = typeof from === 'string' ? Date.parse(from) : from;
  const b = typeof to === 'string' ? Date.parse(to) : to;
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b < a) return undefined;
  return (b - a) / 1000;
}
