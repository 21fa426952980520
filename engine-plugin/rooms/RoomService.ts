// The room commands on a room's plan (shared/rooms/RoomPlan.ts), through the inventory
// ports only, so they work on every inventory that offers the ports they need (a port
// missing: 400 NOT_SUPPORTED naming it):
//  - show: each VM's planned name, addresses, whether it exists, its state, the room's
//    mark, its snapshots (those matching reset_to_snapshot flagged);
//  - rollout: RoomRollout.ts (one bulk job of kind `room`, follow-up steps per VM);
//  - reset: per VM, synchronously: stop it (shutdown with a short timeout, then stop),
//    revert to its newest snapshot matching reset_to_snapshot, start it per
//    start_after_reset. A VM that cannot be reset fails alone;
//  - delete: per VM carrying the room's mark: stop it, delete its snapshots, delete it;
//    a VM of a planned name without the mark is left and reported.
// Reset and delete act at once and answer per VM (docs/engine-decisions.md: no job, as
// the power and snapshot routes: no disk is written by a tool run).
import { inject, injectable } from 'tsyringe';
import { asSysprepError, ConflictError, NotFoundError, PermissionError } from '../../shared/errors';
import type { ErrorInfo } from '../../shared/errors';
import type { RoomPlan } from '../../shared/rooms/RoomPlan';
import type { Vm, VmStatus } from '../inventory/Inventory';
import { InventoryDeletion } from '../inventory/InventoryDeletion';
import { VmPower } from '../inventory/VmPower';
import { VmSnapshots } from '../inventory/VmSnapshots';
import type { Snapshot } from '../inventory/VmSnapshots';
import type { Caller } from '../jobs/Caller';
import { JobAuthorizer } from '../jobs/JobAuthorizer';
import { JobStore } from '../jobs/JobStore';
import { VmLocks } from '../jobs/VmLocks';
import { Logger } from '../logger';
import { DeleteAction, deleteDecision, hasRoomMark, newestMatching, startAfterReset, whereOf } from './roomDecisions';
import { RolloutResult, RoomRollout } from './RoomRollout';
import { RoomState, RoomVmState } from './RoomState';

/** How long a reset or delete waits for a guest to power off before it stops the VM. */
export const ROOM_SHUTDOWN_TIMEOUT_MS = 10_000;
/** VMs reset or deleted at once (each waits mostly on its guest's shutdown). */
const PARALLEL = 4;

export interface ShownSnapshot extends Pick<Snapshot, 'id' | 'name' | 'description' | 'date' | 'current'> {
  /** Its description matches reset_to_snapshot (the newest such is what reset reverts to). */
  matches: boolean;
}

export interface ShownVm {
  id: number;
  name: string;
  at: string;
  template: string;
  profile?: string;
  addresses: string[];
  exists: boolean;
  status?: VmStatus;
  /** It carries the room's mark (created by this room). */
  marked: boolean;
  /** Undefined where the inventory keeps no snapshots (or the VM does not exist). */
  snapshots?: ShownSnapshot[];
}

export interface ShowResult {
  room: string;
  file: string;
  resetToSnapshot: string;
  startAfterRollout: boolean;
  startAfterReset: RoomPlan['startAfterReset'];
  vms: ShownVm[];
}

export interface VmOutcome {
  name: string;
  at: string;
  ok: boolean;
  /** What was (or, on a dry run, would be) done. */
  action: string;
  reason?: string;
  error?: ErrorInfo;
}

export interface ResetOutcome extends VmOutcome {
  snapshot?: { id: string; name: string; description: string };
  wasRunning?: boolean;
  started?: boolean;
}

export interface DeleteOutcome extends VmOutcome {
  action: DeleteAction;
}

export interface CommandResult<T extends VmOutcome> {
  room: string;
  dryRun: boolean;
  vms: T[];
  /** How many VMs failed (ok false). */
  failed: number;
}

/** Runs `fn` on each item, at most `n` at a time, answers in the items' order. */
async function eachLimited<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

const result = <T extends VmOutcome>(plan: RoomPlan, dryRun: boolean, vms: T[]): CommandResult<T> => ({ room: plan.room, dryRun, vms, failed: vms.filter((v) => !v.ok).length });

