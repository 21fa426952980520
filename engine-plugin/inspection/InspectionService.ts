// Inspection as a job (issue 15; docs/inspection.md). Steps:
//  1. start(): the VM or template is found and authorized (read only), and a leaf job of
//     kind `inspect` is stored under its key (`vm:ID` / `template:ID`): no sysprep, start
//     or second inspection meanwhile; asked again while one runs, the running job is the
//     answer. 202 at once.
//  2. run(): the engine, not the dispatcher, runs it: the job goes `running` in phase
//     `starting-appliance` (most of an inspection is the appliance boot), the agent
//     inspects (one guestfish session), the result is cached with the disks' generations
//     the agent read before it began, and the job ends succeeded (or failed with the
//     agent's error).
//  3. cached() / guestOsOf(): the stored inspection while every disk's generation, read
//     now from the agent (CheckDisks, no appliance), equals the inspected one.
// An inspect job has nothing to resume on an agent: one left active by a stopped engine
// is failed at start (reconcile(), before the dispatcher resumes the others).
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { asSysprepError, ConflictError, NotFoundError } from '../../shared/errors';
import type { GuestOs } from '../../shared/guestOs';
import { Inventory } from '../inventory/Inventory';
import type { DiskRef, Template, Vm } from '../inventory/Inventory';
import { requireTemplate, requireVm } from '../inventory/requireEntity';
import { Inspector } from '../dispatch/Inspector';
import { Logger } from '../logger';
import type { Caller } from '../jobs/Caller';
import type { Job, LeafJob } from '../jobs/Job';
import { JobAuthorizer } from '../jobs/JobAuthorizer';
import { JobLifecycle } from '../jobs/JobLifecycle';
import { JobStore, NewJob } from '../jobs/JobStore';
import type { GuestOsLookup } from './GuestOsLookup';
import { Inspection, stillValid, toInspection } from './Inspection';
import { InspectionStore } from './InspectionStore';

export type InspectedType = 'vm' | 'template';
type Subject = { type: InspectedType; entity: Vm | Template };

const keyOf = (s: Subject) => `${s.type}:${s.entity.id}`;
const hostOf = (s: Subject) => (s.type === 'vm' ? (s.entity as Vm).hostId : undefined);
const PATH_OF: Record<InspectedType, string> = { vm: 'vms', template: 'templates' };

@injectable()
export class InspectionService implements GuestOsLookup {
  /** Set by stop(): an inspection answering after it records nothing (the store is closing). */
  private stopped = false;

