// Marks on the embedded inventory (VmCloning's `marks`) with the real engine, the real
// SQLite database and real qcow2 files (FAKE agents: no job runs here): kept with the VM,
// read back on GET /vms/{id} and `vm show`, still there after a restart, refused with 400
// naming the field (nothing created); and a database from before the column upgrades with
// its VMs unmarked.
import { PassThrough } from 'node:stream';
import * as path from 'node:path';
import { rmSync } from 'node:fs';
import * as os from 'node:os';
import { run } from '../../../engine-plugin/cli/main';
import type { CliIo } from '../../../engine-plugin/cli/CliIo';
import { openDb } from '../../../engine-plugin/db';
import { MIGRATIONS } from '../../../engine-plugin/store/schema';
import type { SqliteDb } from '../../../engine-plugin/store/sqlite';
import { DEFAULT_DATABASE } from '../../../engine-plugin/store/databaseUrl';
import { harness, Harness, TOKENS } from './harness';

jest.setTimeout(60_000);

describe('marks on the embedded inventory', () => {
  let h: Harness;
  const vmShow = async (vm: string) => {
    let out = '';
    const io: CliIo = {
      out: (s) => void (out += s),
      err: () => undefined,
      env: { OVIRT_SYSPREP_URL: h.engine.url, OVIRT_SYSPREP_TOKEN: TOKENS.viewer.token, HOME: '/nonexistent' },
      stdout: new PassThrough() as unknown as CliIo['stdout'],
      files: { read: () => { throw new Error('no files'); }, mode: () => 0o100600 },
    };
    expect(await run(['node', 'ovirt-sysprep', 'vm', 'show', vm], io)).toBe(0);
    return out;
  };

  beforeAll(async () => {
    h = await harness({ config: { autoReset: { clone: { enabled: false, profile: 'clone-reset' }, import: { enabled: false, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } } } });
    expect((await h.api('POST', '/templates', { name: 'golden', disks: [{ path: h.image('golden.qcow2') }] })).status).toBe(201);
  });
  afterAll(() => h.close());

  it('keeps the marks of a clone, shows them, and keeps them across a restart', async () => {
    const marks = { room: 'lab-1', 'room.vm': '3', note: 'a & b "c"' };
    const vm = await h.engine.deps.actions!.cloneVm({ name: 'lab-1-vd3', template: 'golden', status: 'down', marks });
    expect(vm.marks).toEqual(marks);
    expect((await h.api('GET', '/vms/lab-1-vd3', undefined, 'viewer')).body).toMatchObject({ name: 'lab-1-vd3', marks });
    expect(await vmShow('lab-1-vd3')).toContain(`marks: ${JSON.stringify(marks)}\n`);
    await h.restart({ autoReset: h.engine.config.autoReset });
    expect((await h.api('GET', `/vms/${vm.id}`)).body.marks).toEqual(marks);
    // A clone without marks has none; the listing shows each VM's own.
    await h.engine.deps.actions!.cloneVm({ name: 'plain', template: 'golden', status: 'down' });
    const items = (await h.api('GET', '/vms')).body.items as { name: string; marks?: unknown }[];
    expect(items.map((v) => [v.name, v.marks])).toEqual([['lab-1-vd3', marks], ['plain', undefined]]);
  });

  it('refuses bad marks before anything is created, naming the field', async () => {
    const clone = (marks: unknown) => h.engine.deps.actions!.cloneVm({ name: 'bad', template: 'golden', status: 'down', marks: marks as Record<string, string> });
    await expect(clone({ 'bad key': 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'marks' } });
    await expect(clone({ room: 'line\nbreak' })).rejects.toMatchObject({ details: { field: 'marks.room' } });
    expect((await h.api('GET', '/vms/bad')).status).toBe(404);
  });
});

describe('the marks migration', () => {
  it('upgrades a database from before the marks column: its VMs unmarked; snapshot rows go with their VM', () => {
    const dir = path.join(os.tmpdir(), `marks-${process.pid}-${Date.now()}`);
    let db = openDb(DEFAULT_DATABASE, dir);
    db.exec('DROP INDEX jobs_backlog; DROP TABLE row_counts; DROP INDEX jobs_child_warnings; DROP TABLE engine_leader; DROP TABLE ovirt_state; DROP TABLE ovirt_jobs; DROP TABLE ovirt_pending; DROP TABLE inspections; ALTER TABLE jobs DROP COLUMN result; ALTER TABLE vms DROP COLUMN os; ALTER TABLE jobs DROP COLUMN warnings; DROP TABLE vm_snapshots; ALTER TABLE vms DROP COLUMN marks; ALTER TABLE vms DROP COLUMN current_snapshot; PRAGMA user_version = 3;');
    db.prepare("INSERT INTO vms (id, name, status, disks, created_at) VALUES ('v1', 'old', 'down', '[]', '2026-01-01T00:00:00.000Z')").run();
    db.close();
    db = openDb(DEFAULT_DATABASE, dir);
    try {
      expect((db as SqliteDb).raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(db.prepare('SELECT marks, current_snapshot FROM vms').all()).toEqual([{ marks: null, current_snapshot: null }]);
      expect(db.prepare("SELECT tbl, n FROM row_counts ORDER BY tbl").all()).toEqual([{ tbl: 'pools', n: 0 }, { tbl: 'templates', n: 0 }, { tbl: 'vms', n: 1 }]); // counted by the migration
      db.prepare("INSERT INTO vm_snapshots (vm_id, name, description, created_at) VALUES ('v1', 's', '', 'now')").run();
      db.prepare("DELETE FROM vms WHERE id = 'v1'").run(); // a VM's snapshot rows go with it
      expect(db.prepare('SELECT count(*) AS n FROM vm_snapshots').get()).toEqual({ n: 0 });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
