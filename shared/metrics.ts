// Prometheus metrics (prom-client) shared by the engine and the agent. Each engine and
// each agent has its OWN registry, never prom-client's global one: the tests and the
// engine's --local mode run an engine and an agent (and the tests many engines) in one
// process, and a metric name may be registered once per registry only. The default
// process metrics (CPU, memory, event loop lag, GC) are about the process, so they are
// collected ONCE per process (their event loop and GC observers are never stopped) and
// merged into every page.
import { collectDefaultMetrics, Registry } from 'prom-client';

let processMetrics: Registry | undefined;

function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/** The process metrics and `registry`'s, in the Prometheus text format, with its content type. */
export async function exposition(registry: Registry): Promise<{ contentType: string; body: string }> {
  const page = Registry.merge([processRegistry(), registry]);
  return { contentType: page.contentType, body: await page.metrics() };
}

/** Seconds between two ISO times (or epoch milliseconds); undefined when either is unknown or time went back. */
export function secondsBetween(from: string | number | undefined, to: string | number | undefined): number | undefined {
  const a = typeof from === 'string' ? Date.parse(from) : from;
  const b = typeof to === 'string' ? Date.parse(to) : to;
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b) || b < a) return undefined;
  return (b - a) / 1000;
}
