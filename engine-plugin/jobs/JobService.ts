// Verbs on jobs: validate a request, plan it (profile + request -> exact operations and
// params), expand it into one leaf per VM with rendered values, store the job and its
// leaves in one transaction, hand the leaves to the dispatcher and return at once.
// It also keeps bulk jobs' aggregate state as their children end.
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { Params, SECRET_KEYS } from '../../shared/catalog/customizations';
import { ConflictError, InputError, NotFoundError, PermissionError, SysprepError, UnavailableError } from '../../shared/errors';
import { checkSelection, OperationSelection, resolveSpec } from '../../shared/spec';
import type { Role } from '../config';
import { EngineConfig } from '../config';
import { AgentPool } from '../dispatch/AgentPool';
import { underRoot } from '../inventory/storageRoots';
import { Dispatcher } from '../dispatch/Dispatcher';
import { Inventory } from '../inventory/Inventory';
import type { DiskRef, Template, Vm } from '../inventory/Inventory';
import { InventoryActions } from '../inventory/InventoryActions';
import { Logger } from '../logger';
import { Slicer } from '../slicer';
import type { Profile } from '../profiles/Profile';
import { ProfileStore } from '../profiles/ProfileStore';
import type { Job, JobErrorInfo, JobKind, JobRequest, JobState, JobTarget, LeafJob } from './Job';
import { isFinal } from './Job';
import { JobAuthorizer } from './JobAuthorizer';
import { JobBus } from './JobBus';
import { JobStore, NewJob } from './JobStore';
import { PatternContext, patternContext, renderParams, SAMPLE_CONTEXT, validatePatternParams } from '../../shared/catalog/patterns';
import { deniedParam } from '../../shared/catalog/senderRole';
import type { BulkBody, SysprepBody } from './requestSchema';

export interface Caller {
  name: string;
  role: Role;
  /** A user who came with an oVirt SSO token (the UI plugin): oVirt authorizes each VM. */
  ovirt?: { userId: string; token: string };
}

/** A request resolved against its profile and the installed tool. */
export interface Plan {
  profile?: string;
  operations: string[];
  /** Unrendered (may hold patterns), secrets included: never stored as is. */
  params: Params;
  mode: 'safe' | 'in_place';
  dryRun: boolean;
  needsSpace: boolean;
}

const REDACTED = { redacted: true };

export function redact(params: Params): Params {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, SECRET_KEYS.has(k) ? REDACTED : v]));
}
const secretsOf = (params: Params): Params => Object.fromEntries(Object.entries(params).filter(([k]) => SECRET_KEYS.has(k)));

/** Fields an operator may not send: scripts and passwords (403 naming the field). */
export function checkOperatorFields(params: Record<string, unknown> | undefined): void {
  const denied = deniedParam(params, 'operator');
  if (denied) throw new PermissionError('FORBIDDEN_FIELD', `${denied.field}: the operator role may not send ${denied.what}; an ${denied.role} can`, { field: denied.field });
}

function mergeSelection(profile: OperationSelection, body: OperationSelection | undefined): OperationSelection {
  if (!body) return profile;
  if (body.only) return body;
  const enable = new Set([...(profile.enable ?? []), ...(body.enable ?? [])]);
  const disable = new Set([...(profile.disable ?? []), ...(body.disable ?? [])]);
  for (const n of body.enable ?? []) disable.delete(n);
  for (const n of body.disable ?? []) enable.delete(n);
  return { only: profile.only, enable: [...enable], disable: [...disable] };
}

interface Tally {
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  state: JobState;
  startedAt: string | null;
}

const progressOf = (t: Tally) => ({
  done: t.succeeded + t.failed + t.cancelled,
  total: t.total,
  current: `${t.succeeded} succeeded, ${t.failed} failed` + (t.cancelled ? `, ${t.cancelled} cancelled` : ''),
});

const errorOf = (e: SysprepError): JobErrorInfo => ({ code: e.code, message: e.message, details: e.details });

@injectable()
export class JobService {
  /** Bulk jobs' aggregates, loaded from the store once per parent, then kept here. */
  private readonly tallies = new Map<string, Tally>();

