// Verbs on jobs: validate a request, plan it (profile + request -> exact operations and
// params), expand it into one leaf per VM with rendered values, store the job and its
// leaves in one transaction (JobLifecycle), hand the leaves to the runner (the
// dispatcher, through the JobRunner port) and return at once. A cancel is recorded by
// JobLifecycle, which owns every state change, and carried out by the runner.
import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { Params, SECRET_KEYS } from '../../shared/catalog/customizations';
import { SPARSIFY_FORMATS } from '../../shared/diskFormats';
import { ConflictError, GuestOsMismatchError, InputError, NotFoundError, PermissionError, SysprepError } from '../../shared/errors';
import { describeGuestOs, guestOsMismatches } from '../../shared/catalog/guestOsGuard';
import { GuestOsSource } from '../inventory/GuestOsSource';
import { checkSelection, OperationSelection, resolveSpec, validateParams } from '../../shared/spec';
import { Inventory } from '../inventory/Inventory';
import type { DiskRef, Template, Vm } from '../inventory/Inventory';
import { TemplateClones } from '../inventory/TemplateClones';
import { requirePool, requireTemplate, requireVm } from '../inventory/requireEntity';
import { Logger } from '../logger';
import { Slicer } from '../slicer';
import type { Profile } from '../profiles/Profile';
import { ProfileStore } from '../profiles/ProfileStore';
import type { Caller } from './Caller';
import type { FollowUp, Job, JobKind, JobRequest, JobState, JobTarget, LeafJob } from './Job';
import { endedProgress, isFinal, vmTarget } from './Job';
import { checkWorkable, vmNotDown } from './checkWorkable';
import { JobAuthorizer } from './JobAuthorizer';
import { JobLifecycle } from './JobLifecycle';
import { JobRunner } from './JobRunner';
import { JobStore, NewJob } from './JobStore';
import { PatternContext, patternContext, renderParams, SAMPLE_CONTEXT, validatePatternParams } from '../../shared/catalog/patterns';
import { AcrossVms } from '../../shared/catalog/acrossVms';
import { checkReplace, mergeParams } from '../../shared/catalog/mergeParams';
import { deniedParam } from '../../shared/catalog/senderRole';
import { EMPTY_SYSPREP_BODY } from './requestSchema';
import type { BulkBody, SysprepBody } from './requestSchema';
import { VmLocks } from './VmLocks';

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

/**
 * One VM of a bulk job. A pool's or a list's VMs share one plan; a room's VMs each have
 * their own (their own values and profile), an index (the room's id) and follow-up steps.
 */
export interface BulkItem {
  vm: Vm;
  plan: Plan;
  /** `${index}` of its patterns; default its 1-based place in the list. */
  index?: number;
  /** A clone held image_locked by its creator until this job ends (a room's new VM). */
  held?: boolean;
  followUp?: FollowUp;
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

/** The shortest job id prefix taken (contract 5 of issue 11; docs/api.md). */
export const SHORT_ID_MIN = 4;

@injectable()
export class JobService {
  constructor(
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobLifecycle) private readonly lifecycle: JobLifecycle,
    @inject(JobRunner) private readonly runner: JobRunner,
    @inject(VmLocks) private readonly locks: VmLocks,
    @inject(ProfileStore) private readonly profiles: ProfileStore,
    @inject(Inventory) private readonly inventory: Inventory,
    @inject(TemplateClones) private readonly templateClones: TemplateClones | null,
    @inject(Logger) private readonly log: Logger,
    @inject(JobAuthorizer) private readonly authorizer: JobAuthorizer,
    @inject(GuestOsSource) private readonly guestOs: GuestOsSource,
  ) {}

  // ---- planning ------------------------------------------------------------------

