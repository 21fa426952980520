// The pure decisions of the room commands: what a rollout (with and without --resume)
// does with each VM, which snapshot a reset reverts to, the start policy, what delete removes.
import { deleteDecision, hasRoomMark, newestMatching, rolloutDecision, startAfterReset } from '../../../engine-plugin/rooms/roomDecisions';
import type { Vm } from '../../../engine-plugin/inventory/Inventory';
import type { Snapshot } from '../../../engine-plugin/inventory/VmSnapshots';
import { ROOM_MARK } from '../../../shared/rooms/RoomPlan';

const vm = (marks?: Record<string, string>): Vm => ({ id: 'u1', name: 'lab-1', status: 'down', disks: [], marks });
const snap = (name: string, description: string, date?: string): Snapshot => ({ id: name, name, description, date, current: false });
const RESET = '^rollout ';
const marked = vm({ [ROOM_MARK]: 'lab' });

describe('rolloutDecision', () => {
  it.each([
    ['missing, no resume', undefined, undefined, false, 'clone'],
    ['missing, resume', undefined, undefined, true, 'clone'],
    ['exists marked, no resume', marked, [snap('s1', 'rollout 2026')], false, 'conflict'],
    ['exists unmarked, resume', vm(), [], true, 'conflict'],
    ['exists marked by another room, resume', vm({ [ROOM_MARK]: 'other' }), [], true, 'conflict'],
    ['marked with a matching snapshot, resume', marked, [snap('s1', 'rollout 2026')], true, 'done'],
    ['marked, only other snapshots, resume', marked, [snap('s1', 'before upgrade')], true, 'sysprep'],
    ['marked, no snapshot list (none kept), resume', marked, undefined, true, 'sysprep'],
  ] as const)('%s -> %s', (_what, existing, snapshots, resume, action) => {
    expect(rolloutDecision('lab', existing as Vm | undefined, snapshots as Snapshot[] | undefined, RESET, resume).action).toBe(action);
  });

  it('names the mark a VM lacks', () => {
    expect(rolloutDecision('lab', vm(), [], RESET, true).reason).toContain(`${ROOM_MARK}=lab`);
  });
});

describe('newestMatching', () => {
  it('takes the newest matching by date, not by list order', () => {
    const list = [snap('b', 'rollout 2', '2026-12-06T02:00:00Z'), snap('a', 'rollout 1', '2026-12-06T01:00:00Z'), snap('c', 'manual', '2026-12-06T03:00:00Z')];
    expect(newestMatching(list, RESET)?.name).toBe('b');
  });
  it('without dates, the later in the list (children after parents)', () => {
    expect(newestMatching([snap('a', 'rollout 1'), snap('b', 'rollout 2')], RESET)?.name).toBe('b');
  });
  it('none matching: undefined', () => {
    expect(newestMatching([snap('a', 'manual')], RESET)).toBeUndefined();
  });
});

describe('startAfterReset', () => {
  it.each([
    ['always', false, true],
    ['always', true, true],
    ['auto', true, true],
    ['auto', false, false],
    ['never', true, false],
    ['never', false, false],
  ] as const)('%s, was running %s -> %s', (policy, wasRunning, start) => {
    expect(startAfterReset(policy, wasRunning)).toBe(start);
  });
});

describe('deleteDecision', () => {
  it('deletes only what the room marked', () => {
    expect(deleteDecision('lab', marked).action).toBe('delete');
    expect(deleteDecision('lab', vm()).action).toBe('left');
    expect(deleteDecision('lab', vm({ [ROOM_MARK]: 'other' })).action).toBe('left');
    expect(deleteDecision('lab', undefined).action).toBe('absent');
    expect(hasRoomMark(marked, 'lab')).toBe(true);
  });
});