  constructor(
    @inject(JobStore) private readonly store: JobStore,
    @inject(Dispatcher) private readonly dispatcher: Dispatcher,
    @inject(AgentPool) private readonly agents: AgentPool,
    @inject(ProfileStore) private readonly profiles: ProfileStore,
    @inject(Inventory) private readonly inventory: Inventory,
    @inject(InventoryActions) private readonly actions: InventoryActions | null,
    @inject(JobBus) private readonly bus: JobBus,
    @inject(EngineConfig) private readonly config: EngineConfig,
    @inject(Logger) private readonly log: Logger,
    @inject(JobAuthorizer) private readonly authorizer: JobAuthorizer,
  ) {
    bus.onAny((e, parentId) => {
      if (parentId && e.state === 'running') this.parentStarted(parentId);
    });
    bus.onLeafFinal((e, parentId) => {
      if (parentId) this.childEnded(parentId, e.state);
    });
  }

  /** On start: bring bulk jobs whose children ended while the engine was down up to date. */
  reconcileParents(): void {
    for (const p of this.store.activeParents()) this.childEnded(p.id);
  }

  // ---- planning ------------------------------------------------------------------

  plan(body: SysprepBody, caller: Caller, profileName?: string): Plan {
    if (caller.role === 'viewer') throw new PermissionError('FORBIDDEN', 'the viewer role may not start jobs');
    if (caller.role === 'operator') checkOperatorFields(body.params);
    const name = body.profile ?? profileName;
    const profile: Profile | undefined = name ? this.profiles.get(name) : undefined;
    const known = this.agents.operations();
    const knownNames = new Set(known.map((o) => o.name));
    // The request's own lists first: merged into the profile's, a contradiction would vanish.
    checkSelection(body.operations);
    let selection = mergeSelection(profile?.operations ?? {}, body.operations);
    if (profile?.builtIn && selection.only === profile.operations.only) {
      // A built-in names operations of several tool versions: keep the installed ones.
      selection = { ...selection, only: selection.only?.filter((n) => knownNames.has(n)) };
    }
    const params = { ...profile?.params, ...body.params };
    validatePatternParams(params);
    const spec = resolveSpec({ operations: selection, params: renderParams(params, SAMPLE_CONTEXT) }, known);
    return {
      profile: profile?.name,
      operations: spec.operations,
      params,
      mode: body.mode ?? profile?.mode ?? 'safe',
      dryRun: body.dryRun,
      needsSpace: params.install !== undefined || params.update === true,
    };
  }

  // ---- verbs ---------------------------------------------------------------------

  async sysprepVm(ref: string, body: SysprepBody, caller: Caller, opts: { kind?: JobKind; profile?: string } = {}): Promise<Job> {
    const vm = await this.inventory.getVm(ref);
    if (!vm) throw new NotFoundError('VM_NOT_FOUND', `no VM "${ref}"`, { field: 'id' });
    const plan = this.plan(body, caller, opts.profile);
    await this.authorizer.authorize(caller, [{ type: 'vm', id: vm.id, name: vm.name }]);
    const ctx = await this.contextOf(vm, 1);
    this.checkVm(vm, opts.kind === 'auto-reset');
    const leaf = this.leaf({ type: 'vm', id: vm.id, name: vm.name }, `vm:${vm.id}`, vm.disks, vm.hostId, ctx, plan, caller, opts.kind ?? 'vm');
    return this.submitSingle(leaf);
  }

  async sealTemplate(ref: string, body: SysprepBody, caller: Caller): Promise<Job> {
    const t = await this.inventory.getTemplate(ref);
    if (!t) throw new NotFoundError('TEMPLATE_NOT_FOUND', `no template "${ref}"`, { field: 'id' });
    const plan = this.plan(body, caller, 'template-seal');
    await this.authorizer.authorize(caller, [{ type: 'template', id: t.id, name: t.name }]);
    const clones = (await this.actions?.vmsOfTemplate(t.id)) ?? [];
    if (clones.length && !plan.dryRun) {
      throw new ConflictError('TEMPLATE_IN_USE', `template "${t.name}" backs ${clones.length} VM disk(s): writing it would corrupt them`, { vms: clones.slice(0, 20).map((v) => v.name) });
    }
    const key = `template:${t.id}`;
    this.checkIdle(key, `template "${t.name}"`);
    const leaf = this.leaf({ type: 'template', id: t.id, name: t.name }, key, t.disks, undefined, { vm: t.name, index: 1, template: t.name }, plan, caller, 'template');
    return this.submitSingle(leaf);
  }