  plan(body: SysprepBody, caller: Caller, profileName?: string): Plan {
    if (caller.role === 'viewer') throw new PermissionError('FORBIDDEN', 'the viewer role may not start jobs');
    if (caller.role === 'operator') checkOperatorFields(body.params);
    const name = body.profile ?? profileName;
    const profile: Profile | undefined = name ? this.profiles.get(name) : undefined;
    const known = this.runner.operations();
    const knownNames = new Set(known.map((o) => o.name));
    // The request's own lists first: merged into the profile's, a contradiction would vanish.
    checkSelection(body.operations);
    let selection = mergeSelection(profile?.operations ?? {}, body.operations);
    if (profile?.builtIn && selection.only === profile.operations.only) {
      // A built-in names operations of several tool versions: keep the installed ones.
      selection = { ...selection, only: selection.only?.filter((n) => knownNames.has(n)) };
    }
    // A request's lists add to the profile's; `replace` names those it replaces.
    checkReplace(body);
    // The request's own values are checked first, so an error names the field as the
    // request wrote it: merged, its list items sit behind the profile's (truncate[0] -> [1]).
    if (body.params) {
      validatePatternParams(body.params);
      validateParams(renderParams(body.params, SAMPLE_CONTEXT));
    }
    const params = mergeParams({ params: profile?.params }, body);
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
    const vm = await requireVm(this.inventory, ref);
    const plan = this.plan(body, caller, opts.profile);
    await this.authorizer.authorize(caller, [{ type: 'vm', id: vm.id, name: vm.name }]);
    this.throwGuestOs(await this.guestOsRefusals([{ vm, plan }]), 1);
    const ctx = await this.contextOf(vm, 1);
    try {
      this.checkVm(vm, opts.kind === 'auto-reset');
    } catch (err) {
      // Nobody waits on an automatic reset's answer: a VM started before its reset ran
      // (booted with its source's identity: the reset is off for good) stays visible as a
      // failed job, not only as a thrown 409. Other refusals (a disk oVirt still copies)
      // are passing: thrown, for the caller to try again.
      if (opts.kind !== 'auto-reset' || !(err instanceof SysprepError) || err.code !== 'VM_NOT_DOWN') throw err;
      return this.recordRefused(vm, err, plan, ctx, caller, opts.kind);
    }
    const leaf = this.leaf(vmTarget(vm), `vm:${vm.id}`, vm.disks, vm.hostId, ctx, plan, caller, opts.kind ?? 'vm');
    return this.submitSingle(leaf);
  }

  /**
   * An automatic reset that must not run: recorded as a job already `failed` with `error`
   * (nothing is dispatched), so GET /jobs shows what was skipped and why.
   */
  async autoResetSkipped(ref: string, error: SysprepError, caller: Caller, profile: string): Promise<Job> {
    const vm = await requireVm(this.inventory, ref);
    const plan = this.plan(EMPTY_SYSPREP_BODY, caller, profile);
    return this.recordRefused(vm, error, plan, await this.contextOf(vm, 1), caller, 'auto-reset');
  }

  private recordRefused(vm: Vm, error: SysprepError, plan: Plan, ctx: PatternContext, caller: Caller, kind: JobKind): Job {
    const leaf = this.leaf(vmTarget(vm), `vm:${vm.id}`, vm.disks, vm.hostId, ctx, plan, caller, kind, undefined, false);
    const endedAt = new Date().toISOString();
    Object.assign(leaf.job, { state: 'failed' as JobState, error: error.toJSON(), endedAt, progress: endedProgress(leaf.job.progress) });
    this.lifecycle.created(leaf.job);
    this.log.warn('job refused and recorded as failed', { jobId: leaf.job.id, kind, target: vm.name, code: error.code, by: caller.name });
    return this.store.get(leaf.job.id)!;
  }

  async sealTemplate(ref: string, body: SysprepBody, caller: Caller): Promise<Job> {
    const plan = this.plan(body, caller, 'template-seal');
    const { t, key } = await this.writableTemplate(ref, caller, plan.dryRun);
    const leaf = this.leaf({ type: 'template', id: t.id, name: t.name }, key, t.disks, undefined, { vm: t.name, index: 1, template: t.name }, plan, caller, 'template');
    return this.submitSingle(leaf);
  }

  /**
   * Sparsify a VM or a template (virt-sparsify --in-place on the agent: executeSparsify.ts):
   * one leaf of kind `sparsify` under the same rules as a sysprep (the target down and
   * idle, its disks workable, a template not backing clones), refused before anything
   * runs when a disk is not qcow2 or raw. The job's `result.sparsify` has the bytes saved.
   */
  async sparsify(type: 'vm' | 'template', ref: string, body: { dryRun?: boolean }, caller: Caller): Promise<Job> {
    if (caller.role === 'viewer') throw new PermissionError('FORBIDDEN', 'the viewer role may not start jobs');
    const plan: Plan = { operations: [], params: {}, mode: 'in_place', dryRun: body.dryRun ?? false, needsSpace: false };
    const sparsifiable = (disks: DiskRef[], what: string) => {
      const bad = disks.find((d) => !(SPARSIFY_FORMATS as readonly string[]).includes(d.format));
      if (bad) throw new ConflictError('UNSUPPORTED_FORMAT', `${what} has a ${bad.format} disk (${bad.path}): sparsify works on qcow2 and raw disks only (virt-sparsify --in-place needs discard)`, { disk: bad.path, format: bad.format });
    };
    if (type === 'vm') {
      const vm = await requireVm(this.inventory, ref);
      await this.authorizer.authorize(caller, [{ type: 'vm', id: vm.id, name: vm.name }]);
      this.checkVm(vm);
      sparsifiable(vm.disks, `VM "${vm.name}"`);
      return this.submitSingle(this.leaf(vmTarget(vm), `vm:${vm.id}`, vm.disks, vm.hostId, await this.contextOf(vm, 1), plan, caller, 'sparsify'));
    }
    const { t, key } = await this.writableTemplate(ref, caller, plan.dryRun);
    sparsifiable(t.disks, `template "${t.name}"`);
    return this.submitSingle(this.leaf({ type: 'template', id: t.id, name: t.name }, key, t.disks, undefined, { vm: t.name, index: 1, template: t.name }, plan, caller, 'sparsify'));
  }

