// The database port (engine-plugin/store/SqlDb.ts) behaves the same on SQLite and on a real
// PostgreSQL server this test starts (test/helpers/postgres.ts): parameters, plucking,
// counts, nested transactions, the dialect's spellings, bytewise order, and migrations
// (each applied once, also by two engines opening one database at once).
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDb } from '../../../../engine-plugin/db';
import { MIGRATIONS } from '../../../../engine-plugin/store/schema';
import type { SqlDb } from '../../../../engine-plugin/store/SqlDb';
import { startPostgres, TestPostgres } from '../../../helpers/postgres';

jest.setTimeout(60_000);

let pg: TestPostgres;
let dir: string;
beforeAll(async () => {
  pg = await startPostgres();
  dir = mkdtempSync(path.join(os.tmpdir(), 'sqldb-'));
});
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const STORES: [string, () => Promise<string>][] = [
  ['SQLite', async () => `sqlite:t${++n}.db`],
  ['PostgreSQL', () => pg.createDatabase('sqldb')],
];

describe.each(STORES)('on %s', (_name, newDatabase) => {
  let db: SqlDb;
  beforeEach(async () => {
    db = openDb(await newDatabase(), dir);
  });
  afterEach(() => db.close());

  it('is at the current schema, with every table', () => {
    for (const t of ['hosts', 'templates', 'pools', 'vms', 'profiles', 'jobs', 'disk_owners', 'vm_snapshots', 'inspections', 'ovirt_state', 'ovirt_jobs', 'ovirt_pending', 'engine_leader']) {
      expect([t, db.prepare(`SELECT count(*) AS n FROM ${t}`).get()]).toEqual([t, { n: 0 }]);
    }
  });

  it('takes ? and @name parameters, plucks, and counts changes', () => {
    const ins = db.prepare('INSERT INTO profiles (name, body, updated_at) VALUES (?, ?, ?)');
    expect(ins.run('b', '{}', 't1')).toEqual({ changes: 1 });
    ins.run('a', '{"x":1}', 't2');
    expect(db.prepare('SELECT name, body FROM profiles WHERE name = @name AND updated_at = @at').get({ at: 't2', name: 'a' })).toEqual({ name: 'a', body: '{"x":1}' });
    expect(db.prepare('SELECT name FROM profiles ORDER BY name').pluck().all()).toEqual(['a', 'b']);
    expect(db.prepare("SELECT count(*) FROM profiles WHERE name <> '?'").pluck().get()).toBe(2);
    expect(db.prepare('SELECT name FROM profiles WHERE name = ?').get('none')).toBeUndefined();
    expect(db.prepare('UPDATE profiles SET body = ? WHERE name IN (?, ?)').run('{}', 'a', 'b')).toEqual({ changes: 2 });
  });

  it('sorts text bytewise, as SQLite does (upper case before lower, é after z)', () => {
    const ins = db.prepare('INSERT INTO profiles (name, body, updated_at) VALUES (?, ?, ?)');
    for (const name of ['b', 'B', 'é', 'a', 'z', 'A-1', 'a_2']) ins.run(name, '{}', 't');
    expect(db.prepare('SELECT name FROM profiles ORDER BY name').pluck().all()).toEqual(['A-1', 'B', 'a', 'a_2', 'b', 'z', 'é']);
  });

  it('rolls a failed transaction back, and a failed nested one only to its savepoint', () => {
    const ins = db.prepare('INSERT INTO profiles (name, body, updated_at) VALUES (?, ?, ?)');
    expect(() => db.transaction(() => {
      ins.run('x', '{}', 't');
      ins.run('x', '{}', 't'); // primary key
    })()).toThrow();
    expect(db.prepare('SELECT count(*) FROM profiles').pluck().get()).toBe(0);
    const outer = db.transaction(() => {
      ins.run('kept', '{}', 't');
      expect(() => db.transaction(() => { ins.run('gone', '{}', 't'); throw new Error('inner'); })()).toThrow('inner');
      return 'done';
    });
    expect(outer()).toBe('done');
    expect(db.prepare('SELECT name FROM profiles').pluck().all()).toEqual(['kept']);
  });

  it("spells the JSON functions, the two-argument max and the upsert in the dialect's way", () => {
    const d = db.dialect;
    db.prepare(`INSERT INTO jobs (id, kind, target, state, requested_by, request, operations, created_at, progress, steps, warnings, result, agent_seq)
                VALUES (?, 'vm', '{}', 'running', 'me', '{}', '[]', 't', '{}', '[]', ?, ?, 3)`).run('j1', '[{"message":"a"},{"message":"b"}]', '{"batch":{"size":4}}');
    const row = db.prepare(`SELECT ${d.jsonArrayLength('warnings')} AS n, ${d.jsonMember('result', 'batch')} AS batch, ${d.jsonMember('result', 'none')} AS none FROM jobs`).get();
    expect({ ...row, batch: JSON.parse(row.batch) }).toEqual({ n: 2, batch: { size: 4 }, none: null });
    db.prepare(`UPDATE jobs SET agent_seq = ${d.greatest('agent_seq', '?')}`).run(2);
    expect(db.prepare('SELECT agent_seq FROM jobs').pluck().get()).toBe(3);
    db.prepare(`UPDATE jobs SET agent_seq = ${d.greatest('agent_seq', '?')}`).run(9);
    expect(db.prepare('SELECT agent_seq, seq FROM jobs').get()).toEqual({ agent_seq: 9, seq: 1 });
    const upsert = db.prepare('INSERT INTO ovirt_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    upsert.run('k', 'v1');
    upsert.run('k', 'v2');
    expect(db.prepare('SELECT key, value FROM ovirt_state').all()).toEqual([{ key: 'k', value: 'v2' }]);
  });
});

describe('migrations', () => {
  it.each(STORES)('on %s: a second open applies nothing, two engines opening at once apply each once', async (_name, newDatabase) => {
    const url = await newDatabase();
    const both = [openDb(url, dir), openDb(url, dir)];
    both.forEach((db) => db.close());
    const again = openDb(url, dir);
    try {
      const version = again.dialect.name === 'sqlite'
        ? again.prepare('PRAGMA user_version').pluck().get()
        : again.prepare('SELECT max(version) FROM schema_version').pluck().get();
      expect(version).toBe(MIGRATIONS.length);
      if (again.dialect.name === 'postgresql') expect(again.prepare('SELECT count(*) FROM schema_version').pluck().get()).toBe(MIGRATIONS.length);
    } finally {
      again.close();
    }
  });

  it('refuses a database URL it does not know, without the password', () => {
    expect(() => openDb('mysql://u:secret@h/db', dir)).toThrow(/^database mysql:\/\/u:\*\*\*@h\/db: expected/);
  });
});

describe('on PostgreSQL, a lost connection', () => {
  it('fails every later call with 503 DATABASE_UNAVAILABLE and calls onLost once; an SQL error is not a loss', async () => {
    const url = await pg.createDatabase('lost');
    const lost: Error[] = [];
    const db = openDb(url, dir, (err) => lost.push(err));
    const other = openDb(url, dir);
    try {
      const one = db.prepare('SELECT 1 AS one');
      expect(one.get()).toEqual({ one: 1 });
      expect(() => db.exec('SELECT * FROM no_such_table')).toThrow(/no_such_table/);
      expect(lost).toEqual([]);

      other.prepare('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()').all();
      const refused = [() => one.get(), () => db.exec('SELECT 1'), () => db.transaction(() => one.get())(), () => db.prepare('SELECT 2').get()].map((call) => {
        try {
          call();
          return 'answered';
        } catch (err) {
          return err;
        }
      });
      for (const err of refused) {
        expect(err).toMatchObject({ kind: 'unavailable', code: 'DATABASE_UNAVAILABLE', details: { database: expect.stringMatching(/^postgresql:\/\/\/lost_/) } });
        expect((err as Error).message).toMatch(/^the connection to the database was lost \(server closed the connection unexpectedly\)$/);
      }
      expect(lost).toEqual([refused[0]]);
      // The other session goes on.
      expect(other.prepare('SELECT 3 AS three').get()).toEqual({ three: 3 });
    } finally {
      db.close();
      other.close();
    }
  });
});