  async sysprepPool(ref: string, body: SysprepBody, caller: Caller): Promise<Job> {
    const pool = await this.inventory.getPool(ref);
    if (!pool) throw new NotFoundError('POOL_NOT_FOUND', `no pool "${ref}"`, { field: 'id' });
    const plan = this.plan(body, caller);
    const vms: Vm[] = [];
    const slicer = new Slicer();
    for (const id of pool.vmIds) {
      await slicer.pause();
      const vm = await this.inventory.getVm(id);
      if (vm) vms.push(vm);
    }
    await this.authorizer.authorize(caller, vms.map((v) => ({ type: 'vm' as const, id: v.id, name: v.name })));
    return this.submitBulk('pool', { type: 'pool', id: pool.id, name: pool.name }, vms, plan, caller);
  }

  async sysprepList(body: BulkBody, caller: Caller): Promise<Job> {
    const vms: Vm[] = [];
    for (const [i, ref] of body.vms.entries()) {
      const vm = await this.inventory.getVm(ref);
      if (!vm) throw new NotFoundError('VM_NOT_FOUND', `vms[${i}]: no VM "${ref}"`, { field: `vms[${i}]` });
      if (vms.some((v) => v.id === vm.id)) throw new InputError(`vms[${i}]`, `VM "${ref}" is listed twice`);
      vms.push(vm);
    }
    const plan = this.plan(body, caller);
    await this.authorizer.authorize(caller, vms.map((v) => ({ type: 'vm' as const, id: v.id, name: v.name })));
    return this.submitBulk('bulk', { type: 'vms', id: '', name: `${vms.length} VMs` }, vms, plan, caller);
  }

  async cancel(id: string, caller: Caller): Promise<Job> {
    if (caller.role === 'viewer') throw new PermissionError('FORBIDDEN', 'the viewer role may not cancel jobs');
    const job = this.store.get(id);
    if (!job) throw new NotFoundError('JOB_NOT_FOUND', `no job "${id}"`, { field: 'id' });
    if (isFinal(job.state)) throw new ConflictError('JOB_FINISHED', `job ${id} already ended ${job.state}`);
    this.log.info('cancel requested', { jobId: id, by: caller.name });
    const leaf = this.store.leaf(id);
    if (leaf) {
      await this.dispatcher.cancel(leaf);
    } else {
      this.store.requestCancel(id);
      const t = this.tallies.get(id);
      if (t) t.state = 'cancelling';
      this.bus.publish({ jobId: id, type: 'state', state: 'cancelling', at: new Date().toISOString() });
      await Promise.all(this.store.childLeaves(id).filter((c) => !isFinal(c.state)).map((c) => this.dispatcher.cancel(c)));
    }
    return this.store.get(id)!;
  }

  get(id: string, childLimit?: number): Job {
    const job = this.store.get(id, childLimit);
    if (!job) throw new NotFoundError('JOB_NOT_FOUND', `no job "${id}"`, { field: 'id' });
    return job;
  }

  // ---- expansion -----------------------------------------------------------------

  private async contextOf(vm: Vm, index: number, poolName?: string, templates = new Map<string, Template | undefined>()): Promise<PatternContext> {
    let template: Template | undefined;
    if (vm.templateId) {
      if (!templates.has(vm.templateId)) templates.set(vm.templateId, await this.inventory.getTemplate(vm.templateId));
      template = templates.get(vm.templateId);
    }
    if (poolName === undefined && vm.poolId) poolName = (await this.inventory.getPool(vm.poolId))?.name;
    return patternContext(vm, index, { pool: poolName, template: template?.name });
  }

  /** Pre-checks of one VM: Down, not already being worked on. */
  private checkVm(vm: Vm, autoReset = false): void {
    // An auto-reset runs on a VM the engine itself holds locked until it is ready.
    const ok = vm.status === 'down' || (autoReset && vm.status === 'image_locked');
    if (!ok) throw new ConflictError('VM_NOT_DOWN', `VM "${vm.name}" is ${vm.status}: it must be down`, { vm: vm.name, status: vm.status });
    this.checkIdle(`vm:${vm.id}`, `VM "${vm.name}"`);
  }

