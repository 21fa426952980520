import { RoomFileError } from '../../../shared/errors';
import { listRooms, loadRoom, roomFileJsonSchema } from '../../../shared/rooms/roomFile';

const GOOD = `version: 1
defaults:
  template: golden
  params:
    timezone: Europe/Berlin
rooms:
  lab1:
    start_after_rollout: true
    start_after_reset: always
    snapshot_description: "room \${room} vm \${vm} id \${id} at \${rollout_time}"
    vms:
      - ids: 1-3
        names: "\${room}-vd\${id}"
        hostname: "\${room}-pc\${id}"
      - ids: [10]
        names: "\${room}-teacher"
        template: golden2
        profile: clone-reset
        params:
          timezone: UTC
  lab2:
    vms:
      - ids: { from: 1, to: 2 }
`;

/** The RoomFileError of loading a file (room lab1), or fails. */
function refusal(source: string, room = 'lab1'): RoomFileError {
  try {
    loadRoom(source, 'rooms.yaml', room);
  } catch (err) {
    if (err instanceof RoomFileError) return err;
    throw err;
  }
  throw new Error('the file was taken');
}

describe('loadRoom: a good file', () => {
  it('expands a room to its VMs, values from the group, the room and defaults', () => {
    const plan = loadRoom(GOOD, 'rooms.yaml', 'lab1');
    expect(plan).toMatchObject({ file: 'rooms.yaml', room: 'lab1', startAfterRollout: true, startAfterReset: 'always' });
    expect(plan.vms.map((v) => [v.id, v.name, v.template, v.profile])).toEqual([
      [1, 'lab1-vd1', 'golden', undefined],
      [2, 'lab1-vd2', 'golden', undefined],
      [3, 'lab1-vd3', 'golden', undefined],
      [10, 'lab1-teacher', 'golden2', 'clone-reset'],
    ]);
    expect(plan.vms[1].params).toEqual({ hostname: 'lab1-pc2', timezone: 'Europe/Berlin' });
    expect(plan.vms[3].params).toEqual({ timezone: 'UTC' });
    expect(plan.vms[0].snapshotDescription).toBe('room lab1 vm lab1-vd1 id 1 at ${rollout_time}');
    expect(plan.vms[0].at).toEqual({ key: 'rooms.lab1.vms[0].names', line: 13, column: 16 });
    expect(plan.vms[0].templateAt).toEqual({ key: 'defaults.template', line: 3, column: 13 });
    expect(plan.vms[3].templateAt).toEqual({ key: 'rooms.lab1.vms[1].template', line: 17, column: 19 });
    expect(new RegExp(plan.resetToSnapshot).test('room lab1 vm lab1-vd1 id 1 at 2026-12-06T05:00:00Z')).toBe(true);
  });

  it('takes the defaults of every key it does not give', () => {
    const plan = loadRoom(GOOD, 'rooms.yaml', 'lab2');
    expect(plan).toMatchObject({ startAfterRollout: false, startAfterReset: 'auto' });
    expect(plan.vms.map((v) => v.name)).toEqual(['lab2-vd1', 'lab2-vd2']);
    expect(plan.vms[0].snapshotDescription).toBe('rollout ${rollout_time}');
    expect(new RegExp(plan.resetToSnapshot).test('rollout 2026-12-06T05:00:00Z')).toBe(true);
  });

  it('lists the rooms in file order', () => {
    expect(listRooms(GOOD, 'rooms.yaml')).toEqual(['lab1', 'lab2']);
  });

  it('exports its schema as JSON Schema', () => {
    const schema = roomFileJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(['version', 'defaults', 'rooms']);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('loadRoom: errors', () => {
  it('is a 400 ROOM_FILE_INVALID with every problem, its line, column and key', () => {
    const err = refusal(GOOD.replace('ids: 1-3', 'ids: 3-1').replace('  lab2:', '  lab2:\n    colour: red'));
    expect(err.kind).toBe('invalid');
    expect(err.code).toBe('ROOM_FILE_INVALID');
    expect(err.toJSON().details).toMatchObject({ file: 'rooms.yaml', field: 'rooms.lab2.colour' });
    expect(err.message).toBe('rooms.yaml:22:5: rooms.lab2.colour: is not a known key; known here: template, profile, params, start_after_rollout, start_after_reset, snapshot_description, reset_to_snapshot, vms');
  });

  it('names the known rooms for an unknown one', () => {
    expect(refusal(GOOD, 'lab3').message).toBe('rooms.yaml:6:1: rooms: has no room "lab3" (did you mean "lab1"?); its rooms: lab1, lab2');
  });
});
