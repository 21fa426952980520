// Write-behind of the job store's frequent small updates (dispatch marks, progress,
// final states, bulk aggregates). The latest write of each kind per row waits here; a
// timer writes them all in one transaction, and a read first writes those of the rows
// it reads, so every reader sees what was written.
//
// Rows are grouped by scope: a bulk job's id for its children, '' for top-level jobs.
// A read names its rows or its scope (the job list: the top-level rows; a page of
// children: those children), so polling the job list or the first page of a 5,000-VM
// pool does not write the whole pool each time. A row's writes keep their order.
//
// A write that fails (the database locked past its busy timeout by another process, a
// full disk) loses nothing: its rows go back in the queue, unless newer writes of the
// same kind came since, and the timer tries again. From the timer the error is reported
// (onError), never thrown: a locked database must not stop the engine.
import type { Db } from '../db';
import type { Statement } from '../store/SqlDb';

export const TOP_SCOPE = '';

/** Rows per transaction when the timer writes (drain). */
const DRAIN_ROWS = 100;

interface PendingWrite {
  st: Statement;
  args: unknown[];
}

interface PendingRow {
  scope: string;
  /** kind -> its latest write, in the order the kinds were last written. */
  writes: Map<string, PendingWrite>;
}

export class WriteBehind {
  private readonly rows = new Map<string, PendingRow>();
  private readonly scopes = new Map<string, Set<string>>();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly delayMs: number,
    private readonly onError: (err: unknown, rows: number) => void = () => undefined,
  ) {}

  private arm(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.drain([...this.rows.keys()]);
    }, this.delayMs).unref();
  }

  /**
   * The timer's write of the rows that were waiting when it fired: DRAIN_ROWS rows per
   * transaction, giving way to I/O in between. On PostgreSQL each write is a round trip:
   * a second's writes of a busy pool in one go held the event loop for tens of ms, and the
   * API requests behind it. Rows written meanwhile by a read are skipped; rows that come
   * meanwhile wait for the next timer. A failed write stops the drain: its rows wait again.
   */
  private drain(due: string[]): void {
    try {
      this.write(due.splice(0, DRAIN_ROWS));
    } catch (err) {
      this.onError(err, this.rows.size);
      return;
    }
    if (due.length && !this.closed) setImmediate(() => this.drain(due)).unref();
  }

  /** Queues the latest `kind` write of `row` (it replaces an earlier one, and moves last). */
  later(row: string, scope: string, kind: string, st: Statement, args: unknown[]): void {
    if (this.closed) return;
    let pending = this.rows.get(row);
    if (!pending) {
      this.rows.set(row, (pending = { scope, writes: new Map() }));
      let members = this.scopes.get(scope);
      if (!members) this.scopes.set(scope, (members = new Set()));
      members.add(row);
    }
    pending.writes.delete(kind);
    pending.writes.set(kind, { st, args });
    this.arm();
  }

  /** The arguments of the `kind` write of `row` still waiting, if any. */
  pending(row: string, kind: string): unknown[] | undefined {
    return this.rows.get(row)?.writes.get(kind)?.args;
  }

  /** Whether any row of `scope` has writes waiting. */
  hasScope(scope: string): boolean {
    return this.scopes.has(scope);
  }

  /** Forgets waiting writes of `row` that a later one makes useless. */
  drop(row: string, ...kinds: string[]): void {
    const pending = this.rows.get(row);
    for (const k of kinds) pending?.writes.delete(k);
  }

  /**
   * Writes what waits for these rows, in one transaction, before they are read. If that
   * fails (the database locked), the writes wait on and the read sees what is stored: a
   * reader is answered, a little behind, rather than failed. `strict`: before a direct
   * write that must follow them, the failure is thrown.
   */
  flushRows(rows: Iterable<string>, strict = false): void {
    const picked: string[] = [];
    for (const row of rows) if (this.rows.has(row)) picked.push(row);
    this.writeForRead(picked, strict);
  }

  /** Writes what waits for the rows of these scopes, in one transaction (as flushRows). */
  flushScopes(scopes: string[]): void {
    this.writeForRead(scopes.flatMap((s) => [...(this.scopes.get(s) ?? [])]), false);
  }

  /** Writes what waits for the rows of `scope` that have a `kind` write waiting (as flushRows). */
  flushScopeKind(scope: string, kind: string): void {
    const rows = [...(this.scopes.get(scope) ?? [])].filter((r) => this.rows.get(r)?.writes.has(kind));
    if (rows.length) this.writeForRead(rows, false);
  }

  private writeForRead(rows: string[], strict: boolean): void {
    try {
      this.write(rows);
    } catch (err) {
      if (strict) throw err;
      this.onError(err, this.rows.size);
    }
  }

  flushAll(): void {
    this.write([...this.rows.keys()]);
  }

  /** The last writes, then nothing more (the database closes next). */
  close(): void {
    this.flushAll();
    this.closed = true;
  }

  private write(rows: string[]): void {
    const taken: [string, PendingRow][] = [];
    for (const row of rows) {
      const pending = this.rows.get(row);
      if (!pending) continue;
      this.rows.delete(row);
      const members = this.scopes.get(pending.scope)!;
      members.delete(row);
      if (members.size === 0) this.scopes.delete(pending.scope);
      taken.push([row, pending]);
    }
    if (this.rows.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (taken.length === 0 || this.closed) return;
    try {
      this.db.transaction(() => {
        for (const [, pending] of taken) for (const w of pending.writes.values()) w.st.run(...w.args);
      })();
    } catch (err) {
      this.putBack(taken);
      throw err;
    }
  }

  /** Rows whose write failed wait again (behind any newer write of the same kind), and the timer is armed. */
  private putBack(taken: [string, PendingRow][]): void {
    for (const [row, failed] of taken) {
      for (const [kind, w] of failed.writes) {
        if (this.rows.get(row)?.writes.has(kind)) continue;
        this.later(row, failed.scope, kind, w.st, w.args);
      }
    }
    this.arm();
  }
}