  private checkIdle(key: string, what: string): void {
    const active = this.store.activeJobFor(key);
    if (active) throw new ConflictError('VM_BUSY', `${what} already has an active job ${active}`, { jobId: active });
  }

  /** Disks reachable by an agent, and room for packages when asked. */
  private checkAgents(disks: DiskRef[], preferHost: string | undefined, plan: Plan): void {
    const serving = this.agents.servingAgents(disks, preferHost);
    if (serving.length === 0) {
      throw new UnavailableError('NO_AGENT', 'no host agent serves a storage root holding these disks', { disks: disks.map((d) => d.path) });
    }
    const healthy = serving.filter((a) => a.healthy);
    if (healthy.length === 0) throw new UnavailableError('AGENT_UNAVAILABLE', `the host agents that see these disks are unreachable: ${serving.map((a) => a.host.id).join(', ')}`);
    if (plan.needsSpace) {
      const roomy = healthy.some((a) =>
        disks.every((d) => {
          const root = a.capabilities?.storageRoots.find((r) => underRoot(d.path, r.path));
          return !root || Number(root.freeBytes) >= this.config.minFreeBytesForInstall;
        }),
      );
      if (!roomy) throw new ConflictError('INSUFFICIENT_SPACE', `installing or updating packages needs ${this.config.minFreeBytesForInstall} free bytes on the disks' storage`, { field: 'params.install' });
    }
  }

  private leaf(target: JobTarget, vmKey: string, disks: DiskRef[], preferHost: string | undefined, ctx: PatternContext, plan: Plan, caller: Caller, kind: JobKind, parentId?: string): { job: NewJob; secrets: Params } {
    const params = renderParams(plan.params, ctx);
    const secrets = secretsOf(params);
    const request: JobRequest = { profile: plan.profile, params: redact(params), mode: plan.mode, dryRun: plan.dryRun };
    const job: NewJob = {
      id: randomUUID(),
      parentId,
      kind,
      target,
      state: 'pending',
      host: undefined,
      requestedBy: caller.name,
      profile: plan.profile,
      request,
      operations: plan.operations,
      createdAt: new Date().toISOString(),
      progress: { done: 0, total: plan.operations.length, current: '' },
      steps: [],
      disks,
      vmKey,
      hasSecrets: Object.keys(secrets).length > 0,
    };
    if (!parentId) this.checkAgents(disks, preferHost, plan);
    return { job, secrets };
  }

  private submitSingle(leaf: { job: NewJob; secrets: Params }): Job {
    this.store.insert([leaf.job]);
    this.log.info('job created', { jobId: leaf.job.id, kind: leaf.job.kind, target: leaf.job.target.name, by: leaf.job.requestedBy });
    void this.dispatcher.submit([this.store.leaf(leaf.job.id)!], new Map([[leaf.job.id, leaf.secrets]]));
    return this.store.get(leaf.job.id)!;
  }

