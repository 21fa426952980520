// The agent's metrics (docs/metrics.md), from its job events (JobManager.onEvent) and its
// leases (LeaseManager.onRenewFailure); the running jobs are counted at each scrape.
// Appliance launch time: from the tool's start (the phase `starting-appliance`, set when
// virt-sysprep / virt-sparsify is spawned or a batch session starts booting) to the
// appliance being up (the phase `operations`). A batch's members share one appliance, so
// a batch session is observed once (appliance="batch"), not once per member.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { secondsBetween } from '../../shared/metrics';
import type { JobManager } from '../jobs/JobManager';
import type { JobEventRecord, JobRecord } from '../jobs/types';
import { FINAL } from '../jobs/types';
import type { LeaseManager } from '../storage/leases';

export const AGENT_PREFIX = 'ovirt_sysprep_agent_';
/** Seconds: KVM boots the appliance in ~3 s, TCG in 30-90 s (slower on a loaded host). */
export const LAUNCH_BUCKETS = [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300];
/** Batch sessions remembered as observed (their members report the same launch). */
const SEEN_SESSIONS = 256;

export interface AgentMetricSources {
  jobs: Pick<JobManager, 'onEvent' | 'list'>;
  leases: Pick<LeaseManager, 'onRenewFailure'>;
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly jobsTotal: Counter<'state'>;
  private readonly launch: Histogram<'appliance'>;
  /** Jobs whose appliance is starting: since when, and the batch session they wait in, if any. */
  private readonly launching = new Map<string, { since: string; session?: string }>();
  private readonly sessions = new Set<string>();
  private readonly unsubscribe: (() => void)[];

  constructor(src: AgentMetricSources) {
    const registers = [this.registry];
    this.jobsTotal = new Counter({ name: `${AGENT_PREFIX}jobs_total`, help: 'Jobs that reached a final state on this agent, by state (a batch member counts as one job).', labelNames: ['state'], registers });
    this.launch = new Histogram({ name: `${AGENT_PREFIX}appliance_launch_seconds`, help: 'From the tool\'s start to the libguestfs appliance being up; appliance="batch": one shared batch session.', labelNames: ['appliance'], buckets: LAUNCH_BUCKETS, registers });
    const renewFailures = new Counter({ name: `${AGENT_PREFIX}lease_renew_failures_total`, help: 'Disk lease heartbeats that failed (the lease lost or stolen: its job is stopped).', registers });
    new Gauge({
      name: `${AGENT_PREFIX}running_jobs`,
      help: 'Jobs running (or being cancelled) on this agent now.',
      registers,
      collect() {
        this.set(src.jobs.list(['RUNNING', 'CANCELLING']).length);
      },
    });
    this.unsubscribe = [src.jobs.onEvent((e, job) => this.onEvent(e, job)), src.leases.onRenewFailure(() => renewFailures.inc())];
  }

  stop(): void {
    this.unsubscribe.forEach((u) => u());
  }

  private onEvent(e: JobEventRecord, job: JobRecord): void {
    if (e.type === 'state' && FINAL.has(e.state)) {
      this.launching.delete(e.jobId);
      this.jobsTotal.inc({ state: e.state.toLowerCase() });
      return;
    }
    const phase = e.progress?.phase;
    if (phase === 'starting-appliance' && !this.launching.has(e.jobId)) {
      // In a batch's shared session until the member is sent alone (then it has a reason) or done.
      const b = job.batch;
      this.launching.set(e.jobId, { since: e.progress?.phaseSince || e.at, session: b?.id && !b.batched && !b.aloneReason ? b.id : undefined });
    } else if (phase === 'operations' || phase === 'committing') {
      const started = this.launching.get(e.jobId);
      if (!started) return;
      this.launching.delete(e.jobId);
      this.appliance(started, e.progress?.phaseSince || e.at);
    }
  }

  private appliance(started: { since: string; session?: string }, upAt: string): void {
    if (started.session) {
      if (this.sessions.has(started.session)) return;
      this.sessions.add(started.session);
      if (this.sessions.size > SEEN_SESSIONS) this.sessions.delete(this.sessions.values().next().value!);
    }
    const seconds = secondsBetween(started.since, upAt);
    if (seconds !== undefined) this.launch.observe({ appliance: started.session ? 'batch' : 'single' }, seconds);
  }
}
