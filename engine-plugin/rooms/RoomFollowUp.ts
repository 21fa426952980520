// What the engine does after each VM's sysprep in a room's rollout (a leaf carrying
// `request.followUp`), recorded as steps on that leaf (JobLifecycle.followUpStep), in
// this order:
//  1. release: a clone held image_locked (InventoryActions) is set down, whatever the
//     leaf's ending: a failed VM must not stay locked (libvirt: its staging overlays are
//     renamed, so its disks exist only from here on, and it can be snapshotted);
//  2. snapshot: only after a succeeded leaf, described by the room's pattern with
//     `${rollout_time}` filled; the VM must be down (nobody started it in between);
//  3. start: only when the room asks it (start_after_rollout) and the snapshot was taken.
// A step that fails ends the chain: those after it are recorded `skipped`. The leaf's
// own state stays (its sysprep did succeed); a VM without its snapshot is what `rollout
// --resume` syspreps again (roomDecisions.ts). An engine that stops mid-way leaves at
// worst a VM held (AutoReset.reconcile releases it at start-up) and no snapshot (resume).
import { inject, injectable } from 'tsyringe';
import { asSysprepError } from '../../shared/errors';
import { isCommitted } from '../../shared/jobStates';
import { FOLLOW_UP_STEPS, FollowUpStep } from '../../shared/rooms/followUpSteps';
import { renderRolloutTime } from '../../shared/rooms/RoomPlan';
import { Inventory } from '../inventory/Inventory';
import { InventoryActions } from '../inventory/InventoryActions';
import { VmPower } from '../inventory/VmPower';
import { VmSnapshots } from '../inventory/VmSnapshots';
import type { FollowUp, LeafJob, Step } from '../jobs/Job';
import { vmNotDown } from '../jobs/checkWorkable';
import { JobBus } from '../jobs/JobBus';
import { JobLifecycle } from '../jobs/JobLifecycle';
import { JobStore } from '../jobs/JobStore';
import { Logger } from '../logger';


/** A snapshot's name from its time: what every inventory's snapshot names take (letters, digits, "-"). */
export const rolloutSnapshotName = (at: Date): string => `rollout-${at.toISOString().replace(/[-:]|\.\d{3}/g, '').replace('T', '-').replace('Z', '')}`;

@injectable()
export class RoomFollowUp {
  constructor(
    @inject(JobStore) private readonly store: JobStore,
    @inject(JobLifecycle) private readonly lifecycle: JobLifecycle,
    @inject(Inventory) private readonly inventory: Inventory,
    @inject(InventoryActions) private readonly actions: InventoryActions | null,
    @inject(VmSnapshots) private readonly snapshots: VmSnapshots | null,
    @inject(VmPower) private readonly power: VmPower | null,
    @inject(Logger) private readonly log: Logger,
    @inject(JobBus) bus: JobBus,
  ) {
    bus.onLeafFinal((e, parentId) => {
      if (parentId && this.isRoom(parentId)) this.ended(e.jobId);
    });
  }

  /** Whether a bulk job is a room's (only its children carry follow-ups): asked once per bulk job, not per VM. */
  private readonly roomParents = new Map<string, boolean>();
  private isRoom(parentId: string): boolean {
    let room = this.roomParents.get(parentId);
    if (room === undefined) {
      if (this.roomParents.size >= 1000) this.roomParents.clear();
      room = this.store.kindOf(parentId)?.kind === 'room';
      this.roomParents.set(parentId, room);
    }
    return room;
  }

  /**
   * Runs the follow-up of an ended leaf that carries one. Called for every leaf that ends,
   * and by RoomRollout for the children refused when the job was made (stored already
   * failed, they never end through the lifecycle): their clones must be released too.
   */
  ended(leafId: string): void {
    const leaf = this.store.leaf(leafId);
    if (leaf?.request.followUp && !leaf.steps.some((s) => s.operation === FOLLOW_UP_STEPS[0])) void this.run(leaf, leaf.request.followUp);
  }

  private async run(leaf: LeafJob, followUp: FollowUp): Promise<void> {
    // An incomplete leaf's disk was committed too: it is snapshotted and started as a succeeded one.
    const succeeded = isCommitted(leaf.state);
    const todo: Record<FollowUpStep, (() => Promise<void>) | undefined> = {
      release: () => this.release(leaf.target.id),
      snapshot: succeeded ? () => this.snapshot(leaf.target.id, followUp.snapshotDescription) : undefined,
      start: succeeded && followUp.start ? () => this.start(leaf.target.id) : undefined,
    };
    let failed = false;
    for (const name of FOLLOW_UP_STEPS) {
      const fn = todo[name];
      if (!fn || failed) {
        this.step(leaf, name, 'skipped');
        continue;
      }
      this.step(leaf, name, 'running');
      try {
        await fn();
        this.step(leaf, name, 'done');
      } catch (err) {
        failed = true;
        const e = asSysprepError(err);
        this.log.warn('room follow-up step failed', { jobId: leaf.id, vmId: leaf.target.id, step: name, code: e.code, error: e.message });
        this.step(leaf, name, 'failed', e.message);
      }
    }
  }

  private step(leaf: LeafJob, operation: FollowUpStep, state: Step['state'], message?: string): void {
    const step: Step = { operation, state, at: new Date().toISOString() };
    if (message) step.message = message;
    this.lifecycle.followUpStep(leaf.id, step);
  }

  private async vm(id: string) {
    const vm = await this.inventory.getVm(id);
    if (!vm) throw new Error(`VM ${id} no longer exists`);
    return vm;
  }

  private async release(id: string): Promise<void> {
    const vm = await this.vm(id);
    if (vm.status === 'image_locked' && this.actions) await this.actions.setVmStatus(id, 'down');
  }

  private async snapshot(id: string, pattern: string): Promise<void> {
    if (!this.snapshots) throw new Error('this inventory keeps no snapshots');
    const vm = await this.vm(id);
    if (vm.status !== 'down') throw vmNotDown(vm);
    const at = new Date();
    await this.snapshots.create(vm, rolloutSnapshotName(at), renderRolloutTime(pattern, at));
  }

  private async start(id: string): Promise<void> {
    if (!this.power) throw new Error('this inventory cannot start VMs');
    await this.power.start(await this.vm(id));
  }
}
