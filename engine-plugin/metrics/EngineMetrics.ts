// The engine's metrics (docs/metrics.md): one registry per engine (the process metrics
// are merged in at each scrape: shared/metrics.ts) with the job metrics from the job bus (JobMetrics), the per-host gauges
// read at each scrape (HostMetrics) and the API request histogram (requestMetrics, fed
// by metricsRouter). Resolved by the composition root before resumed jobs publish.
import { Counter, Histogram, Registry } from 'prom-client';
import { inject, injectable } from 'tsyringe';
import { AgentPool } from '../dispatch/AgentPool';
import { Dispatcher } from '../dispatch/Dispatcher';
import { JobBus } from '../jobs/JobBus';
import { JobStore } from '../jobs/JobStore';
import { registerHostMetrics } from './HostMetrics';
import { JobMetrics } from './JobMetrics';

export const ENGINE_PREFIX = 'ovirt_sysprep_engine_';

/** Seconds. Jobs: a KVM reset takes ~10 s, a TCG one minutes, a pool up to hours. */
export const JOB_BUCKETS = [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600, 7200, 14400];
/** Seconds. Operations: most take well under a second, customize with packages minutes. */
export const OPERATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];
/** Seconds. Requests: the API aims at p99 under 100 ms (issue 17); an SSE stream lasts as long as its job. */
export const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

@injectable()
export class EngineMetrics {
  readonly registry = new Registry();
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  readonly jobs: JobMetrics;

  constructor(
    @inject(JobBus) bus: JobBus,
    @inject(JobStore) store: JobStore,
    @inject(AgentPool) agents: AgentPool,
    @inject(Dispatcher) dispatcher: Dispatcher,
  ) {
    const registers = [this.registry];
    this.requests = new Histogram({ name: `${ENGINE_PREFIX}http_request_duration_seconds`, help: 'API requests by method, route pattern and status.', labelNames: ['method', 'route', 'status'], buckets: REQUEST_BUCKETS, registers });
    this.jobs = new JobMetrics(bus, (id) => store.kindOf(id), {
      jobs: new Counter({ name: `${ENGINE_PREFIX}jobs_total`, help: 'Jobs that reached a final state, by kind and state (a bulk job and each of its VMs count).', labelNames: ['kind', 'state'], registers }),
      jobDuration: new Histogram({ name: `${ENGINE_PREFIX}job_duration_seconds`, help: 'From a job\'s start (running) to its final state, by kind and state.', labelNames: ['kind', 'state'], buckets: JOB_BUCKETS, registers }),
      operationDuration: new Histogram({ name: `${ENGINE_PREFIX}operation_duration_seconds`, help: 'Each operation of a run, from its step\'s start to the next step (or the commit).', labelNames: ['operation'], buckets: OPERATION_BUCKETS, registers }),
    });
    registerHostMetrics(this.registry, ENGINE_PREFIX, () =>
      agents.all().map((a) => ({ id: a.host.id, healthy: a.healthy, ...dispatcher.load(a.host.id) })),
    );
  }

  stop(): void {
    this.jobs.stop();
  }
}
