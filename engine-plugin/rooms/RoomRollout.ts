// `room rollout`: from a room's plan to one bulk job of kind `room`.
//  1. Read what exists (RoomState) and decide per VM (roomDecisions.rolloutDecision):
//     any VM refused (exists without --resume, or without the room's mark) -> 409 naming
//     its file:line, nothing done.
//  2. Check everything before anything is created: each VM's plan (JobService.plan: its
//     values, its profile, the caller's role for them), each template to clone from, the
//     caller's right on the templates and VMs (JobAuthorizer). A refusal names the VM's
//     file:line. A dry run answers here: the decision and the plan of each VM.
//  3. Clone the missing VMs with the room's mark, held image_locked where the inventory
//     holds (InventoryActions) until their follow-up releases them. A clone that fails
//     is reported with the others and does not stop them.
//  4. One job: a child per VM with its own plan and follow-up (RoomFollowUp: release,
//     snapshot, start), through JobService.sysprepRoom.
import { inject, injectable } from 'tsyringe';
import { asSysprepError, ConflictError, NotFoundError, PermissionError, SysprepError } from '../../shared/errors';
import type { ErrorInfo } from '../../shared/errors';
import { ROOM_MARK, roomMarkValue } from '../../shared/rooms/RoomPlan';
import type { RoomPlan, RoomSource } from '../../shared/rooms/RoomPlan';
import { Inventory } from '../inventory/Inventory';
import type { Vm } from '../inventory/Inventory';
import { InventoryActions } from '../inventory/InventoryActions';
import { VmCloning } from '../inventory/VmCloning';
import { VmPower } from '../inventory/VmPower';
import { VmSnapshots } from '../inventory/VmSnapshots';
import type { Caller } from '../jobs/Caller';
import type { Job } from '../jobs/Job';
import { JobAuthorizer } from '../jobs/JobAuthorizer';
import type { JobTargetRef } from '../jobs/JobAuthorizer';
import { JobService } from '../jobs/JobService';
import type { BulkItem, Plan } from '../jobs/JobService';
import { Logger } from '../logger';
import { RolloutAction, rolloutDecision, whereOf } from './roomDecisions';
import { RoomFollowUp } from './RoomFollowUp';
import { RoomState } from './RoomState';

/** The profile of a room VM that names none. */
export const ROOM_DEFAULT_PROFILE = 'clone-reset';

export interface RolloutVm {
  name: string;
  id: number;
  /** file:line of its group. */
  at: string;
  action: RolloutAction;
  reason: string;
  template: string;
  addresses: string[];
  profile?: string;
  /** The operations its sysprep runs (not for `done`). */
  operations?: string[];
  /** Its child job (not on a dry run, nor for `done`). */
  jobId?: string;
  /** Why it could not be cloned (the others went on). */
  error?: ErrorInfo;
}

export interface RolloutResult {
  room: string;
  dryRun: boolean;
  vms: RolloutVm[];
  /** The room job (absent on a dry run and when nothing was left to do). */
  job?: Job;
}

/** A refusal about one VM, naming where the room file wrote it. */
function about(plan: RoomPlan, at: RoomSource, vm: string, err: unknown): SysprepError {
  const e = asSysprepError(err);
  const where = whereOf(plan, at);
  return new SysprepError(e.kind, e.code, `${where}: VM "${vm}": ${e.message}`, { ...e.details, file: plan.file, line: at.line, key: at.key, vm });
}