  constructor(
    @inject(Inventory) private readonly inventory: Inventory,
    @inject(Inspector) private readonly inspector: Inspector,
    @inject(InspectionStore) private readonly cache: InspectionStore,
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobLifecycle) private readonly lifecycle: JobLifecycle,
    @inject(JobAuthorizer) private readonly authorizer: JobAuthorizer,
    @inject(Logger) private readonly log: Logger,
  ) {}

  private async subject(type: InspectedType, ref: string): Promise<Subject> {
    return { type, entity: type === 'vm' ? await requireVm(this.inventory, ref) : await requireTemplate(this.inventory, ref) };
  }

  /** POST .../inspection: a new inspect job, or the one already running on this target. */
  async start(type: InspectedType, ref: string, caller: Caller): Promise<Job> {
    const s = await this.subject(type, ref);
    await this.authorizer.authorize(caller, [{ type, id: s.entity.id, name: s.entity.name, readOnly: true }]);
    // From here to the insert nothing awaits: two requests cannot both find the key free.
    const key = keyOf(s);
    const active = this.store.activeJobFor(key);
    if (active) {
      const job = this.store.get(active);
      if (job?.kind === 'inspect') return job;
      throw new ConflictError('VM_BUSY', `${type} "${s.entity.name}" already has an active job ${active}: inspect it once that job ended`, { jobId: active });
    }
    const now = new Date().toISOString();
    const job: NewJob = {
      id: randomUUID(),
      kind: 'inspect',
      target: { type, id: s.entity.id, name: s.entity.name },
      state: 'pending',
      requestedBy: caller.name,
      request: { params: {}, mode: 'safe', dryRun: false },
      operations: [],
      createdAt: now,
      progress: { done: 0, total: 1, current: 'inspection', phase: 'queued', phaseSince: now },
      steps: [],
      disks: s.entity.disks,
      vmKey: key,
      hasSecrets: false,
    };
    this.lifecycle.created(job);
    const leaf = this.store.leaf(job.id)!;
    void this.run(leaf, s);
    return this.store.get(job.id)!;
  }

  private async run(leaf: LeafJob, s: Subject): Promise<void> {
    const at = () => new Date().toISOString();
    try {
      const disks: DiskRef[] = s.entity.disks;
      this.lifecycle.agentEvent(leaf, {
        jobId: leaf.id, seq: 1, at: at(), type: 'state', state: 'RUNNING', operation: '', message: '', error: null, warning: null, sparsify: null, batch: null,
        progress: { done: 0, total: 1, current: 'inspection', phase: 'starting-appliance', phaseSince: at() },
      });
      const { result, host } = await this.inspector.inspect(disks, hostOf(s));
      // Cancelled meanwhile (the dispatcher's cancel ends a leaf it does not run at once): no result.
      if (this.stopped || this.store.hasEnded(leaf.id)) return;
      this.lifecycle.assignHosts([leaf], host);
      const inspection = toInspection(result, {
        target: { type: s.type, id: s.entity.id, name: s.entity.name },
        disks,
        host,
        jobId: leaf.id,
        inspectedAt: at(),
      });
      this.cache.put(keyOf(s), inspection);
      this.log.info('inspected', { jobId: leaf.id, target: keyOf(s), host, os: inspection.os, elapsedMs: inspection.elapsedMs });
      this.lifecycle.finishLeaf(leaf, 'succeeded', undefined);
    } catch (err) {
      if (this.stopped) return; // the next start fails the job (reconcile)
      const e = asSysprepError(err);
      this.log.warn('inspection failed', { jobId: leaf.id, target: keyOf(s), code: e.code, error: e.message });
      this.lifecycle.finishLeaf(leaf, 'failed', e.toJSON());
    }
  }

  /** GET .../inspection: the cached inspection while its disks are unchanged, else 404 with what to do. */
  async cached(type: InspectedType, ref: string): Promise<Inspection & { cached: true }> {
    const s = await this.subject(type, ref);
    const found = await this.valid(s);
    const post = `POST /${PATH_OF[type]}/${s.entity.id}/inspection`;
    if (found.inspection) return { ...found.inspection, cached: true };
    if (found.stale) {
      throw new NotFoundError('INSPECTION_STALE', `the disks of ${type} "${s.entity.name}" changed since its inspection of ${found.stale.inspectedAt} (job ${found.stale.jobId}): ${post} to inspect them again`, { jobId: found.stale.jobId, inspectedAt: found.stale.inspectedAt });
    }
    const running = this.store.activeJobFor(keyOf(s));
    const job = running && this.store.get(running)?.kind === 'inspect' ? running : undefined;
    throw new NotFoundError('INSPECTION_NOT_FOUND', job
      ? `${type} "${s.entity.name}" is being inspected (job ${job}): wait for it, then ask again`
      : `${type} "${s.entity.name}" has not been inspected: ${post} starts an inspection (a job)`, job ? { jobId: job } : {});
  }

  /** Contract 10: the cached inspection's GuestOs if still valid; never throws, never inspects. */
  async guestOsOf(vm: Vm): Promise<GuestOs | undefined> {
    try {
      return (await this.valid({ type: 'vm', entity: vm })).inspection?.os;
    } catch (err) {
      this.log.debug('no inspection to go by', { vmId: vm.id, error: (err as Error).message });
      return undefined;
    }
  }

  private async valid(s: Subject): Promise<{ inspection?: Inspection; stale?: Inspection }> {
    const stored = this.cache.get(keyOf(s));
    if (!stored) return {};
    const now = await this.inspector.generations(s.entity.disks, hostOf(s));
    return stillValid(stored.disks, s.entity.disks, now) ? { inspection: stored } : { stale: stored };
  }

  /** Engine stop: inspections still running end with the next start's reconcile(). */
  stop(): void {
    this.stopped = true;
  }

  /** On start: inspect jobs a stopped engine left active cannot be resumed (nothing runs them). */
  reconcile(): void {
    for (const leaf of this.store.activeOfKind('inspect')) {
      this.lifecycle.finishLeaf(leaf, 'failed', { code: 'ENGINE_RESTARTED', message: 'the engine stopped during the inspection: start it again', details: {} });
    }
  }
}
