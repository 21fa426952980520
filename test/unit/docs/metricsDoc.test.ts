// docs/metrics.md stays true: every product metric its tables list and every metric
// its PromQL examples use exists in the engine's or the agent's registry, and every
// product metric of the registries is documented in a table.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AgentMetrics } from '../../../host-agent/metrics/AgentMetrics';
import { JobBus } from '../../../engine-plugin/jobs/JobBus';
import { EngineMetrics } from '../../../engine-plugin/metrics/EngineMetrics';
import { exposition } from '../../../shared/metrics';

const doc = readFileSync(path.join(__dirname, '../../../docs/metrics.md'), 'utf8');

/** Metric names (TYPE lines) of both registries, scraped as Prometheus would. */
async function exported(): Promise<Set<string>> {
  const engine = new EngineMetrics(new JobBus(), { kindOf: () => undefined } as never, { all: () => [] } as never, { load: () => ({ queued: 0, running: 0 }) } as never);
  const agent = new AgentMetrics({ jobs: { onEvent: () => () => undefined, list: () => [] }, leases: { onRenewFailure: () => () => undefined } });
  const text = (await exposition(engine.registry)).body + (await exposition(agent.registry)).body;
  engine.stop();
  agent.stop();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
}

/** A histogram's series (_bucket, _sum, _count) belong to the histogram's name. */
const base = (name: string, known: Set<string>) => (known.has(name) ? name : name.replace(/_(bucket|sum|count)$/, ''));

describe('docs/metrics.md', () => {
  it('names only metrics the registries export, in its tables and its PromQL examples', async () => {
    const known = await exported();
    const queries = [...doc.matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(queries.length).toBeGreaterThanOrEqual(8);
    const inQueries = queries.flatMap((q) => [...q.matchAll(/\b((?:ovirt_sysprep|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]));
    const inTables = [...doc.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(inTables.length).toBeGreaterThanOrEqual(11);
    for (const name of [...inQueries, ...inTables]) expect([name, known.has(base(name, known))]).toEqual([name, true]);
  });

  it("documents every product metric of the engine's and the agent's registries", async () => {
    const ours = [...(await exported())].filter((n) => n.startsWith('ovirt_sysprep_'));
    expect(ours.length).toBeGreaterThanOrEqual(11);
    for (const name of ours) expect([name, doc.includes(`| \`${name}\` |`)]).toEqual([name, true]);
  });
});
