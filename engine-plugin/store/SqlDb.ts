// The engine's database, whichever it is (`[engine] database`): SQLite (one file under the
// data dir, the single-machine default) or PostgreSQL (production, a standby engine).
// The stores (jobs, inventory, profiles, inspections, oVirt state) use this port only.
//
// It is synchronous on purpose (decision 63): the engine is one event loop and its stores
// rely on a read-check-write being atomic between two awaits (a VM is in one job at a
// time, a disk has one owner). SQLite is synchronous by nature; PostgreSQL is reached
// through libpq's blocking calls (pg-native), a local round trip of 60-80 us measured here,
// and the job store's frequent writes are batched (jobs/WriteBehind.ts).
//
// SQL is written once for both, in the common subset: `?` or `@name` parameters,
// `INSERT ... ON CONFLICT`, TEXT and INTEGER columns. What the two spell differently goes
// through the Dialect (JSON functions, the two-argument max, index hints).

/** A prepared statement (prepared once per SQL text and connection). */
export interface Statement<Row = any> {
  /** Writes: how many rows changed. */
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
  /** The same statement giving each row's first column. */
  pluck(): Statement;
}

/** The few spellings SQLite and PostgreSQL do not share. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgresql';
  /** The number of elements of a JSON array held in a TEXT column (NULL for NULL). */
  jsonArrayLength(column: string): string;
  /** A top-level member of a JSON object held in a TEXT column, as JSON text (NULL when absent). */
  jsonMember(column: string, key: string): string;
  /** A subquery of the strings of a JSON array given as one parameter (`?`). */
  jsonStrings(param: string): string;
  /** The larger of two values (SQLite's two-argument max). */
  greatest(a: string, b: string): string;
  /** A hint naming the index to read (`INDEXED BY`); nothing where the planner takes no hint. */
  indexedBy(index: string): string;
  /** The statement that brings the planner's statistics of `table` up to date, where the
   *  planner uses them (PostgreSQL's ANALYZE); undefined where it plans without (SQLite
   *  keeps none unless asked). */
  analyze(table: string): string | undefined;
  /** After rows were inserted with their own values of an identity column: the statement
   *  that makes the next generated value follow them (PostgreSQL's sequence; undefined
   *  where the database follows by itself, as SQLite's AUTOINCREMENT does). */
  identityAfter(table: string, column: string): string | undefined;
}

export interface SqlDb {
  readonly dialect: Dialect;
  /** Where it is, for messages (no password). */
  readonly location: string;
  prepare<Row = any>(sql: string): Statement<Row>;
  /** Statements without parameters (DDL), separated by `;`. */
  exec(sql: string): void;
  /** `fn` wrapped in one transaction (nested calls become savepoints), as better-sqlite3's. */
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T;
  /**
   * Brings the schema to `migrations.length`: each migration not yet applied (by its
   * number) in one transaction with the new number, in order. Two engines starting at once
   * on one database apply each migration once.
   */
  migrate(migrations: readonly string[]): void;
  close(): void;
}
