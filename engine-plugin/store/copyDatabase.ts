// Copies an engine's database into a new, empty one (`ovirt-sysprep-engine
// --copy-database-to URL`, docs/postgresql.md "Moving from SQLite"): the single-machine
// SQLite file into PostgreSQL, or back. Both are brought to the current schema first
// (db.ts openDb), so the copy is row for row, table by table, parents before children, in
// one transaction on the target: all or nothing. Stop the engine first: the copy reads the
// source as it is.
//
// Not copied: the schema's version (the target has its own) and the leader's address (the
// next leader writes its own). Job secrets are never stored, so none travel: jobs still
// queued when the engine stopped fail SECRETS_LOST on the new database, as after a restart.
import { ConflictError } from '../../shared/errors';
import { RowsInsert } from './rowsInsert';
import type { SqlDb } from './SqlDb';

/**
 * Every table the engine keeps, in the order the copy fills them (foreign keys), each with
 * its primary key: the source is read in pages in that order, each after the last key.
 */
export const COPIED_TABLES = [
  { table: 'hosts', key: 'id' },
  { table: 'templates', key: 'id' },
  { table: 'pools', key: 'id' },
  { table: 'vms', key: 'id' },
  { table: 'profiles', key: 'name' },
  { table: 'jobs', key: 'seq' },
  { table: 'disk_owners', key: 'path' },
  { table: 'vm_snapshots', key: 'vm_id, name' },
  { table: 'inspections', key: 'target_key' },
  { table: 'ovirt_state', key: 'key' },
  { table: 'ovirt_jobs', key: 'engine_job_id' },
  { table: 'ovirt_pending', key: 'vm_id' },
  { table: 'row_counts', key: 'tbl' },
] as const;
/** Tables of the schema that are not copied (see above). */
export const NOT_COPIED = ['schema_version', 'engine_leader'] as const;
/** Columns filled from a sequence: the target's sequence goes on after the copied values. */
const IDENTITIES = [{ table: 'jobs', column: 'seq' }] as const;
/** Tables the migrations fill themselves (row_counts' zeros): replaced by the source's rows. */
const FILLED_BY_MIGRATIONS = new Set<string>(['row_counts']);
/** Rows per read of the source, so a long job history is not held in memory at once. */
const PAGE = 2000;

export interface CopiedTable {
  table: string;
  rows: number;
}

/** Copies every row of `from` into `to`, which must hold none; `progress` hears each table. */
export function copyDatabase(from: SqlDb, to: SqlDb, progress: (t: CopiedTable) => void = () => undefined, page = PAGE): CopiedTable[] {
  for (const { table } of COPIED_TABLES) {
    if (FILLED_BY_MIGRATIONS.has(table)) continue;
    const n = Number(to.prepare(`SELECT count(*) AS n FROM ${table}`).get().n);
    if (n > 0) {
      throw new ConflictError('DATABASE_NOT_EMPTY', `${to.location} already holds ${n} row(s) in ${table}: copy into a new, empty database`, { table, rows: n });
    }
  }
  const copied: CopiedTable[] = [];
  // Read in one transaction, written in one: a failure leaves the target as it was.
  from.transaction(() => to.transaction(() => {
    for (const { table, key } of COPIED_TABLES) {
      if (FILLED_BY_MIGRATIONS.has(table)) to.exec(`DELETE FROM ${table}`);
      const rows = copyTable(from, to, table, key, page);
      copied.push({ table, rows });
      progress({ table, rows });
    }
    for (const { table, column } of IDENTITIES) {
      const restart = to.dialect.identityAfter(table, column);
      if (restart) to.prepare(restart).all();
    }
  })())();
  for (const { table } of COPIED_TABLES) {
    const analyze = to.dialect.analyze(table);
    if (analyze) to.exec(analyze);
  }
  return copied;
}

/** Copies `table` in pages ordered by its primary key, each page after the last one's key. */
function copyTable(from: SqlDb, to: SqlDb, table: string, key: string, page: number): number {
  const keys = key.split(', ');
  const first = from.prepare(`SELECT * FROM ${table} ORDER BY ${key} LIMIT ?`);
  const next = from.prepare(`SELECT * FROM ${table} WHERE (${key}) > (${keys.map(() => '?').join(', ')}) ORDER BY ${key} LIMIT ?`);
  let insert: RowsInsert | undefined;
  let columns: string[] = [];
  let count = 0;
  for (let last: Record<string, unknown> | undefined; ; ) {
    const rows = (last ? next.all(...keys.map((k) => last![k]), page) : first.all(page)) as Record<string, unknown>[];
    if (rows.length > 0 && !insert) insert = new RowsInsert(to, table, (columns = Object.keys(rows[0])));
    insert?.run(rows.map((r) => columns.map((c) => r[c])));
    count += rows.length;
    if (rows.length < page) return count;
    last = rows[rows.length - 1];
  }
}