  /** A template a job may write: authorized, backing no clone (unless a dry run), workable, idle. */
  private async writableTemplate(ref: string, caller: Caller, dryRun: boolean): Promise<{ t: Template; key: string }> {
    const t = await requireTemplate(this.inventory, ref);
    await this.authorizer.authorize(caller, [{ type: 'template', id: t.id, name: t.name }]);
    const clones = (await this.templateClones?.vmsOfTemplate(t.id)) ?? [];
    if (clones.length && !dryRun) {
      throw new ConflictError('TEMPLATE_IN_USE', `template "${t.name}" backs ${clones.length} VM disk(s): writing it would corrupt them`, { vms: clones.slice(0, 20).map((v) => v.name) });
    }
    checkWorkable('template', t);
    const key = `template:${t.id}`;
    this.locks.checkIdle(key, `template "${t.name}"`);
    return { t, key };
  }

  /** Every VM of the pool, read a page at a time (a 100,000-VM pool is never held whole). */
  async sysprepPool(ref: string, body: SysprepBody, caller: Caller): Promise<Job> {
    const pool = await requirePool(this.inventory, ref);
    const plan = this.plan(body, caller);
    const inventory = this.inventory;
    async function* pages(): AsyncGenerator<BulkItem[]> {
      for (let i = 0; i < pool.vmIds.length; i += BULK_PAGE) {
        yield (await inventory.getVms(pool.vmIds.slice(i, i + BULK_PAGE))).map((vm) => ({ vm, plan }));
      }
    }
    return this.submitBulk('pool', { type: 'pool', id: pool.id, name: pool.name }, pages(), plan, caller);
  }

  async sysprepList(body: BulkBody, caller: Caller): Promise<Job> {
    const vms: Vm[] = [];
    for (const [i, ref] of body.vms.entries()) {
      const vm = await requireVm(this.inventory, ref, `vms[${i}]`);
      if (vms.some((v) => v.id === vm.id)) throw new InputError(`vms[${i}]`, `VM "${ref}" is listed twice`);
      vms.push(vm);
    }
    const plan = this.plan(body, caller);
    return this.submitBulk('bulk', { type: 'vms', id: '', name: `${vms.length} VMs` }, inPages(vms.map((vm) => ({ vm, plan }))), plan, caller);
  }

  /**
   * A room's rollout: one child per VM, each with its own plan (made by plan() per VM
   * beforehand, so every VM's values and role were checked before anything was cloned).
   * A VM that cannot be done now (busy, not down, no agent) fails its child alone.
   */
  async sysprepRoom(target: JobTarget, items: BulkItem[], caller: Caller): Promise<Job> {
    const parentPlan: Plan = { operations: [], params: {}, mode: 'safe', dryRun: false, needsSpace: false };
    return this.submitBulk('room', target, inPages(items), parentPlan, caller);
  }

  async cancel(id: string, caller: Caller): Promise<Job> {
    if (caller.role === 'viewer') throw new PermissionError('FORBIDDEN', 'the viewer role may not cancel jobs');
    const job = this.get(id, 0);
    if (isFinal(job.state)) throw new ConflictError('JOB_FINISHED', `job ${job.id} already ended ${job.state}`);
    this.log.info('cancel requested', { jobId: job.id, by: caller.name });
    await this.lifecycle.requestCancel(job, (leaves) => Promise.all(leaves.map((leaf) => this.runner.cancel(leaf))));
    return this.store.get(job.id)!;
  }

