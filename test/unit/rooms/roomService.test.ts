// RoomService's reset and delete on in-memory ports (the libvirt e2e runs them for real):
// the order of power actions, the start policy, a VM without a matching snapshot or
// without the mark failing alone, dry runs changing nothing, a missing port refused.
import 'reflect-metadata';
import type { EngineConfig } from '../../../engine-plugin/config';
import type { Inventory, Vm } from '../../../engine-plugin/inventory/Inventory';
import type { InventoryDeletion } from '../../../engine-plugin/inventory/InventoryDeletion';
import type { VmPower } from '../../../engine-plugin/inventory/VmPower';
import type { Snapshot, VmSnapshots } from '../../../engine-plugin/inventory/VmSnapshots';
import type { Caller } from '../../../engine-plugin/jobs/Caller';
import type { JobStore } from '../../../engine-plugin/jobs/JobStore';
import { VmLocks } from '../../../engine-plugin/jobs/VmLocks';
import { ROLE_ONLY_AUTHORIZER } from '../../../engine-plugin/jobs/JobAuthorizer';
import type { RoomRollout } from '../../../engine-plugin/rooms/RoomRollout';
import { RoomService } from '../../../engine-plugin/rooms/RoomService';
import { RoomState } from '../../../engine-plugin/rooms/RoomState';
import { createLogger } from '../../../shared/logger';
import { ROOM_MARK } from '../../../shared/rooms/RoomPlan';
import type { RoomPlan, StartPolicy } from '../../../shared/rooms/RoomPlan';

const OPERATOR: Caller = { name: 'op', role: 'operator' };
const at = { key: 'rooms.lab.vms[0].names', line: 9, column: 16 };

function world(policy: StartPolicy = 'auto') {
  const log: string[] = [];
  const vms = new Map<string, Vm>();
  const snaps = new Map<string, Snapshot[]>();
  const add = (name: string, status: Vm['status'], marked: boolean, descriptions: string[]) => {
    vms.set(name, { id: `id-${name}`, name, status, disks: [], marks: marked ? { [ROOM_MARK]: 'lab' } : undefined });
    snaps.set(name, descriptions.map((d, i) => ({ id: `${name}-s${i}`, name: `s${i}`, description: d, current: false })));
  };
  const byId = (v: Vm) => [...vms.values()].find((x) => x.id === v.id)!;
  const inventory = { getVm: async (ref: string) => vms.get(ref) ?? [...vms.values()].find((v) => v.id === ref) } as unknown as Inventory;
  const power: VmPower = {
    start: async (v) => (log.push(`start ${v.name}`), Object.assign(byId(v), { status: 'up' })),
    // A guest that ignores the power button: the service must stop it.
    shutdown: async (v) => (log.push(`shutdown ${v.name}`), byId(v)),
    stop: async (v) => (log.push(`stop ${v.name}`), Object.assign(byId(v), { status: 'down' })),
  };
  const snapshots: VmSnapshots = {
    list: async (v) => snaps.get(v.name) ?? [],
    create: async () => { throw new Error('not used'); },
    revert: async (v, id) => (log.push(`revert ${v.name} ${id}`), snaps.get(v.name)!.find((s) => s.id === id)!),
    delete: async (v, id) => void log.push(`delete-snapshot ${v.name} ${id}`),
  };
  const deletion = { deleteVm: async (ref: string) => { const v = byId({ id: ref } as Vm); log.push(`delete ${v.name}`); vms.delete(v.name); return v; } } as unknown as InventoryDeletion;
  const store = { activeJobFor: () => undefined } as unknown as JobStore;
  const config = { inventory: 'libvirt' } as EngineConfig;
  const make = (ports: { snapshots?: VmSnapshots | null } = {}) => {
    const snapPort = ports.snapshots === undefined ? snapshots : ports.snapshots;
    return new RoomService(new RoomState(inventory, snapPort, config), {} as RoomRollout, power, snapPort, deletion, new VmLocks(store), store, ROLE_ONLY_AUTHORIZER, createLogger({ service: 'test', silent: true }));
  };
  const plan = (names: string[]): RoomPlan => ({
    file: 'rooms.yaml',
    room: 'lab',
    resetToSnapshot: '^rollout ',
    startAfterRollout: false,
    startAfterReset: policy,
    vms: names.map((name, i) => ({ id: i + 1, name, template: 'tpl', params: {}, addresses: [], snapshotDescription: 'rollout ${rollout_time}', at, templateAt: at })),
  });
  return { log, vms, add, make, plan };
}

