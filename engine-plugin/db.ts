// The engine's database (`[engine] database`): SQLite, one file under the data dir (the
// default), or PostgreSQL (docs/engine.md). Opened once by the composition root (engine.ts),
// brought to the current schema (store/schema.ts), and injected as `Db`.
import * as path from 'node:path';
import { isPostgresUrl, redactUrl } from './store/databaseUrl';
import { migrationSql, MIGRATIONS } from './store/schema';
import type { SqlDb, Statement } from './store/SqlDb';
import { openSqlite } from './store/sqlite';

export type Db = SqlDb;
export const Db = Symbol('Db');

/** The prepared statement for `text` on `db` (each database prepares a text once). */
export function sql(db: Db, text: string): Statement {
  return db.prepare(text);
}

/**
 * The database at `url`, migrated to the current schema. `onLost` is called once if the
 * connection to a database server goes (PostgreSQL; a SQLite file cannot go).
 */
export function openDb(url: string, dataDir: string, onLost?: (err: Error) => void): Db {
  let db: Db;
  if (isPostgresUrl(url)) {
    // Loaded only when configured: a SQLite engine needs no libpq.
    const { PostgresDb } = require('./store/postgres') as typeof import('./store/postgres');
    db = new PostgresDb(url, onLost);
  } else if (url.startsWith('sqlite:')) {
    db = openSqlite(path.resolve(dataDir, url.slice('sqlite:'.length)));
  } else {
    throw new Error(`database ${redactUrl(url)}: expected sqlite:PATH or postgresql://...`);
  }
  db.migrate(MIGRATIONS.map((m) => migrationSql(m, db.dialect)));
  return db;
}