  /**
   * A job's id from its id or a unique prefix of it, at least SHORT_ID_MIN characters
   * (as git and docker accept): 404 JOB_NOT_FOUND, or 400 AMBIGUOUS_ID naming the field.
   */
  resolveId(ref: string, field = 'id'): string {
    const found = this.store.idsStartingWith(ref, 2);
    if (found[0] === ref) return ref;
    if (ref.length >= SHORT_ID_MIN && found.length === 1) return found[0];
    if (ref.length >= SHORT_ID_MIN && found.length > 1) {
      throw new InputError(field, `"${ref}" is the start of more than one job id: give more of it`, 'AMBIGUOUS_ID', { prefix: ref });
    }
    const hint = ref.length < SHORT_ID_MIN ? ` (a short id needs at least ${SHORT_ID_MIN} characters)` : '';
    throw new NotFoundError('JOB_NOT_FOUND', `no job "${ref}"${hint}`, { field });
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

  /**
   * The OS guard, for every VM before anything is run: a plan's Linux-only operations
   * and params on a Windows guest, or Windows params on a Linux one, are refused with 422
   * GUEST_OS_MISMATCH naming each field (and, for several VMs, each VM's). A bulk job
   * gathers the refusals of its pages and throws once it has seen every VM.
   */
  private async guestOsRefusals(items: readonly { vm: Vm; plan: Plan }[], refused: GuestOsRefusal[] = []): Promise<GuestOsRefusal[]> {
    const slicer = new Slicer();
    for (const { vm, plan } of items) {
      await slicer.pause();
      const os = await this.guestOs.guestOsOf(vm);
      const fields = guestOsMismatches(os, plan);
      if (fields.length) refused.push({ vm: vm.name, os: describeGuestOs(os), fields });
    }
    return refused;
  }

  private throwGuestOs(refused: readonly GuestOsRefusal[], vms: number): void {
    if (!refused.length) return;
    const [first] = refused;
    const which = refused.length === 1 && vms === 1 ? `VM "${first.vm}" is ${first.os}` : `${refused.length} of the ${vms} VMs do not fit (first: VM "${first.vm}", ${first.os})`;
    const hint = first.os.includes('Windows') ? ' (a Windows guest takes computerName, unattend, domainJoinPassword, setupComplete, registry: profile windows-reset)' : ' (Windows customisations need a Windows guest)';
    throw new GuestOsMismatchError(`${which}: ${first.fields.join(', ')} cannot be applied to it${hint}`, first.fields, { vm: first.vm, ...(vms > 1 ? { vms: refused } : {}) });
  }

  /** Pre-checks of one VM: Down, its disks workable, no snapshot in preview, not already being worked on. */
  private checkVm(vm: Vm, held = false, busy?: ReadonlyMap<string, string>): void {
    // An auto-reset (or a room's rollout) runs on a VM the engine itself holds locked until
    // it is ready (the VM's status); its DISKS must still be usable: a disk oVirt locks is never worked on.
    const ok = vm.status === 'down' || (held && vm.status === 'image_locked');
    if (!ok) throw vmNotDown(vm);
    checkWorkable('vm', vm);
    this.locks.checkIdle(`vm:${vm.id}`, `VM "${vm.name}"`, busy);
  }

  private leaf(target: JobTarget, vmKey: string, disks: DiskRef[], preferHost: string | undefined, ctx: PatternContext, plan: Plan, caller: Caller, kind: JobKind, parentId?: string, checkRun = !parentId): { job: NewJob; secrets: Params; params: Params } {
    const params = renderParams(plan.params, ctx);
    const secrets = secretsOf(params);
    const request: JobRequest = { profile: plan.profile, params: redact(params), mode: plan.mode, dryRun: plan.dryRun };
    const createdAt = new Date().toISOString();
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
      createdAt,
      progress: { done: 0, total: plan.operations.length, current: '', phase: 'queued', phaseSince: createdAt },
      steps: [],
      disks,
      vmKey,
      hasSecrets: Object.keys(secrets).length > 0,
    };
    if (checkRun) this.runner.checkCanRun(disks, preferHost, plan.needsSpace);
    return { job, secrets, params };
  }

  private submitSingle(leaf: { job: NewJob; secrets: Params }): Job {
    this.lifecycle.created(leaf.job);
    this.log.info('job created', { jobId: leaf.job.id, kind: leaf.job.kind, target: leaf.job.target.name, by: leaf.job.requestedBy });
    this.runner.submit(new Map([[leaf.job.id, leaf.secrets]]));
    return this.store.get(leaf.job.id)!;
  }

