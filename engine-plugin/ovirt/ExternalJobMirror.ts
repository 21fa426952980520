// Mirrors the engine's jobs in oVirt's Tasks view as external jobs.
//
// Protocol, for each top-level engine job (one VM, a template, or a bulk job):
//  1. at its first event: POST /jobs {description, auto_cleared: true} -> the oVirt job
//     id, stored (ovirt_jobs) with its open steps;
//  2. a one-VM job: a step per virt-sysprep operation (POST /jobs/{id}/steps
//     {type: executing, description, job}); the previous step is ended
//     (POST .../steps/{sid}/end {succeeded}) when the next operation starts;
//     a bulk job: a step per VM, from the VM's start to its end;
//  3. at its final state: open steps end; a cancelled job gets one more step,
//     "cancelled ...", ended failed (oVirt has no way to show an external job aborted,
//     see jobEndBody); then POST /jobs/{id}/end {succeeded, force: true};
//  4. every call carries Correlation-Id = the engine job id; the calls of one job are
//     made in order (one promise chain per job); a failing oVirt never fails a job:
//     the error is logged, and jobs left open (engine restart, oVirt unreachable) are
//     ended by reconcile() at start and every minute.
import { inject, injectable } from 'tsyringe';
import type { Job, JobState } from '../jobs/Job';
import { isFinal } from '../jobs/Job';
import { JobBus, JobEventMessage } from '../jobs/JobBus';
import { JobStore } from '../jobs/JobStore';
import { Logger } from '../logger';
import { OvirtApiError, OvirtClient } from './OvirtClient';
import type { Ref } from './ovirtModel';
import { MirroredJob, OvirtStateStore } from './OvirtStateStore';

const RECONCILE_MS = 60_000;

/**
 * The body of POST /jobs/{id}/end. oVirt reads only `succeeded` (default true) and
 * `force`, and ignores `status` (ovirt-engine 0111fc6 BackendJobResource.end); the job
 * becomes FINISHED or FAILED (common/job/Job.markJobEnded): no end gives ABORTED, since
 * `force` marks ABORTED only the steps still open, and the end has just closed them with
 * the job's own status (EndExternalJobCommand.executeCommand after
 * JobRepositoryImpl.updateCompletedJobAndSteps). So failed, partial and cancelled all
 * end failed; a cancel is told by its own step (cancelStep).
 * `force: true` makes the job auto-cleared even if it was created otherwise.
 */
export function jobEndBody(state: JobState): { succeeded: boolean; force: true } {
  return { succeeded: state === 'succeeded', force: true };
}

/** The description of the last step of a cancelled job (the Tasks view shows no "aborted"). */
function cancelStep(job: Job | undefined): string {
  const why = job?.error?.message;
  return `cancelled${why ? `: ${why}` : ''}`;
}

function describe(job: Job): string {
  const what = job.kind === 'template' ? `seal of template ${job.target.name}`
    : job.kind === 'auto-reset' ? `automatic reset of VM ${job.target.name}`
    : job.kind === 'vm' ? `sysprep of VM ${job.target.name}`
    : job.kind === 'inspect' ? `inspection of ${job.target.type} ${job.target.name}`
    : job.kind === 'sparsify' ? `sparsify of ${job.target.type} ${job.target.name}`
    : `sysprep of ${job.target.type === 'pool' ? `pool ${job.target.name}` : job.target.name}`;
  return `ovirt-sysprep: ${what}${job.profile ? ` (profile ${job.profile})` : ''}`;
}