@injectable()
export class RoomRollout {
  constructor(
    @inject(RoomState) private readonly state: RoomState,
    @inject(Inventory) private readonly inventory: Inventory,
    @inject(VmCloning) private readonly cloning: VmCloning | null,
    @inject(InventoryActions) private readonly actions: InventoryActions | null,
    @inject(VmSnapshots) private readonly snapshots: VmSnapshots | null,
    @inject(VmPower) private readonly power: VmPower | null,
    @inject(JobService) private readonly jobs: JobService,
    @inject(JobAuthorizer) private readonly authorizer: JobAuthorizer,
    @inject(RoomFollowUp) private readonly followUp: RoomFollowUp,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async rollout(plan: RoomPlan, opts: { resume?: boolean; dryRun?: boolean }, caller: Caller): Promise<RolloutResult> {
    if (caller.role === 'viewer') throw new PermissionError('FORBIDDEN', 'the viewer role may not roll a room out');
    // The rollout's point is its snapshot (what reset reverts to): no snapshots, no rollout.
    this.state.require(this.snapshots, 'snapshots', 'rollout');
    if (plan.startAfterRollout) this.state.require(this.power, 'starting VMs (start_after_rollout)', 'rollout');
    const states = await this.state.read(plan);

    // 1. decisions
    const decided = states.map((s) => ({ ...s, decision: rolloutDecision(plan.room, s.vm, s.snapshots, plan.resetToSnapshot, !!opts.resume) }));
    const refused = decided.filter((d) => d.decision.action === 'conflict');
    if (refused.length) {
      const first = refused[0];
      throw new ConflictError('ROOM_VM_EXISTS', `${whereOf(plan, first.plan.at)}: VM "${first.plan.name}" ${first.decision.reason}` + (refused.length > 1 ? ` (and ${refused.length - 1} more)` : ''), {
        file: plan.file,
        line: first.plan.at.line,
        key: first.plan.at.key,
        vms: refused.map((r) => ({ name: r.plan.name, at: whereOf(plan, r.plan.at), reason: r.decision.reason })),
      });
    }
    const todo = decided.filter((d) => d.decision.action !== 'done');
    if (todo.some((d) => d.decision.action === 'clone')) this.state.require(this.cloning, 'cloning VMs from templates', 'rollout');

    // 2. every check before anything is created
    const plans = new Map<string, Plan>();
    for (const d of todo) {
      try {
        plans.set(d.plan.name, this.jobs.plan({ params: d.plan.params, replace: d.plan.replace, profile: d.plan.profile, dryRun: false }, caller, ROOM_DEFAULT_PROFILE));
      } catch (err) {
        throw about(plan, d.plan.at, d.plan.name, err);
      }
    }
    const targets: JobTargetRef[] = [];
    const templates = new Map<string, JobTargetRef>();
    for (const d of todo) {
      if (d.vm) targets.push({ type: 'vm', id: d.vm.id, name: d.vm.name });
      else if (!templates.has(d.plan.template)) {
        const t = await this.inventory.getTemplate(d.plan.template);
        if (!t) throw about(plan, d.plan.templateAt, d.plan.name, new NotFoundError('TEMPLATE_NOT_FOUND', `${d.plan.templateAt.key}: no template "${d.plan.template}"`, { field: d.plan.templateAt.key }));
        // Cloned from, not written: a template with VMs on it is fine here (not a seal).
        templates.set(d.plan.template, { type: 'template', id: t.id, name: t.name, readOnly: true });
      }
    }
    await this.authorizer.authorize(caller, [...targets, ...templates.values()]);

    const result = (d: (typeof decided)[number], extra: Partial<RolloutVm> = {}): RolloutVm => ({
      name: d.plan.name,
      id: d.plan.id,
      at: whereOf(plan, d.plan.at),
      action: d.decision.action,
      reason: d.decision.reason,
      template: d.plan.template,
      addresses: d.plan.addresses,
      profile: plans.get(d.plan.name)?.profile ?? d.plan.profile,
      operations: plans.get(d.plan.name)?.operations,
      ...extra,
    });
    if (opts.dryRun || todo.length === 0) return { room: plan.room, dryRun: !!opts.dryRun, vms: decided.map((d) => result(d)) };

    // 3. clones
    const held = this.actions !== null;
    const items: BulkItem[] = [];
    const errors = new Map<string, ErrorInfo>();
    for (const d of todo) {
      let vm: Vm | undefined = d.vm;
      if (!vm) {
        try {
          vm = await this.cloning!.cloneVm({ name: d.plan.name, template: d.plan.template, status: held ? 'image_locked' : 'down', marks: { [ROOM_MARK]: roomMarkValue(plan.room) } });
        } catch (err) {
          const e = about(plan, d.plan.at, d.plan.name, err);
          this.log.warn('room VM could not be cloned', { room: plan.room, vm: d.plan.name, code: e.code, error: e.message });
          errors.set(d.plan.name, e.toJSON());
          continue;
        }
      }
      items.push({ vm, plan: plans.get(d.plan.name)!, index: d.plan.id, held: !d.vm && held, followUp: { snapshotDescription: d.plan.snapshotDescription, start: plan.startAfterRollout } });
    }
    if (items.length === 0) {
      const first = todo[0];
      throw new SysprepError('failed', 'ROOM_CLONES_FAILED', `no VM of room "${plan.room}" could be cloned: ${errors.get(first.plan.name)?.message}`, { vms: Object.fromEntries(errors) });
    }

    // 4. the job
    let job: Job;
    try {
      job = await this.jobs.sysprepRoom({ type: 'room', id: plan.room, name: plan.room }, items, caller);
    } catch (err) {
      // No job will release them: the new VMs are let go now (marked: resume finds them).
      for (const i of items) if (i.held) await this.actions!.setVmStatus(i.vm.id, 'down').catch(() => undefined);
      throw err;
    }
    // Children refused as the job was made (a VM busy, no agent for its disks) are stored
    // failed and never end through the lifecycle: their follow-up (the release) runs now.
    for (const c of job.children ?? []) if (c.state === 'failed') this.followUp.ended(c.id);
    const childOf = new Map((job.children ?? []).map((c) => [c.target.name, c.id]));
    this.log.info('room rollout started', { jobId: job.id, room: plan.room, vms: items.length, cloneErrors: errors.size, by: caller.name });
    return {
      room: plan.room,
      dryRun: false,
      job,
      vms: decided.map((d) => result(d, { jobId: childOf.get(d.plan.name), error: errors.get(d.plan.name) })),
    };
  }
}