  private async submitBulk(kind: 'pool' | 'bulk', target: JobTarget, vms: Vm[], plan: Plan, caller: Caller): Promise<Job> {
    if (vms.length === 0) throw new ConflictError('POOL_EMPTY', `${target.name} has no VM`);
    const parentId = randomUUID();
    const now = new Date().toISOString();
    const templates = new Map<string, Template | undefined>();
    const leaves: { job: NewJob; secrets: Params }[] = [];
    let failed = 0;
    const seen = new Set<string>();
    const slicer = new Slicer();
    for (const [i, vm] of vms.entries()) {
      await slicer.pause();
      const ctx = await this.contextOf(vm, i + 1, kind === 'pool' ? target.name : undefined, templates);
      const leaf = this.leaf({ type: 'vm', id: vm.id, name: vm.name }, `vm:${vm.id}`, vm.disks, vm.hostId, ctx, plan, caller, 'vm', parentId);
      try {
        this.checkVm(vm);
        this.checkAgents(vm.disks, vm.hostId, plan);
        if (seen.has(vm.id)) throw new ConflictError('VM_BUSY', `VM "${vm.name}" is listed twice`);
        seen.add(vm.id);
      } catch (err) {
        // A VM that cannot be done does not stop the others: its child fails at once.
        if (!(err instanceof SysprepError)) throw err;
        Object.assign(leaf.job, { state: 'failed' as JobState, error: errorOf(err), endedAt: now });
        failed++;
      }
      leaves.push(leaf);
    }
    const allFailed = failed === vms.length;
    const parent: NewJob = {
      id: parentId,
      kind,
      target,
      state: allFailed ? 'failed' : 'pending',
      requestedBy: caller.name,
      profile: plan.profile,
      request: { profile: plan.profile, params: redact(plan.params), mode: plan.mode, dryRun: plan.dryRun, vms: kind === 'bulk' ? vms.map((v) => v.id) : undefined },
      operations: plan.operations,
      createdAt: now,
      endedAt: allFailed ? now : undefined,
      progress: { done: failed, total: vms.length, current: '' },
      steps: [],
      error: allFailed ? { code: 'ALL_VMS_FAILED', message: `none of the ${vms.length} VMs could be started`, details: {} } : undefined,
    };
    await this.store.insertBulk(parent, leaves.map((l) => l.job));
    this.log.info('bulk job created', { jobId: parentId, kind, target: target.name, vms: vms.length, rejected: failed, by: caller.name });
    const runnable = leaves.filter((l) => l.job.state === 'pending');
    const job = this.store.get(parentId)!;
    void this.dispatcher.submit(
      runnable.map((l) => ({ ...l.job, startedAt: undefined, dispatched: false, cancelRequested: false, agentSeq: 0 }) as LeafJob),
      new Map(runnable.map((l) => [l.job.id, l.secrets])),
    );
    return job;
  }

  // ---- bulk aggregation ----------------------------------------------------------

  /** The parent's aggregate; `fresh` when just read from the store (it counts every ended child). */
  private tally(parentId: string): { t?: Tally; fresh: boolean } {
    const known = this.tallies.get(parentId);
    if (known) return { t: known, fresh: false };
    const parent = this.store.header(parentId);
    if (!parent || isFinal(parent.state)) return { fresh: true };
    const counts = this.store.childStateCounts(parentId);
    const n = (s: JobState) => counts.get(s) ?? 0;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const t: Tally = { total, succeeded: n('succeeded'), failed: n('failed'), cancelled: n('cancelled'), state: parent.state, startedAt: parent.startedAt ?? null };
    this.tallies.set(parentId, t);
    return { t, fresh: true };
  }

  private parentStarted(parentId: string): void {
    const { t } = this.tally(parentId);
    if (t?.state !== 'pending') return;
    const now = new Date().toISOString();
    t.state = 'running';
    t.startedAt ??= now;
    this.store.updateParent(parentId, t.state, t.startedAt, null, progressOf(t));
    this.bus.publish({ jobId: parentId, type: 'state', state: 'running', at: now });
  }

  private childEnded(parentId: string, state?: JobState): void {
    const { t, fresh } = this.tally(parentId);
    if (!t) return;
    // A fresh tally was read from the store and already counts this child.
    if (!fresh && (state === 'succeeded' || state === 'failed' || state === 'cancelled')) t[state]++;
    const now = new Date().toISOString();
    const progress = progressOf(t);
    if (progress.done < t.total) {
      if (t.state === 'pending') t.state = 'running';
      t.startedAt ??= now;
      this.store.updateParent(parentId, t.state, t.startedAt, null, progress);
      return;
    }
    let final: JobState;
    if (t.succeeded === t.total) final = 'succeeded';
    else if (t.succeeded > 0) final = 'partial';
    else if (t.state === 'cancelling') final = 'cancelled';
    else final = 'failed';
    const error: JobErrorInfo | undefined =
      final === 'succeeded' ? undefined : { code: final === 'partial' ? 'SOME_VMS_FAILED' : final === 'cancelled' ? 'CANCELLED' : 'ALL_VMS_FAILED', message: `${t.total - t.succeeded} of ${t.total} VMs did not succeed`, details: { failed: t.failed, cancelled: t.cancelled } };
    this.store.updateParent(parentId, final, t.startedAt ?? now, now, progress, error);
    this.tallies.delete(parentId);
    this.log.info('bulk job ended', { jobId: parentId, state: final, ...progress });
    this.bus.publish({ jobId: parentId, type: 'state', state: final, progress, error, at: now }, undefined, false);
  }
}
