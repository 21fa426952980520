import { HTTP_STATUS } from '../../../engine-plugin/api/errors';
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

  it('adds a lower level\'s lists to a higher one\'s unless the higher one replaces them (mergeParams)', () => {
    const source = `version: 1
defaults:
  template: golden
  params:
    delete: [/var/tmp/a]
rooms:
  lab1:
    params:
      delete: [/var/tmp/b]
    vms:
      - ids: 1
        params:
          delete: [/var/tmp/c]
      - ids: 2
        params:
          delete: [/var/tmp/d]
        replace: [delete]
`;
    const plan = loadRoom(source, 'rooms.yaml', 'lab1');
    expect(plan.vms.map((v) => [v.params.delete, v.replace])).toEqual([
      [['/var/tmp/a', '/var/tmp/b', '/var/tmp/c'], undefined],
      [['/var/tmp/d'], ['delete']],
    ]);
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

describe('loadRoom: addresses', () => {
  const NET = [
    'version: 1',
    'rooms:',
    '  lab1:',
    '    template: golden',
    '    snapshot_description: "${vm} ip ${ip} at ${rollout_time}"',
    '    params:',
    '      network:',
    '        - name: eth0',
    '          address: { ipFromIndex: 192.0.2.100/24 }',
    '          gateway: 192.0.2.1',
    '    vms:',
    '      - ids: 1-3',
    '      - ids: 50',
    '        names: teacher',
    '        params:',
    '          network:',
    '            - { name: eth0, address: "192.0.2.${id}/24", gateway: 192.0.2.1 }',
    '            - { name: eth1, dhcp: true }',
  ].join('\n');

  it("gives each VM its addresses and ${ip}, per-VM forms from the VM's id", () => {
    const plan = loadRoom(NET, 'rooms.yaml', 'lab1');
    expect(plan.vms.map((v) => [v.name, v.addresses, v.snapshotDescription])).toEqual([
      ['lab1-vd1', ['192.0.2.101/24'], 'lab1-vd1 ip 192.0.2.101 at ${rollout_time}'],
      ['lab1-vd2', ['192.0.2.102/24'], 'lab1-vd2 ip 192.0.2.102 at ${rollout_time}'],
      ['lab1-vd3', ['192.0.2.103/24'], 'lab1-vd3 ip 192.0.2.103 at ${rollout_time}'],
      ['teacher', ['192.0.2.50/24'], 'teacher ip 192.0.2.50 at ${rollout_time}'],
    ]);
    expect(plan.vms[0].params.network).toEqual([{ name: 'eth0', address: '192.0.2.101/24', gateway: '192.0.2.1' }]);
    expect(new RegExp(plan.resetToSnapshot).test('teacher ip 192.0.2.50 at 2026-12-06T07:00:00Z')).toBe(true);
  });
});

describe('loadRoom: errors', () => {
  it('is a 400 ROOM_FILE_INVALID with every problem, its line, column and key', () => {
    const err = refusal(GOOD.replace('ids: 1-3', 'ids: 3-1').replace('  lab2:', '  lab2:\n    colour: red'));
    expect(HTTP_STATUS[err.kind]).toBe(400);
    expect(err.code).toBe('ROOM_FILE_INVALID');
    // What the API answers (errors.ts maps every InputError): the file and each problem.
    expect(JSON.parse(JSON.stringify({ error: err }))).toEqual({
      error: {
        code: 'ROOM_FILE_INVALID',
        message: err.message,
        details: {
          field: 'rooms.lab1.vms[0].ids',
          file: 'rooms.yaml',
          errors: [
            { line: 12, column: 14, key: 'rooms.lab1.vms[0].ids', message: 'the range 3-1 runs backwards: give the lower id first' },
            { line: 22, column: 5, key: 'rooms.lab2.colour', message: expect.stringMatching(/^is not a known key/) },
          ],
        },
      },
    });
    expect(err.message).toBe([
      'rooms.yaml:12:14: rooms.lab1.vms[0].ids: the range 3-1 runs backwards: give the lower id first',
      'rooms.yaml:22:5: rooms.lab2.colour: is not a known key; known here: template, profile, params, replace, start_after_rollout, start_after_reset, snapshot_description, reset_to_snapshot, vms',
    ].join('\n'));
  });

  it('names the known rooms for an unknown one', () => {
    expect(refusal(GOOD, 'lab3').message).toBe('rooms.yaml:6:1: rooms: has no room "lab3" (did you mean "lab1"?); its rooms: lab1, lab2');
  });
});

/** A small good file with `extra` lines in room lab1 (4 spaces in) and `group` lines in its only group (8 spaces in). */
const BASE = ['version: 1', 'rooms:', '  lab1:', '    template: golden', '    vms:', '      - ids: 1-3'];
const withLines = (lines: string[]) => lines.join('\n') + '\n';
const replace = (from: string, to: string) => withLines(BASE).replace(from, to);
const append = (...lines: string[]) => withLines([...BASE, ...lines]);

describe.each<[string, string, number, string, RegExp]>([
  // [case, file, line, key, message]
  ['an empty file', '', 1, '', /is empty/],
  ['a file of comments only', '# nothing here\n', 1, '', /is empty/],
  ['a list at the top', '- lab1\n- lab2\n', 1, '', /must be a mapping .* not a list/],
  ['a single value at the top', 'hello\n', 1, '', /must be a mapping .* not a single value/],
  ['a YAML syntax error', replace('golden', 'golden: silver'), 4, 'rooms.lab1.template.golden', /Nested mappings are not allowed/],
  ['an unclosed quote (the parser finds it at the end)', replace('golden', '"golden'), 7, 'rooms.lab1.template', /Missing closing "quote/],
  ['a duplicate key', append('    template: silver'), 7, 'rooms.lab1.template', /is given twice/],
  ['a tag', replace('golden', '!python/object golden'), 4, 'rooms.lab1.template', /has the tag !python\/object/],
  ['a key that is not a name', append('    ? [a, b]', '    : c'), 7, 'rooms.lab1', /key that is not a plain name/],
  ['an alias bomb', withLines(['a: &a [x, x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]', 'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]']), 1, '', /aliases .* too often/],
  ['nesting deeper than 64 levels (before the parser recurses)', append(`    x: ${'['.repeat(100_000)}${']'.repeat(100_000)}`), 7, '', /nests collections deeper than 64 levels/],
  ['a reserved name as a key', append('    __proto__: { template: evil }'), 7, 'rooms.lab1.__proto__', /is not a known key/],
  ['a file over the size limit', append(`    # ${'x'.repeat(1 << 20)}`), 1, '', /larger than 1048576 bytes/],
  ['no version', withLines(BASE.slice(1)), 1, 'version', /is missing/],
  ['an unknown version', replace('version: 1', 'version: 2'), 1, 'version', /must be 1/],
  ['a version as text', replace('version: 1', 'version: "1"'), 1, 'version', /must be 1/],
  ['an unknown top-level key, near a known one', withLines(['version: 1', 'room:', '  lab1:', '    template: golden', '    vms:', '      - ids: 1-3']), 2, 'room', /is not a known key \(did you mean "rooms"\?\)/],
  ['no rooms', withLines(['version: 1', 'rooms: {}']), 2, 'rooms', /at least one room/],
  ['an unknown room key, near a known one', replace('template:', 'tempalte:'), 4, 'rooms.lab1.tempalte', /did you mean "template"/],
  ['an unknown group key, near a known one', append('        name: x${id}'), 7, 'rooms.lab1.vms[0].name', /did you mean "names"/],
  ['an unknown defaults key', withLines(['version: 1', 'defaults:', '  colour: red', ...BASE.slice(1)]), 3, 'defaults.colour', /is not a known key/],
  ['an unknown catalog param', append('        params:', '          hostnme: x'), 8, 'rooms.lab1.vms[0].params.hostnme', /did you mean "hostname"/],
  ['a room name that is no hostname label', replace('lab1:', 'lab_1:'), 3, 'rooms.lab_1', /not a valid room name/],
  ['start_after_rollout not a boolean', append('    start_after_rollout: yes'), 7, 'rooms.lab1.start_after_rollout', /must be a boolean, not a string/],
  ['start_after_reset not a policy', append('    start_after_reset: sometimes'), 7, 'rooms.lab1.start_after_reset', /always, auto .* or never/],
  ['vms not a list', replace('    vms:\n      - ids: 1-3', '    vms: 3'), 5, 'rooms.lab1.vms', /must be a array, not a number|expected array/],
  ['vms empty', replace('    vms:\n      - ids: 1-3', '    vms: []'), 5, 'rooms.lab1.vms', /at least one group/],
  ['a group without ids', replace('- ids: 1-3', '- names: x${id}'), 6, 'rooms.lab1.vms[0].ids', /is missing/],
  ['an empty template', replace('golden', '""'), 4, 'rooms.lab1.template', /must not be empty/],
  ['a reversed range', replace('1-3', '5-1'), 6, 'rooms.lab1.vms[0].ids', /runs backwards/],
  ['a range too big', replace('1-3', '1-2000'), 6, 'rooms.lab1.vms[0].ids', /names 2000 VMs; a group holds at most 1000/],
  ['an id out of range', replace('1-3', '10000'), 6, 'rooms.lab1.vms[0].ids', /out of range: ids are 0 to 9999/],
  ['an id that is not an integer', replace('1-3', '1.5'), 6, 'rooms.lab1.vms[0].ids', /must be a range/],
  ['a range that is no range', replace('1-3', 'one-ten'), 6, 'rooms.lab1.vms[0].ids', /is not a range such as "1-30"/],
  ['more VMs than a file may name', withLines(['version: 1', 'defaults:', '  template: golden', 'rooms:', ...Array.from({ length: 6 }, (_, r) => `  r${r}:\n    vms:\n      - ids: 1-1000`)]), 22, 'rooms.r5.vms[0].ids', /more than 5000 VMs/],
  ['an id twice in a list', replace('1-3', '[1, 2, 1]'), 6, 'rooms.lab1.vms[0].ids[2]', /names id 1 twice/],
  ['a negative id in a list', replace('1-3', '[1, -2]'), 6, 'rooms.lab1.vms[0].ids[1]', /out of range/],
  ['a from/to range backwards', replace('1-3', '{ from: 3, to: 1 }'), 6, 'rooms.lab1.vms[0].ids.to', /runs backwards/],
  ['a from/to range without to', replace('1-3', '{ from: 3 }'), 6, 'rooms.lab1.vms[0].ids', /must be a range/],
  ['the same id in two groups', append('      - ids: [3, 4]', '        names: t${id}'), 7, 'rooms.lab1.vms[1].ids', /id 3 is already one of vms\[0\]/],
  ['the same name for two VMs of a group', append('        names: pc'), 7, 'rooms.lab1.vms[0].names', /renders "pc" for id 2, already the name of vms\[0\] id 1/],
  ['the same name in two groups', append('        names: pc${id}', '      - ids: 4', '        names: pc3'), 9, 'rooms.lab1.vms[1].names', /already the name of vms\[0\] id 3/],
  ['the same name in two rooms', append('  lab2:', '    template: golden', '    vms:', '      - ids: 2', '        names: lab1-vd${id}'), 11, 'rooms.lab2.vms[0].names', /already the name of room lab1's vms\[0\] id 2/],
  ['a name that is no VM name', append('        names: "${room} vd${id}"'), 7, 'rooms.lab1.vms[0].names', /renders "lab1 vd1" for id 1, which must be 1-64 letters/],
  ['names using ${vm}', append('        names: "${vm}-x"'), 7, 'rooms.lab1.vms[0].names', /cannot use \$\{vm\}/],
  ['an unknown variable in names', append('        names: "${roomname}-vd${id}"'), 7, 'rooms.lab1.vms[0].names', /unknown pattern variable \$\{roomname\}/],
  ['a bad catalog value', append('    params:', '      timezone: Mars/Base'), 8, 'rooms.lab1.params.timezone', /not a known IANA time zone/],
  ['replace naming an unknown key', append('    params:', '      delete: [/x]', '    replace: [delete, colour]'), 9, 'rooms.lab1.replace[1]', /"colour" is not a customisation key/],
  ['replace naming a key without params', append('        replace: [truncate]'), 7, 'rooms.lab1.vms[0].replace[0]', /truncate is not given in params/],
  ['a hostname pattern that renders no hostname', append('        hostname: "a..${id}"'), 7, 'rooms.lab1.vms[0].hostname', /not a valid hostname .*rendered for VM "lab1-vd1"/],
  ['hostname given twice', append('        hostname: a${id}', '        params:', '          hostname: b${id}'), 7, 'rooms.lab1.vms[0].hostname', /is given twice/],
  ['an invalid regex', append('    reset_to_snapshot: "rollout ("'), 7, 'rooms.lab1.reset_to_snapshot', /is not a valid regular expression/],
  ['an exponential regex', append('    reset_to_snapshot: "(a+)+$"'), 7, 'rooms.lab1.reset_to_snapshot', /exponential time/],
  ['a regex that finds none of its snapshots', append('    reset_to_snapshot: "^golden "'), 7, 'rooms.lab1.reset_to_snapshot', /does not match the snapshot description of lab1-vd1/],
  ['no template anywhere', replace('    template: golden\n', ''), 5, 'rooms.lab1.vms[0].template', /is missing: give template in the group, in the room or in defaults/],
  ['${ip} without an address', append('    snapshot_description: "at ${ip}"'), 7, 'rooms.lab1.snapshot_description', /uses \$\{ip\} but VM "lab1-vd1" has no static address/],
  ['an unknown variable in the description', append('    snapshot_description: "at ${scripttime}"'), 7, 'rooms.lab1.snapshot_description', /unknown pattern variable \$\{scripttime\} .*\$\{ip\}, \$\{rollout_time\}/],
  ['the same static address for two VMs of a group', append('    params:', '      network:', '        - { name: eth0, address: 192.0.2.10/24 }'), 9, 'rooms.lab1.params.network[0].address', /address 192.0.2.10 is given to both VM "lab1-vd1" .* and VM "lab1-vd2"/],
  ['overlapping addresses of two groups', append('        network: [{ name: eth0, address: { ipFromIndex: 192.0.2.100/24 } }]', '      - ids: 9', '        names: teacher', '        network: [{ name: eth0, address: 192.0.2.102/24 }]').replace(/        network:/g, '        params:\n          network:'), 12, 'rooms.lab1.vms[1].params.network[0].address', /address 192.0.2.102 is given to both VM "lab1-vd2" .* and VM "teacher"/],
  ['an address that is no address', append('    params:', '      network: [{ name: eth0, address: "192.0.2.300/24" }]'), 8, 'rooms.lab1.params.network[0].address', /is not an IPv4 address with its prefix length/],
  ['ipFromIndex leaving its subnet', append('        params:', '          network: [{ name: eth0, address: { ipFromIndex: 192.0.2.253/24 } }]'), 8, 'rooms.lab1.vms[0].params.network[0].address.ipFromIndex', /leaves the subnet .* for VM "lab1-vd2"/],
  ['a bad value in a list of a group param', append('        params:', '          removeUsers:', '            - alice', '            - "Bad User"'), 10, 'rooms.lab1.vms[0].params.removeUsers[1]', /not a valid user name/],
])('a bad room file: %s', (_, source, line, key, message) => {
  it(`is refused at line ${line}, key "${key}"`, () => {
    const err = refusal(source);
    const problems = err.details.errors as { line: number; column: number; key: string; message: string }[];
    expect(problems).toContainEqual({ line, column: expect.any(Number), key, message: expect.stringMatching(message) });
    // One line a problem, as a compiler says it.
    expect(err.message.split('\n')).toEqual(problems.map((p) => `rooms.yaml:${p.line}:${p.column}: ${p.key ? `${p.key}: ` : ''}${p.message}`));
  });
});

describe('loadRoom: positions and collection', () => {
  const problemsOf = (source: string) => refusal(source).details.errors as { line: number; column: number; key: string; message: string }[];

  it('points at the value of a nested key, at the key itself when the key is wrong', () => {
    const source = [
      'version: 1',
      'rooms:',
      '  lab1:',
      '    template: golden',
      '    vms:',
      '      - ids: { from: 1, to: 0 }',
      '      - ids: 5',
      '        names: t${id}',
      '        params:',
      '          removeUsers: [alice, "Bad User"]',
      '  lab2:',
      '    template: golden',
      '    vms:',
      '      - ids: 1',
      '        colr: red',
    ].join('\n');
    expect(problemsOf(source).map((p) => [p.line, p.column, p.key])).toEqual([
      [6, 29, 'rooms.lab1.vms[0].ids.to'],
      [10, 32, 'rooms.lab1.vms[1].params.removeUsers[1]'],
      [15, 9, 'rooms.lab2.vms[0].colr'],
    ]);
  });

  it('follows an alias to its anchor, and takes aliases under the limit', () => {
    const source = [
      'version: 1',
      'rooms:',
      '  lab1:',
      '    template: golden',
      '    params: &common',
      '      timezone: Mars/Base',
      '    vms:',
      '      - ids: 1',
      '  lab2:',
      '    template: golden',
      '    params: *common',
      '    vms:',
      '      - ids: 1',
      '        names: lab2-${id}',
    ].join('\n');
    expect(problemsOf(source).map((p) => [p.line, p.column, p.key])).toEqual([
      [6, 17, 'rooms.lab1.params.timezone'],
      [6, 17, 'rooms.lab2.params.timezone'],
    ]);
    expect(loadRoom(source.replace('Mars/Base', 'UTC'), 'rooms.yaml', 'lab2').vms[0].params).toEqual({ timezone: 'UTC' });
  });

  it('collects at most 50 problems and says how many more there are', () => {
    const rooms = Array.from({ length: 60 }, (_, i) => `  r${i}:\n    vms:\n      - ids: 2-1`).join('\n');
    const err = refusal(`version: 1\ndefaults:\n  template: golden\nrooms:\n${rooms}\n`, 'r0');
    expect(err.details.errors).toHaveLength(50);
    expect(err.details.more).toBe(10);
    expect(err.message.split('\n').pop()).toBe('rooms.yaml: and 10 more problems');
  });
});
