// SqlDb on PostgreSQL through libpq's blocking calls (pg-native, decision 63): one
// connection per engine, each SQL text prepared once on it. Several engines may share the
// database (a standby engine); what must be exclusive takes a lock in the database.
//
// Values: INTEGER columns and counts come back as numbers (bigint and numeric parsed as
// Number: every count and seq here is far below 2^53), TEXT as strings. TEXT columns are
// made with the "C" collation (store/schema.ts), so ORDER BY and id ranges sort bytewise,
// as SQLite does.
import Client from 'pg-native';
import * as pgTypes from 'pg-types';
import { UnavailableError } from '../../shared/errors';
import { redactUrl } from './databaseUrl';
import { numberParameters } from './placeholders';
import type { Dialect, SqlDb, Statement } from './SqlDb';

export const POSTGRESQL: Dialect = {
  name: 'postgresql',
  jsonArrayLength: (c) => `jsonb_array_length(${c}::jsonb)`,
  jsonMember: (c, key) => `((${c}::jsonb) -> '${key}')::text`,
  jsonStrings: (p) => `SELECT jsonb_array_elements_text(${p}::jsonb)`,
  greatest: (a, b) => `greatest(${a}, ${b})`,
  indexedBy: () => '',
  analyze: (table) => `ANALYZE ${table}`,
  identityAfter: (table, column) =>
    `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), (SELECT coalesce(max(${column}), 0) + 1 FROM ${table}), false)`,
};

/** The advisory lock migrations take (any number no other lock of the database uses). */
const MIGRATION_LOCK = 0x6f767301;
/** PQtransactionStatus's PQTRANS_UNKNOWN: the connection is bad (the server went away). */
const CONNECTION_BAD = 4;
const INT8 = 20;
const NUMERIC = 1700;
const TYPES = { getTypeParser: (oid: number, format?: string) => (oid === INT8 || oid === NUMERIC ? Number : pgTypes.getTypeParser(oid, format as 'text')) };

/** A parameter as libpq takes it: text or NULL. */
function pgValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

class PgStatement implements Statement {
  private plucked?: PgStatement;
  constructor(
    private readonly db: PostgresDb,
    readonly name: string,
    readonly names: string[] | null,
    private readonly first = false,
  ) {}
  private values(params: unknown[]): (string | null)[] {
    if (!this.names) return params.map(pgValue);
    const named = (params[0] ?? {}) as Record<string, unknown>;
    return this.names.map((n) => {
      if (!(n in named)) throw new Error(`missing named parameter @${n}`);
      return pgValue(named[n]);
    });
  }
  run(...params: unknown[]) {
    return { changes: this.db.execute(this, this.values(params)).changes };
  }
  get(...params: unknown[]) {
    return this.shape(this.db.execute(this, this.values(params)).rows)[0];
  }
  all(...params: unknown[]) {
    return this.shape(this.db.execute(this, this.values(params)).rows);
  }
  pluck(): Statement {
    if (this.first) return this;
    return (this.plucked ??= new PgStatement(this.db, this.name, this.names, true));
  }
  private shape(rows: Record<string, unknown>[]): any[] {
    return this.first ? rows.map((r) => r[Object.keys(r)[0]]) : rows;
  }
}

export class PostgresDb implements SqlDb {
  readonly dialect = POSTGRESQL;
  private readonly client = new Client({ types: TYPES });
  private readonly statements = new Map<string, PgStatement>();
  private depth = 0;
  private lost?: UnavailableError;

  /**
   * `onLost` is called once, when a call finds the connection gone (a server restart, a
   * terminated session). libpq does not connect again by itself, and a new session would
   * not hold this one's locks: the engine stops there and its service manager starts it
   * again (engine.ts). Each call after that fails with the same 503 DATABASE_UNAVAILABLE.
   */
  constructor(
    private readonly url: string,
    private readonly onLost: (err: UnavailableError) => void = () => undefined,
  ) {
    this.location = redactUrl(url);
    this.client.connectSync(url);
    // Notices (`CREATE ... IF NOT EXISTS` skipping) would go to stderr: libpq prints them.
    this.call(() => this.client.querySync('SET client_min_messages = warning'));
  }
  readonly location: string;

  /** A libpq call; a failure because the connection is gone becomes DATABASE_UNAVAILABLE. */
  private call<T>(fn: () => T): T {
    if (this.lost) throw this.lost;
    try {
      return fn();
    } catch (err) {
      if (this.client.pq.transactionStatus() !== CONNECTION_BAD) throw err;
      const why = (err as Error).message.split('\n')[0].trim();
      this.lost = new UnavailableError('DATABASE_UNAVAILABLE', `the connection to the database was lost (${why})`, { database: this.location });
      this.onLost(this.lost);
      throw this.lost;
    }
  }

  prepare(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      const { text, names, count } = numberParameters(sql);
      const name = `s${this.statements.size + 1}`;
      this.call(() => this.client.prepareSync(name, text, count));
      this.statements.set(sql, (st = new PgStatement(this, name, names)));
    }
    return st;
  }

  /** Runs a prepared statement: its rows and how many rows it changed. */
  execute(st: PgStatement, values: (string | null)[]): { rows: Record<string, unknown>[]; changes: number } {
    return this.call(() => {
      const rows = this.client.executeSync(st.name, values) as Record<string, unknown>[];
      return { rows, changes: Number.parseInt(this.client.pq.cmdTuples(), 10) || 0 };
    });
  }

  exec(sql: string): void {
    this.call(() => this.client.querySync(sql));
  }

  /** Rows of a statement run once (not prepared): locks, settings. */
  query(sql: string, values: unknown[] = []): Record<string, unknown>[] {
    return this.call(() => this.client.querySync(numberParameters(sql).text, values.map(pgValue)) as Record<string, unknown>[]);
  }

  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T {
    return (...args: A): T => {
      const savepoint = this.depth > 0 ? `sp${this.depth}` : null;
      this.exec(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN');
      this.depth++;
      try {
        const result = fn(...args);
        this.depth--;
        this.exec(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
        return result;
      } catch (err) {
        this.depth--;
        this.exec(savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}` : 'ROLLBACK');
        throw err;
      }
    };
  }

  migrate(migrations: readonly string[]): void {
    const step = this.transaction(() => {
      // Held to the end of the transaction: a second engine waits, then finds the new number.
      this.query('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
      this.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const version = Number(this.query('SELECT max(version) AS v FROM schema_version')[0]?.v ?? 0);
      if (version >= migrations.length) return false;
      this.exec(migrations[version]);
      this.query('INSERT INTO schema_version (version) VALUES (?)', [version + 1]);
      return true;
    });
    while (step());
  }
  close(): void {
    this.client.end();
    // libpq's binding closes its socket watcher asynchronously, in the memory of the
    // client's native object: were that object collected before the event loop's close
    // phase, libuv would read freed memory (seen in the tests, which open and close
    // hundreds of engines in one process: "uv__finish_close: Assertion ... failed",
    // abort). A closed client stays referenced for the life of the process, from the
    // binding's own class, which every module registry of the process shares; an engine
    // closes its database once, at stop.
    const binding = this.client.pq.constructor as { retiredClients?: unknown[] };
    (binding.retiredClients ??= []).push(this.client);
  }
}