  /**
   * A bulk job from its VMs, a page at a time: each page is authorized, checked and its
   * children stored (JobLifecycle.createdChildren) before the next is read; the parent is
   * stored last, the commit point. Refusals that need every VM (the OS guard, values that
   * must differ between VMs) are thrown once every page was seen, and then, as for any
   * other refusal, the children stored so far are removed: nothing was run or shown.
   */
  private async submitBulk(kind: 'pool' | 'bulk' | 'room', target: JobTarget, pages: AsyncIterable<BulkItem[]>, plan: Plan, caller: Caller): Promise<Job> {
    const parentId = randomUUID();
    const now = new Date().toISOString();
    const templates = new Map<string, Template | undefined>();
    const secrets = new Map<string, Params>();
    const refused: GuestOsRefusal[] = [];
    const across = new AcrossVms();
    let acrossError: unknown;
    const seen = new Set<string>();
    const listed: string[] = [];
    let total = 0;
    let failed = 0;
    const slicer = new Slicer();
    try {
      for await (const items of pages) {
        await this.authorizer.authorize(caller, items.map((i) => ({ type: 'vm' as const, id: i.vm.id, name: i.vm.name })));
        await this.guestOsRefusals(items, refused);
        const busy = this.locks.busy(items.map((i) => `vm:${i.vm.id}`)); // the page's active jobs, in one read
        const children: NewJob[] = [];
        for (const item of items) {
          const { vm } = item;
          total++;
          if (kind === 'bulk') listed.push(vm.id);
          if (refused.length || acrossError) continue; // refused as a whole: only counted now
          await slicer.pause();
          const ctx = await this.contextOf(vm, item.index ?? total, kind === 'pool' ? target.name : undefined, templates);
          const leaf = this.leaf(vmTarget(vm), `vm:${vm.id}`, vm.disks, vm.hostId, ctx, item.plan, caller, 'vm', parentId);
          if (item.followUp) leaf.job.request.followUp = item.followUp;
          try {
            this.checkVm(vm, item.held, busy);
            this.runner.checkCanRun(vm.disks, vm.hostId, item.plan.needsSpace);
            if (seen.has(vm.id)) throw new ConflictError('VM_BUSY', `VM "${vm.name}" is listed twice`);
            seen.add(vm.id);
            if (Object.keys(leaf.secrets).length) secrets.set(leaf.job.id, leaf.secrets);
          } catch (err) {
            // A VM that cannot be done does not stop the others: its child fails at once.
            if (!(err instanceof SysprepError)) throw err;
            Object.assign(leaf.job, { state: 'failed' as JobState, error: err.toJSON(), endedAt: now, progress: endedProgress(leaf.job.progress) });
            failed++;
          }
          // Values that must differ between VMs (static addresses): one clash refuses the whole job.
          try {
            across.add(leaf.job.target.name, leaf.params);
          } catch (err) {
            acrossError = err;
          }
          children.push(leaf.job);
        }
        if (!refused.length && !acrossError) await this.lifecycle.createdChildren(children);
      }
      if (total === 0) throw new ConflictError('POOL_EMPTY', `${target.name} has no VM`);
      this.throwGuestOs(refused, total);
      if (acrossError) throw acrossError;
      const allFailed = failed === total;
      const parent: NewJob = {
        id: parentId,
        kind,
        target,
        state: allFailed ? 'failed' : 'pending',
        requestedBy: caller.name,
        profile: plan.profile,
        request: { profile: plan.profile, params: redact(plan.params), mode: plan.mode, dryRun: plan.dryRun, vms: kind === 'bulk' ? listed : undefined },
        operations: plan.operations,
        createdAt: now,
        endedAt: allFailed ? now : undefined,
        progress: { done: failed, total, current: '' },
        steps: [],
        error: allFailed ? { code: 'ALL_VMS_FAILED', message: `none of the ${total} VMs could be started`, details: {} } : undefined,
      };
      this.lifecycle.createdParent(parent);
    } catch (err) {
      this.lifecycle.abandonedChildren(parentId);
      throw err;
    }
    this.log.info('bulk job created', { jobId: parentId, kind, target: target.name, vms: total, rejected: failed, by: caller.name });
    const job = this.store.get(parentId)!;
    this.runner.submit(secrets);
    return job;
  }
}

interface GuestOsRefusal {
  vm: string;
  os: string;
  fields: string[];
}

/** VMs a bulk job reads, checks and stores at a time. */
const BULK_PAGE = 500;

async function* inPages<T>(items: readonly T[]): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += BULK_PAGE) yield items.slice(i, i + BULK_PAGE);
}
