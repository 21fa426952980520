// The VM lifecycle guard while a job works on a VM's disks. oVirt has no lock a plugin
// can take on a VM, so the guard is a marker plus a watch (docs/ovirt.md, "Lifecycle
// guard", says what it does not prevent):
//  1. the job service only creates a job for a VM oVirt reports Down (getVm is live);
//  2. when the VM's job starts running, the tag `guard_tag` (created once) is assigned
//     to the VM (POST /vms/{id}/tags): admins see it in the VM list and can search
//     `tag=ovirt-sysprep-busy`; a start is not blocked by oVirt;
//  3. while the job runs, the VM's status is read every guard_poll_sec; a VM that left
//     Down (someone started it) gets its job cancelled at once: in safe mode the
//     overlay is thrown away and the disks stay as they were;
//  4. when the job ends the tag is removed; at start, tags left by a crash on VMs
//     without an active job are removed.
// The host agent's image-lock probe (a running QEMU holds a write lock) is the last check.
import { inject, injectable } from 'tsyringe';
import { NotFoundError } from '../../shared/errors';
import { isFinal } from '../jobs/Job';
import { JobBus, JobEventMessage } from '../jobs/JobBus';
import { JobService } from '../jobs/JobService';
import { JobStore } from '../jobs/JobStore';
import { Logger } from '../logger';
import { OvirtClient } from './OvirtClient';
import { OvirtConfig } from './OvirtConfig';
import { items, OvVm, Ref } from './ovirtModel';

export const GUARD_CALLER = { name: 'ovirt-lifecycle-guard', role: 'admin' as const };

@injectable()
export class LifecycleGuard {
  private tagId?: Promise<string>;
  private readonly held = new Map<string, { vmId: string; timer: NodeJS.Timeout; ready: Promise<void> }>();
  private unsubscribe?: () => void;
  private cleaning?: Promise<void>;
  private readonly releasing = new Set<Promise<void>>();

  constructor(
    @inject(OvirtClient) private readonly client: OvirtClient,
    @inject(OvirtConfig) private readonly config: OvirtConfig,
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobBus) private readonly bus: JobBus,
    @inject(JobService) private readonly jobs: JobService,
    @inject(Logger) private readonly log: Logger,
  ) {}

  start(): void {
    if (this.config.guard === 'none') return;
    this.unsubscribe = this.bus.onAny((e) => this.onEvent(e));
    this.cleaning = this.cleanup().catch((err) => void this.log.warn('could not clean up lifecycle tags', { error: (err as Error).message }));
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.cleaning;
    for (const h of this.held.values()) clearInterval(h.timer);
    await Promise.all([...this.held.values()].map((h) => h.ready));
    await Promise.all([...this.releasing]);
    this.held.clear();
  }

  /** Jobs whose VM is under guard (tests). */
  guarded(): string[] {
    return [...this.held.keys()];
  }

  private onEvent(e: JobEventMessage): void {
    const job = this.store.header(e.jobId);
    if (!job || job.target.type !== 'vm') return;
    const vmId = job.target.id;
    if (e.state === 'running' && !this.held.has(e.jobId)) {
      const timer = setInterval(() => void this.watch(e.jobId, vmId), this.config.guardPollSec * 1000);
      timer.unref();
      const ready = this.assign(vmId, e.jobId).catch((err) => void this.log.warn('could not tag the VM during its job', { jobId: e.jobId, vmId, error: (err as Error).message }));
      this.held.set(e.jobId, { vmId, timer, ready });
    } else if (isFinal(e.state)) {
      const h = this.held.get(e.jobId);
      if (!h) return;
      clearInterval(h.timer);
      this.held.delete(e.jobId);
      const releasing: Promise<void> = h.ready
        .then(() => this.release(vmId, e.jobId))
        .catch((err) => void this.log.warn('could not remove the job tag from the VM', { jobId: e.jobId, vmId, error: (err as Error).message }))
        .finally(() => this.releasing.delete(releasing));
      this.releasing.add(releasing);
    }
  }

  private async watch(jobId: string, vmId: string): Promise<void> {
    if (!this.held.has(jobId)) return;
    let status: string | undefined;
    try {
      status = (await this.client.find<OvVm>(`/vms/${vmId}`, { correlationId: jobId }))?.status ?? 'removed';
    } catch (err) {
      return void this.log.warn('could not read the VM status during its job', { jobId, vmId, error: (err as Error).message });
    }
    if (status === 'down' || !this.held.has(jobId)) return;
    this.log.error('VM left Down during its sysprep job: cancelling the job', { jobId, vmId, status });
    try {
      await this.jobs.cancel(jobId, GUARD_CALLER);
    } catch (err) {
      this.log.warn('could not cancel the job of a started VM', { jobId, error: (err as Error).message });
    }
  }

  private tag(): Promise<string> {
    this.tagId ??= (async () => {
      const existing = items<Ref>(await this.client.get('/tags'), 'tag').find((t) => t.name === this.config.guardTag);
      if (existing) return existing.id;
      const made = await this.client.post<Ref>('/tags', { name: this.config.guardTag, description: 'ovirt-sysprep is working on the disks of this VM: do not start it' });
      return made.id;
    })().catch((err) => {
      this.tagId = undefined;
      throw err;
    });
    return this.tagId;
  }

  private async assign(vmId: string, jobId: string): Promise<void> {
    const id = await this.tag();
    await this.client.post(`/vms/${vmId}/tags`, { id, name: this.config.guardTag }, { correlationId: jobId });
  }

  private async release(vmId: string, jobId?: string): Promise<void> {
    const id = await this.tag();
    try {
      await this.client.delete(`/vms/${vmId}/tags/${id}`, { correlationId: jobId });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** Tags left on VMs by a crash: removed when the VM has no active job. */
  private async cleanup(): Promise<void> {
    const vms = items<OvVm>(await this.client.get('/vms', { query: { search: `tag=${this.config.guardTag}` } }), 'vm');
    for (const vm of vms) {
      if (!this.store.activeJobFor(`vm:${vm.id}`)) await this.release(vm.id);
    }
  }
}