@injectable()
export class ExternalJobMirror {
  private readonly chains = new Map<string, Promise<void>>();
  /** In-memory view of the mirrored jobs (the store is the durable copy). */
  private readonly jobs = new Map<string, MirroredJob>();
  private readonly ending = new Set<string>();
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtStateStore) private readonly state: OvirtStateStore,
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobBus) private readonly bus: JobBus,
    @inject(Logger) private readonly log: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.bus.onAny((e, parentId) => this.onEvent(e, parentId));
    this.timer = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.timer.unref();
    void this.reconcile();
  }

  /** Waits for the calls in flight. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.timer);
    await Promise.all([...this.chains.values()]);
  }

  /** Ends the oVirt jobs whose engine job is over (after a restart or an oVirt outage). */
  async reconcile(): Promise<void> {
    for (const m of this.state.openJobs()) {
      const job = this.store.header(m.engineJobId);
      if (!job || isFinal(job.state)) this.enqueue(m.engineJobId, () => this.end(m.engineJobId, job?.state ?? 'failed'));
    }
    await this.idle();
  }

  /** Resolves when every queued oVirt call has been made (tests). */
  async idle(): Promise<void> {
    while (this.chains.size) await Promise.all([...this.chains.values()]);
  }

  private onEvent(e: JobEventMessage, parentId?: string): void {
    const topId = parentId ?? e.jobId;
    this.enqueue(topId, async () => {
      const m = await this.ensureJob(topId);
      if (!m) return;
      if (parentId) {
        // A VM of a bulk job: one step from its start to its end.
        if (e.state === 'running' && !m.steps[e.jobId] && !(`done:${e.jobId}` in m.steps)) {
          const child = this.store.header(e.jobId);
          await this.addStep(m, e.jobId, `VM ${child?.target.name ?? e.jobId}${e.host ? ` on host ${e.host}` : ''}`);
        } else if (isFinal(e.state)) {
          await this.endStep(m, e.jobId, e.state === 'succeeded');
          m.steps[`done:${e.jobId}`] = '';
          this.state.saveJob(m);
        }
        return;
      }
      if (e.type === 'operation' && e.operation && !m.steps[e.operation]) {
        for (const key of Object.keys(m.steps)) if (!key.startsWith('done:')) await this.endStep(m, key, true);
        const job = this.store.header(topId);
        await this.addStep(m, e.operation, `${e.operation} on ${job?.target.type === 'template' ? 'template' : 'VM'} ${job?.target.name ?? ''}`.trim());
      }
      if (isFinal(e.state)) await this.end(topId, e.state);
    });
  }

  private enqueue(topId: string, work: () => Promise<void>): void {
    const prev = this.chains.get(topId) ?? Promise.resolve();
    const next = prev
      .then(work)
      .catch((err) => void this.log.warn('could not mirror the job in oVirt', { jobId: topId, error: (err as Error).message }))
      .finally(() => {
        if (this.chains.get(topId) === next) this.chains.delete(topId);
      });
    this.chains.set(topId, next);
  }

  private async ensureJob(topId: string): Promise<MirroredJob | undefined> {
    const known = this.jobs.get(topId) ?? this.state.job(topId);
    if (known) {
      this.jobs.set(topId, known);
      return known;
    }
    if (this.ending.has(topId)) return undefined;
    const job = this.store.header(topId);
    if (!job) return undefined;
    const created = await this.client.post<Ref>('/jobs', { description: describe(job), auto_cleared: true }, { correlationId: topId });
    const m: MirroredJob = { engineJobId: topId, ovirtJobId: created.id, steps: {} };
    this.jobs.set(topId, m);
    this.state.saveJob(m);
    this.log.info('job mirrored in oVirt', { jobId: topId, ovirtJobId: created.id });
    return m;
  }

  private async addStep(m: MirroredJob, key: string, description: string, type: 'executing' | 'finalizing' = 'executing'): Promise<void> {
    const step = await this.client.post<Ref>(`/jobs/${m.ovirtJobId}/steps`, { type, description, job: { id: m.ovirtJobId } }, { correlationId: m.engineJobId });
    m.steps[key] = step.id;
    this.state.saveJob(m);
  }

  private async endStep(m: MirroredJob, key: string, succeeded: boolean): Promise<void> {
    const id = m.steps[key];
    if (!id) return;
    // A step's end reads `succeeded` only (BackendStepResource.end); a failed step also
    // ends its job FAILED at once (ExecutionHandler.endStep, ExecutionMethod.AsStep).
    await this.client.post(`/jobs/${m.ovirtJobId}/steps/${id}/end`, { succeeded }, { correlationId: m.engineJobId });
    delete m.steps[key];
    this.state.saveJob(m);
  }

  private async end(topId: string, state: JobState): Promise<void> {
    const m = await this.ensureJob(topId);
    if (!m) return;
    try {
      for (const key of Object.keys(m.steps)) {
        if (key.startsWith('done:')) continue;
        const childState = this.store.header(key)?.state;
        await this.endStep(m, key, childState ? childState === 'succeeded' : state === 'succeeded');
      }
      if (state === 'cancelled') {
        const key = ':cancelled'; // no operation name starts with ":"
        await this.addStep(m, key, cancelStep(this.store.header(topId)), 'finalizing');
        await this.endStep(m, key, false);
      }
      await this.client.post(`/jobs/${m.ovirtJobId}/end`, jobEndBody(state), { correlationId: topId });
    } catch (err) {
      // oVirt deletes auto-cleared jobs some time after their end (JobRepositoryCleanupManager)
      // and an admin may clear one; ending it then answers 400, not 404
      // (EndExternalJobCommand.validate). A job oVirt no longer has is not ended again
      // every minute: after a 4xx, GET /jobs/{id} tells.
      const refused = err instanceof OvirtApiError && err.status < 500;
      if (!refused || (await this.client.find(`/jobs/${m.ovirtJobId}`, { correlationId: topId }))) throw err;
      this.log.info('oVirt job is gone (cleared in oVirt): nothing left to end', { jobId: topId, ovirtJobId: m.ovirtJobId, error: (err as Error).message });
      return this.forget(topId);
    }
    this.forget(topId);
    this.log.info('oVirt job ended', { jobId: topId, ovirtJobId: m.ovirtJobId, succeeded: state === 'succeeded', state });
  }

  private forget(topId: string): void {
    // Late events of an ended job must not open a new oVirt job.
    if (this.ending.size > 10_000) this.ending.clear();
    this.ending.add(topId);
    this.jobs.delete(topId);
    this.state.dropJob(topId);
  }
}
