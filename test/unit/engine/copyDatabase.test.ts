// `--copy-database-to` (engine-plugin/store/copyDatabase.ts; docs/postgresql.md "Moving
// from SQLite"): a real engine (FAKE agents) fills its database through the API, stops,
// and its database is copied into the other kind (SQLite into a real PostgreSQL server this
// test starts; in the engine-pg project, PostgreSQL into a SQLite file). Every table's rows
// are then equal on both sides, the engine started on the copy answers as before, new jobs
// follow the copied ones, and a second copy into the same database is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Db, openDb } from '../../../engine-plugin/db';
import { COPIED_TABLES, copyDatabase, NOT_COPIED } from '../../../engine-plugin/store/copyDatabase';
import { startPostgres, TestPostgres } from '../../helpers/postgres';
import { harness, Harness } from './harness';

jest.setTimeout(120_000);

describe('copying the engine database into the other kind', () => {
  let h: Harness;
  let pg: TestPostgres | undefined;
  let dir: string;
  let source: string;
  let target: string;
  beforeAll(async () => {
    h = await harness({ config: { autoReset: { clone: { enabled: false, profile: 'clone-reset' }, import: { enabled: false, profile: 'clone-reset' }, pool: { enabled: false, profile: 'clone-reset' } } } });
    dir = mkdtempSync(path.join(os.tmpdir(), 'copydb-'));
    source = h.engine.config.database;
    if (source.startsWith('sqlite:')) {
      pg = await startPostgres();
      target = await pg.createDatabase('copy');
    } else {
      target = `sqlite:${path.join(dir, 'copy.db')}`;
    }
  });
  afterAll(async () => {
    await h?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (url: string) => openDb(url, h.engine.config.dataDir);
  const rowsOf = (db: Db) => Object.fromEntries(COPIED_TABLES.map(({ table, key }) => [table, db.prepare(`SELECT * FROM ${table} ORDER BY ${key}`).all()]));

  it('copies every row; the engine on the copy answers as before; a new job follows the copied ones', async () => {
    expect((await h.api('POST', '/templates', { name: 'cp-tpl', disks: [{ path: h.image('cp-tpl.qcow2') }] })).status).toBe(201);
    expect((await h.api('POST', '/vms', { name: 'cp-vm', template: 'cp-tpl' })).status).toBe(201);
    expect((await h.api('POST', '/pools', { name: 'cp-pool', template: 'cp-tpl', size: 3 })).status).toBe(201);
    expect((await h.api('PUT', '/profiles/cp-profile', { description: 'copied', operations: { only: ['machine-id'] } })).status).toBe(201);
    const job = await h.api('POST', '/vms/cp-vm/sysprep', { operations: { only: ['machine-id', 'ssh-hostkeys'] }, params: { hostname: 'cp-1' } });
    expect(job.status).toBe(202);
    await h.waitJob(job.body.job.id);
    for (const name of ['a', 'b', 'c']) expect((await h.api('POST', '/vms/cp-vm/snapshots', { name })).status).toBe(201);
    const bulk = await h.api('POST', '/pools/cp-pool/sysprep', { profile: 'cp-profile' });
    expect(bulk.status).toBe(202);
    await h.waitJob(bulk.body.job.id);
    const before = { vms: (await h.api('GET', '/vms')).body, job: (await h.api('GET', `/jobs/${job.body.job.id}`)).body, bulk: (await h.api('GET', `/jobs/${bulk.body.job.id}/children`)).body };

    let copied: { table: string; rows: number }[] = [];
    await h.restart({ database: target }, () => {
      const [from, to] = [open(source), open(target)];
      try {
        copied = copyDatabase(from, to, undefined, 2); // pages of 2 rows: most tables take several
        expect(rowsOf(to)).toEqual(rowsOf(from));
      } finally {
        from.close();
        to.close();
      }
    });
    const count = (t: string) => copied.find((c) => c.table === t)?.rows;
    // The VM's job, the pool's and its 3 children; the VM's snapshots (composite key: vm_id, name).
    expect([count('templates'), count('vms'), count('pools'), count('profiles'), count('jobs'), count('vm_snapshots')]).toEqual([1, 4, 1, 1, 5, 3]);

    expect(h.engine.config.database).toBe(target);
    expect((await h.api('GET', '/vms')).body).toEqual(before.vms);
    expect((await h.api('GET', `/jobs/${job.body.job.id}`)).body).toEqual(before.job);
    expect((await h.api('GET', `/jobs/${bulk.body.job.id}/children`)).body).toEqual(before.bulk);
    const again = await h.api('POST', '/vms/cp-vm/sysprep', { profile: 'cp-profile' });
    expect(again.status).toBe(202);
    await h.waitJob(again.body.job.id);
    const db = open(target);
    try {
      const seqs = db.prepare('SELECT id, seq FROM jobs ORDER BY seq').all() as { id: string; seq: number }[];
      expect(seqs.at(-1)?.id).toBe(again.body.job.id); // created after every copied job
    } finally {
      db.close();
    }
  });

  it('refuses a database that holds rows, changing nothing in it', () => {
    const [from, to] = [open(source), open(target)];
    try {
      const rows = rowsOf(to);
      expect(() => copyDatabase(from, to)).toThrow(expect.objectContaining({ code: 'DATABASE_NOT_EMPTY', details: expect.objectContaining({ table: 'hosts' }) }));
      expect(rowsOf(to)).toEqual(rows);
    } finally {
      from.close();
      to.close();
    }
  });

  it('knows every table of the schema: copied, or named as not copied', () => {
    for (const url of [source, target]) {
      const db = open(url);
      try {
        const tables = (db.dialect.name === 'sqlite'
          ? db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all()
          : db.prepare("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").pluck().all()) as string[];
        const known: string[] = [...COPIED_TABLES.map((t) => t.table), ...NOT_COPIED];
        expect(tables.filter((t) => !known.includes(t))).toEqual([]);
        expect(COPIED_TABLES.map((t) => t.table).filter((t) => !tables.includes(t))).toEqual([]);
      } finally {
        db.close();
      }
    }
  });
});
