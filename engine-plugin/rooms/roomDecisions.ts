// The pure decisions of the room commands, apart from any inventory: what a rollout does
// with each planned VM (clone it, sysprep it again, leave it, or refuse), which snapshot
// a reset reverts to, whether a VM is started after a reset, and which VMs `delete` may
// remove. RoomService asks these with what it read from the ports; unit tests ask them
// with plain objects.
import { ROOM_MARK, roomMarkValue } from '../../shared/rooms/RoomPlan';
import type { RoomPlan, StartPolicy } from '../../shared/rooms/RoomPlan';
import type { Vm } from '../inventory/Inventory';
import type { Snapshot } from '../inventory/VmSnapshots';

/**
 * What a rollout does with one VM of the room:
 *  - clone: it does not exist: cloned, then syspreped;
 *  - sysprep: it exists with the room's mark but no snapshot matching reset_to_snapshot
 *    (a rollout that failed or stopped before its snapshot): syspreped again (resume only);
 *  - done: it exists with the mark and a matching snapshot: left as it is (resume only);
 *  - conflict: it exists and the rollout may not touch it (no resume, or not the room's).
 */
export type RolloutAction = 'clone' | 'sysprep' | 'done' | 'conflict';

export interface RolloutDecision {
  action: RolloutAction;
  /** Why, in words (the dry run's listing and the 409's message). */
  reason: string;
}

/** Whether the VM carries the mark of room `room`. */
export const hasRoomMark = (vm: Pick<Vm, 'marks'>, room: string): boolean => vm.marks?.[ROOM_MARK] === roomMarkValue(room);

/** The snapshots whose description matches the room's reset_to_snapshot (a regular expression). */
export function matchingSnapshots(snapshots: readonly Snapshot[], resetToSnapshot: string): Snapshot[] {
  const re = new RegExp(resetToSnapshot);
  return snapshots.filter((s) => re.test(s.description));
}

/**
 * The snapshot a reset reverts to: the newest matching one. Dates decide where both
 * have one; else the list's order (the port lists parents before children: later is newer).
 */
export function newestMatching(snapshots: readonly Snapshot[], resetToSnapshot: string): Snapshot | undefined {
  const found = matchingSnapshots(snapshots, resetToSnapshot).map((s, i) => ({ s, i }));
  found.sort((a, b) => {
    const byDate = a.s.date && b.s.date ? Date.parse(a.s.date) - Date.parse(b.s.date) : 0;
    return byDate || a.i - b.i;
  });
  return found.at(-1)?.s;
}

/** The rollout's decision for one planned VM, from what the inventory holds under its name. */
export function rolloutDecision(room: string, existing: Vm | undefined, snapshots: readonly Snapshot[] | undefined, resetToSnapshot: string, resume: boolean): RolloutDecision {
  if (!existing) return { action: 'clone', reason: 'does not exist: cloned, then syspreped' };
  if (!hasRoomMark(existing, room)) return { action: 'conflict', reason: `exists and was not created by room "${room}" (no mark ${ROOM_MARK}=${roomMarkValue(room)})` };
  if (!resume) return { action: 'conflict', reason: 'exists: give --resume to finish a rollout that stopped' };
  const match = snapshots ? newestMatching(snapshots, resetToSnapshot) : undefined;
  if (match) return { action: 'done', reason: `done: snapshot "${match.name}" matches reset_to_snapshot` };
  return { action: 'sysprep', reason: 'exists without a snapshot matching reset_to_snapshot: syspreped again' };
}

/** Whether a VM is started after a reset: always, never, or (auto) if it was running before. */
export function startAfterReset(policy: StartPolicy, wasRunning: boolean): boolean {
  return policy === 'always' || (policy === 'auto' && wasRunning);
}

/** What `room delete` does with one planned VM. */
export type DeleteAction = 'delete' | 'absent' | 'left';

export function deleteDecision(room: string, existing: Vm | undefined): { action: DeleteAction; reason: string } {
  if (!existing) return { action: 'absent', reason: 'does not exist' };
  if (!hasRoomMark(existing, room)) return { action: 'left', reason: `not created by room "${room}" (no mark ${ROOM_MARK}=${roomMarkValue(room)}): left as it is` };
  return { action: 'delete', reason: 'stopped if running, its snapshots and the VM deleted' };
}

/** Where a planned VM was written, for messages: `file:line`. */
export const whereOf = (plan: Pick<RoomPlan, 'file'>, at: { line: number }): string => `${plan.file}:${at.line}`;