describe('RoomService.reset', () => {
  it('stops a running VM (shutdown, then stop), reverts to the newest match, starts it again (auto)', async () => {
    const w = world('auto');
    w.add('a', 'up', true, ['rollout 1', 'manual', 'rollout 2']);
    w.add('b', 'down', true, ['rollout 1']);
    const r = await w.make().reset(w.plan(['a', 'b']), {}, OPERATOR);
    expect(r).toMatchObject({ failed: 0, vms: [{ name: 'a', ok: true, snapshot: { id: 'a-s2' }, wasRunning: true, started: true }, { name: 'b', ok: true, wasRunning: false, started: false }] });
    // VMs are reset in parallel: the order holds per VM.
    expect(w.log.filter((l) => l.endsWith(' a') || l.includes(' a '))).toEqual(['shutdown a', 'stop a', 'revert a a-s2', 'start a']);
    expect(w.log.filter((l) => l.includes(' b'))).toEqual(['revert b b-s0']);
  });

  it.each([['always', true], ['never', false]] as const)('start_after_reset %s on a VM that was down: started %s', async (policy, started) => {
    const w = world(policy);
    w.add('a', 'down', true, ['rollout 1']);
    expect((await w.make().reset(w.plan(['a']), {}, OPERATOR)).vms[0].started).toBe(started);
  });

  it('a VM without a matching snapshot, without the mark, or missing fails alone', async () => {
    const w = world();
    w.add('a', 'down', true, ['manual']);
    w.add('b', 'down', false, ['rollout 1']);
    w.add('c', 'down', true, ['rollout 1']);
    const r = await w.make().reset(w.plan(['a', 'b', 'c', 'd']), {}, OPERATOR);
    expect(r.failed).toBe(3);
    expect(r.vms.map((v) => [v.name, v.ok, v.error?.code])).toEqual([['a', false, 'NO_MATCHING_SNAPSHOT'], ['b', false, 'NOT_ROOM_VM'], ['c', true, undefined], ['d', false, 'VM_NOT_FOUND']]);
    expect(w.log).toEqual(['revert c c-s0']);
  });

  it('a dry run changes nothing; a viewer and an inventory without snapshots are refused', async () => {
    const w = world();
    w.add('a', 'up', true, ['rollout 1']);
    expect((await w.make().reset(w.plan(['a']), { dryRun: true }, OPERATOR)).vms[0]).toMatchObject({ ok: true, snapshot: { id: 'a-s0' }, started: true });
    expect(w.log).toEqual([]);
    await expect(w.make().reset(w.plan(['a']), {}, { name: 'v', role: 'viewer' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(w.make({ snapshots: null }).reset(w.plan(['a']), {}, OPERATOR)).rejects.toMatchObject({ code: 'NOT_SUPPORTED', details: { missing: 'snapshots' } });
  });
});

describe('RoomService.delete', () => {
  it("deletes the room's VMs (stopped, snapshots first), leaves a VM without the mark", async () => {
    const w = world();
    w.add('a', 'up', true, ['rollout 1', 'rollout 2']);
    w.add('b', 'down', false, []);
    const dry = await w.make().delete(w.plan(['a', 'b', 'c']), { dryRun: true }, OPERATOR);
    expect(dry.vms.map((v) => v.action)).toEqual(['delete', 'left', 'absent']);
    expect(w.log).toEqual([]);
    const r = await w.make().delete(w.plan(['a', 'b', 'c']), {}, OPERATOR);
    expect(r).toMatchObject({ failed: 0, vms: [{ name: 'a', ok: true, action: 'delete' }, { name: 'b', ok: true, action: 'left' }, { name: 'c', ok: true, action: 'absent' }] });
    expect(w.log).toEqual(['shutdown a', 'stop a', 'delete-snapshot a a-s1', 'delete-snapshot a a-s0', 'delete a']);
    expect([...w.vms.keys()]).toEqual(['b']);
  });
});