@injectable()
export class RoomService {
  constructor(
    @inject(RoomState) private readonly state: RoomState,
    @inject(RoomRollout) private readonly rollouts: RoomRollout,
    @inject(VmPower) private readonly power: VmPower | null,
    @inject(VmSnapshots) private readonly snapshots: VmSnapshots | null,
    @inject(InventoryDeletion) private readonly deletion: InventoryDeletion | null,
    @inject(VmLocks) private readonly locks: VmLocks,
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobAuthorizer) private readonly authorizer: JobAuthorizer,
    @inject(Logger) private readonly log: Logger,
  ) {}

  async show(plan: RoomPlan): Promise<ShowResult> {
    const states = await this.state.read(plan);
    const re = new RegExp(plan.resetToSnapshot);
    return {
      room: plan.room,
      file: plan.file,
      resetToSnapshot: plan.resetToSnapshot,
      startAfterRollout: plan.startAfterRollout,
      startAfterReset: plan.startAfterReset,
      vms: states.map(({ plan: p, vm, snapshots }) => ({
        id: p.id,
        name: p.name,
        at: whereOf(plan, p.at),
        template: p.template,
        profile: p.profile,
        addresses: p.addresses,
        exists: !!vm,
        status: vm?.status,
        marked: !!vm && hasRoomMark(vm, plan.room),
        snapshots: snapshots?.map((s) => ({ id: s.id, name: s.name, description: s.description, date: s.date, current: s.current, matches: re.test(s.description) })),
      })),
    };
  }

  rollout(plan: RoomPlan, opts: { resume?: boolean; dryRun?: boolean }, caller: Caller): Promise<RolloutResult> {
    return this.rollouts.rollout(plan, opts, caller);
  }

  async reset(plan: RoomPlan, opts: { dryRun?: boolean }, caller: Caller): Promise<CommandResult<ResetOutcome>> {
    this.checkOperator(caller, 'reset');
    const snapshots = this.state.require(this.snapshots, 'snapshots', 'reset');
    const power = this.state.require(this.power, 'stopping and starting VMs', 'reset');
    const states = await this.state.read(plan);
    await this.authorize(caller, states);
    const vms = await eachLimited(states, PARALLEL, (s) =>
      this.perVm<ResetOutcome>(plan, s, 'revert', async (vm, out) => {
        if (!hasRoomMark(vm, plan.room)) throw new ConflictError('NOT_ROOM_VM', `not created by room "${plan.room}": left as it is`, { vm: vm.name });
        const target = newestMatching(s.snapshots ?? [], plan.resetToSnapshot);
        if (!target) throw new NotFoundError('NO_MATCHING_SNAPSHOT', `no snapshot whose description matches /${plan.resetToSnapshot}/ (of its ${(s.snapshots ?? []).length} snapshots)`, { vm: vm.name });
        out.snapshot = { id: target.id, name: target.name, description: target.description };
        out.wasRunning = vm.status !== 'down';
        out.started = startAfterReset(plan.startAfterReset, out.wasRunning);
        if (opts.dryRun) return;
        this.locks.checkFree(vm);
        const down = await this.stopped(power, vm);
        await snapshots.revert(down, target.id);
        if (out.started) await power.start(down);
      }),
    );
    this.log.info('room reset', { room: plan.room, dryRun: !!opts.dryRun, vms: vms.length, failed: vms.filter((v) => !v.ok).length, by: caller.name });
    return result(plan, !!opts.dryRun, vms);
  }

  async delete(plan: RoomPlan, opts: { dryRun?: boolean }, caller: Caller): Promise<CommandResult<DeleteOutcome>> {
    this.checkOperator(caller, 'delete');
    const deletion = this.state.require(this.deletion, 'deleting VMs', 'delete');
    const states = await this.state.read(plan);
    await this.authorize(caller, states.filter((s) => s.vm && hasRoomMark(s.vm, plan.room)));
    const vms = await eachLimited(states, PARALLEL, async (s): Promise<DeleteOutcome> => {
      const decision = deleteDecision(plan.room, s.vm);
      const at = whereOf(plan, s.plan.at);
      if (decision.action !== 'delete') return { name: s.plan.name, at, ok: true, action: decision.action, reason: decision.reason };
      return this.perVm<DeleteOutcome>(plan, s, 'delete', async (vm) => {
        if (opts.dryRun) return;
        this.locks.checkFree(vm);
        const down = vm.status === 'down' ? vm : await this.stopped(this.state.require(this.power, 'stopping VMs', 'delete'), vm);
        // Children before parents: an inventory may refuse to drop a snapshot others hang on.
        for (const snap of [...(s.snapshots ?? [])].reverse()) await this.snapshots!.delete(down, snap.id);
        await deletion.deleteVm(down.id, (t) => this.store.activeJobFor(`${t.type}:${t.id}`));
      }, decision.reason);
    });
    this.log.info('room delete', { room: plan.room, dryRun: !!opts.dryRun, deleted: vms.filter((v) => v.action === 'delete' && v.ok).length, left: vms.filter((v) => v.action === 'left').length, by: caller.name });
    return result(plan, !!opts.dryRun, vms);
  }

  // ---------------------------------------------------------------------------------

  private checkOperator(caller: Caller, command: string): void {
    if (caller.role === 'viewer') throw new PermissionError('FORBIDDEN', `the viewer role may not run room ${command}`);
  }

  private authorize(caller: Caller, states: RoomVmState[]): Promise<void> {
    return this.authorizer.authorize(caller, states.flatMap((s) => (s.vm ? [{ type: 'vm' as const, id: s.vm.id, name: s.vm.name }] : [])));
  }

  /** One VM's action; its error (a missing VM included) is its outcome, never the others'. */
  private async perVm<T extends VmOutcome>(plan: RoomPlan, s: RoomVmState, action: string, fn: (vm: Vm, out: T) => Promise<void>, reason?: string): Promise<T> {
    const out = { name: s.plan.name, at: whereOf(plan, s.plan.at), ok: true, action, reason } as T;
    try {
      if (!s.vm) throw new NotFoundError('VM_NOT_FOUND', 'does not exist (roll the room out first)', { vm: s.plan.name });
      await fn(s.vm, out);
    } catch (err) {
      const e = asSysprepError(err);
      out.ok = false;
      out.error = e.toJSON();
      this.log.warn(`room ${action} failed for a VM`, { room: plan.room, vm: s.plan.name, code: e.code, error: e.message });
    }
    return out;
  }

  /** The VM down: asked to shut down, stopped if it has not within the timeout. */
  private async stopped(power: VmPower, vm: Vm): Promise<Vm> {
    if (vm.status === 'down') return vm;
    const after = await power.shutdown(vm, ROOM_SHUTDOWN_TIMEOUT_MS);
    return after.status === 'down' ? after : power.stop(after);
  }
}
