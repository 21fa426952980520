// SqlDb on SQLite (better-sqlite3): one file, WAL mode, so readers (the API) never wait for
// the dispatcher's writes. The default for a single machine.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Dialect, SqlDb, Statement } from './SqlDb';

export const SQLITE: Dialect = {
  name: 'sqlite',
  jsonArrayLength: (c) => `json_array_length(${c})`,
  jsonMember: (c, key) => `json_extract(${c}, '$.${key}')`,
  jsonStrings: (p) => `SELECT value FROM json_each(${p})`,
  greatest: (a, b) => `max(${a}, ${b})`,
  indexedBy: (index) => `INDEXED BY ${index}`,
  analyze: () => undefined,
  identityAfter: () => undefined,
};

class SqliteStatement implements Statement {
  private plucked?: SqliteStatement;
  constructor(private readonly st: Database.Statement, private readonly first = false) {}
  run(...params: unknown[]) {
    return { changes: this.st.run(...params).changes };
  }
  get(...params: unknown[]) {
    return this.st.get(...params);
  }
  all(...params: unknown[]) {
    return this.st.all(...params);
  }
  pluck(): Statement {
    if (this.first) return this;
    // better-sqlite3's pluck() changes the statement itself: the plucking twin is its own.
    return (this.plucked ??= new SqliteStatement(this.st.database.prepare(this.st.source).pluck(), true));
  }
}

export class SqliteDb implements SqlDb {
  readonly dialect = SQLITE;
  private readonly statements = new Map<string, SqliteStatement>();
  constructor(readonly raw: Database.Database, readonly location: string) {}

  prepare(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = new SqliteStatement(this.raw.prepare(sql))));
    return st;
  }
  exec(sql: string): void {
    this.raw.exec(sql);
  }
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T {
    return this.raw.transaction(fn) as unknown as (...args: A) => T;
  }
  migrate(migrations: readonly string[]): void {
    // BEGIN IMMEDIATE: a second engine on the same file waits, then finds the new number.
    const step = this.raw.transaction(() => {
      const version = this.raw.pragma('user_version', { simple: true }) as number;
      if (version >= migrations.length) return false;
      this.raw.exec(migrations[version]);
      this.raw.pragma(`user_version = ${version + 1}`);
      return true;
    }).immediate;
    while (step());
  }
  close(): void {
    this.raw.close();
  }
}

/** The database file (created with its directory, 0700) in WAL mode. */
export function openSqlite(file: string): SqliteDb {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  return new SqliteDb(raw, file);
}
