// docs/rooms.md's example is a real room file, and docs/rooms.schema.json is the schema
// the engine checks with: neither can drift from the code.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { listRooms, loadRoom, roomFileJsonSchema } from '../../../shared/rooms/roomFile';

const DOCS = path.join(__dirname, '../../../docs');
const SCHEMA_FILE = path.join(DOCS, 'rooms.schema.json');

function example(): string {
  const doc = readFileSync(path.join(DOCS, 'rooms.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### A complete example'));
  const m = /```yaml\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('docs/rooms.md has no yaml block under "A complete example"');
  return m[1];
}

describe('docs/rooms.md', () => {
  it('its complete example loads, every room', () => {
    const source = example();
    expect(listRooms(source, 'rooms.yaml')).toEqual(['lab1', 'evening']);
    const lab1 = loadRoom(source, 'rooms.yaml', 'lab1');
    expect(lab1.vms).toHaveLength(31);
    expect(lab1.vms[29]).toMatchObject({ id: 30, name: 'lab1-vd30', template: 'golden-debian12', params: { hostname: 'lab1-pc30', timezone: 'Europe/Berlin', truncate: ['/etc/motd'], removeUsers: ['student-old'] } });
    expect(lab1.vms[30]).toMatchObject({ id: 100, name: 'lab1-teacher', template: 'golden-debian12-teacher', params: { hostname: 'lab1-teacher', timezone: 'UTC', truncate: ['/etc/motd'] } });
    expect(lab1).toMatchObject({ startAfterRollout: true, startAfterReset: 'auto' });
    // Per-VM addresses from ipFromIndex (the id is the index), and ${ip} in the description.
    expect(lab1.vms[0].addresses).toEqual(['192.0.2.101/24']);
    expect(lab1.vms[29].addresses).toEqual(['192.0.2.130/24']);
    expect(lab1.vms[30].addresses).toEqual(['192.0.2.200/24']);
    expect(lab1.vms[30].snapshotDescription).toBe('rollout of lab1 for lab1-teacher (192.0.2.200) at ${rollout_time}');
    expect(new RegExp(lab1.resetToSnapshot).test(lab1.vms[30].snapshotDescription)).toBe(true);
    const evening = loadRoom(source, 'rooms.yaml', 'evening');
    expect(evening.vms.map((v) => v.name)).toEqual(['eve-1', 'eve-2', 'eve-3', 'eve-4']);
    expect(evening.startAfterRollout).toBe(false);
    expect(evening.vms[0].addresses).toEqual([]); // DHCP
  });
});

describe('docs/rooms.schema.json', () => {
  it('is the schema the engine checks with (UPDATE_ROOM_SCHEMA=1 rewrites it)', () => {
    const schema = JSON.stringify(roomFileJsonSchema(), null, 2) + '\n';
    if (process.env.UPDATE_ROOM_SCHEMA) writeFileSync(SCHEMA_FILE, schema);
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schema);
  });
});

describe('README.md', () => {
  it('its short room file loads', () => {
    const readme = readFileSync(path.join(DOCS, '..', 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => /^version: 1$/m.test(b));
    expect(blocks).toHaveLength(1);
    const lab1 = loadRoom(blocks[0], 'README.md', 'lab1');
    expect(lab1.vms).toHaveLength(30);
    expect(lab1.vms[6]).toMatchObject({ name: 'lab1-vd7', addresses: ['192.0.2.107/24'], params: { hostname: 'lab1-pc7' } });
  });
});
